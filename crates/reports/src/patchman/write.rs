//! Serialises a [`Report`] the way `patchman-client` sends it: for tests and
//! the load generator. An absent package or repository list is written as
//! the empty field ("unchanged").

use serde_json::{Value, json};

use crate::model::{ClientUpdate, Package, PackageType, Report, Repository};

fn kind(k: PackageType) -> &'static str {
    match k {
        PackageType::Pacman => "arch",
        // Patchman has no apk type; the parsers refuse it as unknown.
        other => other.as_str(),
    }
}

/// The client's `+` -> `%2b` (it sends kernels, and in protocol 2 names and
/// versions, that way).
fn quirk(s: &str) -> String {
    s.replace('+', "%2b")
}

/// Gentoo names are `category/name`; the client sends them apart.
fn gentoo_parts(p: &Package) -> (&str, &str) {
    p.name.split_once('/').unwrap_or(("", &p.name))
}

fn tags(report: &Report) -> Vec<String> {
    if report.tags.is_empty() {
        vec!["Default".to_owned()]
    } else {
        report.tags.clone()
    }
}

fn package_line(p: &Package) -> String {
    if p.kind == PackageType::Gentoo {
        let (category, name) = gentoo_parts(p);
        return format!(
            "'{name}' '' '{}' '' '{}' 'gentoo' '{category}' ''",
            p.version, p.arch
        );
    }
    format!(
        "'{}' '{}' '{}' '{}' '{}' '{}'",
        p.name,
        p.epoch,
        p.version,
        p.release,
        p.arch,
        kind(p.kind)
    )
}

fn repo_line(r: &Repository) -> String {
    let priority = r.priority.map(|p| p.to_string()).unwrap_or_default();
    let urls: Vec<String> = r.urls.iter().map(|u| format!("'{u}'")).collect();
    let urls = urls.join(" ");
    match r.kind {
        PackageType::Deb => format!("'deb' '{}' '{priority}' {urls}", r.name),
        PackageType::Pacman => format!("'arch' '{}' '{}' {urls}", r.name, r.id),
        other => format!(
            "'{}' '{}' '{}' '{priority}' {urls}",
            kind(other),
            r.name,
            r.id
        ),
    }
}

fn lines<T>(items: Option<&[T]>, line: fn(&T) -> String) -> String {
    let mut out = String::new();
    for item in items.unwrap_or_default() {
        out.push_str(&line(item));
        out.push('\n');
    }
    out
}

fn triple(u: &ClientUpdate) -> String {
    let name = if u.arch.is_empty() {
        u.name.clone()
    } else {
        format!("{}.{}", u.name, u.arch)
    };
    format!("{name} {} {}", u.version, u.repo)
}

/// The fields of a protocol 1 post, in the client's order. `bug_updates`
/// repeat the security updates, as the client does.
pub fn to_v1_fields(report: &Report, wants_summary: bool) -> Vec<(String, String)> {
    let security: Vec<String> = report
        .updates
        .iter()
        .filter(|u| u.security)
        .map(triple)
        .collect();
    let all: Vec<String> = report.updates.iter().map(triple).collect();
    [
        ("host", report.hostname.clone()),
        ("tags", tags(report).join(",")),
        ("kernel", quirk(&report.kernel.release)),
        ("arch", report.arch.clone()),
        ("protocol", "1".to_owned()),
        ("os", os(report)),
        ("report", wants_summary.to_string()),
        (
            "reboot",
            if report.reboot.required == Some(true) {
                "True"
            } else {
                "ServerCheck"
            }
            .to_owned(),
        ),
        ("packages", lines(report.packages.as_deref(), package_line)),
        ("repos", lines(report.repositories.as_deref(), repo_line)),
        ("sec_updates", security.join(" ")),
        ("bug_updates", all.join(" ")),
        ("modules", String::new()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn os(report: &Report) -> String {
    if !report.os_string.is_empty() {
        return report.os_string.clone();
    }
    if !report.os.pretty_name.is_empty() {
        return report.os.pretty_name.clone();
    }
    format!("{} {}", report.os.id, report.os.version_id)
        .trim()
        .to_owned()
}

/// A protocol 2 JSON body.
pub fn to_v2_json(report: &Report) -> Vec<u8> {
    let packages: Vec<Value> = report
        .packages
        .iter()
        .flatten()
        .map(|p| {
            let (category, name) = if p.kind == PackageType::Gentoo {
                gentoo_parts(p)
            } else {
                ("", p.name.as_str())
            };
            json!({
                "name": quirk(name), "epoch": p.epoch, "version": quirk(&p.version),
                "release": quirk(&p.release), "arch": p.arch, "type": kind(p.kind),
                "category": category, "repo": "",
            })
        })
        .collect();
    let repos: Vec<Value> = report
        .repositories
        .iter()
        .flatten()
        .map(|r| {
            json!({"type": kind(r.kind), "name": r.name, "id": r.id,
                   "priority": r.priority, "urls": r.urls})
        })
        .collect();
    let update = |u: &ClientUpdate| {
        json!({"name": quirk(&u.name), "version": quirk(&u.version), "arch": u.arch,
               "repo": u.repo})
    };
    let body = json!({
        "protocol": 2,
        "hostname": report.hostname,
        "arch": report.arch,
        "kernel": report.kernel.release,
        "os": os(report),
        "tags": tags(report),
        "reboot_required": report.reboot.required,
        "packages": packages,
        "repos": repos,
        "modules": [],
        "sec_updates": report.updates.iter().filter(|u| u.security).map(update).collect::<Vec<_>>(),
        "bug_updates": report.updates.iter().map(update).collect::<Vec<_>>(),
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patchman::{parse_v1, parse_v2};
    use crate::{Protocol, RebootHint};

    fn sample() -> Report {
        let mut r = Report::new(Protocol::Native, "web1.example.com");
        r.tags = vec!["Server".into(), "dmz".into()];
        r.os_string = "Debian 12.5".into();
        r.kernel.release = "6.1.0-18+rt-amd64".into();
        r.arch = "x86_64".into();
        let deb = |name: &str, full: &str| {
            let (epoch, version, release) = Package::split_evr(PackageType::Deb, full);
            Package {
                name: name.into(),
                epoch,
                version,
                release,
                arch: "amd64".into(),
                kind: PackageType::Deb,
                source_name: String::new(),
                source_version: String::new(),
            }
        };
        r.packages = Some(vec![
            deb("bash", "5.2.15-2+b7"),
            deb("vim", "2:9.0.1378-2"),
            deb("libstdc++6", "12.2.0-14"),
        ]);
        r.repositories = Some(vec![Repository {
            kind: PackageType::Deb,
            name: "Debian 12 amd64 repo".into(),
            id: String::new(),
            priority: Some(500),
            urls: vec!["http://deb.debian.org/debian/dists/bookworm/main/binary-amd64".into()],
            ..Repository::new(PackageType::Deb)
        }]);
        r.updates = vec![ClientUpdate {
            name: "openssl".into(),
            version: "3.0.13-1".into(),
            arch: "amd64".into(),
            repo: "security".into(),
            security: true,
        }];
        r.reboot = RebootHint {
            required: Some(true),
            reasons: Vec::new(),
        };
        r
    }

    fn same(a: &Report, b: &Report) {
        assert_eq!(a.hostname, b.hostname);
        assert_eq!(a.packages, b.packages);
        assert_eq!(a.repositories, b.repositories);
        assert_eq!(a.updates, b.updates);
        assert_eq!(a.tags, b.tags);
        assert_eq!(a.kernel.release, b.kernel.release);
        assert_eq!(a.reboot.required, b.reboot.required);
    }

    #[test]
    fn v1_round_trips() {
        let r = sample();
        let fields = to_v1_fields(&r, true);
        assert!(
            fields
                .iter()
                .any(|(k, v)| k == "kernel" && v == "6.1.0-18%2brt-amd64")
        );
        let (back, summary) = parse_v1(&fields).unwrap();
        assert!(summary);
        same(&r, &back);
        // Unchanged lists stay unchanged.
        let mut hook = r.clone();
        hook.packages = None;
        hook.repositories = None;
        let (back, _) = parse_v1(&to_v1_fields(&hook, false)).unwrap();
        assert_eq!((back.packages, back.repositories), (None, None));
    }

    #[test]
    fn v2_round_trips() {
        let r = sample();
        let body = to_v2_json(&r);
        assert!(String::from_utf8_lossy(&body).contains("2%2bb7"));
        same(&r, &parse_v2(&body).unwrap());
    }
}
