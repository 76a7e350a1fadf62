//! Serialises a [`Report`] the way the Pakiti clients send it: for tests and
//! the load generator, which must speak exactly what real hosts send.

use std::fmt::Write as _;

use super::Mode;
use crate::model::{Package, PackageType, Report};

/// The packager `pakiti-client` names for the report's packages (`dpkg`
/// for Debian: the tool rather than the format).
fn packager(report: &Report) -> &'static str {
    match report.packages.iter().flatten().next().map(|p| p.kind) {
        Some(PackageType::Deb) => "dpkg",
        Some(PackageType::Apk) => "apk",
        Some(PackageType::Pacman) => "pacman",
        // Pakiti has no Gentoo packager; the server refuses it as unknown.
        Some(PackageType::Gentoo) => "gentoo",
        Some(PackageType::Rpm) | None => "rpm",
    }
}

/// The one OS string Pakiti sends: the report's own, else os-release's
/// `NAME VERSION_ID` equivalent.
fn system(report: &Report) -> String {
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

/// rpm clients always print an epoch (`0:` when there is none); dpkg prints
/// its own string, epoch only when there is one.
fn full_version(p: &Package) -> String {
    if p.kind == PackageType::Rpm && p.epoch.is_empty() {
        format!("0:{}", p.evr())
    } else {
        p.evr()
    }
}

/// A protocol 5 body as `pakiti-client` 3.x writes it: sorted header keys,
/// tab-separated package lines, closing `#`.
pub fn to_v5(report: &Report) -> String {
    let packages = report.packages.as_deref().unwrap_or_default();
    let mut out = String::with_capacity(256 + packages.len() * 48);
    out.push_str("#\n");
    let _ = writeln!(out, "arch: {}", report.arch);
    let _ = writeln!(out, "host: {}", report.hostname);
    let _ = writeln!(out, "kernel: {}", report.kernel.release);
    let _ = writeln!(out, "packager: {}", packager(report));
    if let Some(site) = &report.site {
        let _ = writeln!(out, "site: {site}");
    }
    let _ = writeln!(out, "system: {}", system(report));
    for tag in &report.tags {
        let _ = writeln!(out, "tag: {tag}");
    }
    out.push_str("version: 1\n#\n");
    for p in packages {
        let _ = writeln!(out, "{}\t{}\t{}", p.name, full_version(p), p.arch);
    }
    out.push_str("#\n");
    out
}

/// The form fields `pakiti2-client` posts (protocol 4), in its order.
/// Only the first tag is sent: the bash client has one.
pub fn to_v4_fields(report: &Report, mode: Mode, proxy: bool) -> Vec<(String, String)> {
    let packages = report.packages.as_deref().unwrap_or_default();
    let mut pkgs = String::with_capacity(packages.len() * 48);
    for p in packages {
        // rpm: 'name' 'epoch:version' 'release'; dpkg: everything in version.
        let (version, release) = if p.kind == PackageType::Rpm {
            let epoch = if p.epoch.is_empty() { "0" } else { &p.epoch };
            (format!("{epoch}:{}", p.version), p.release.clone())
        } else {
            (p.evr(), String::new())
        };
        let _ = writeln!(pkgs, "'{}' '{version}' '{release}' '{}'", p.name, p.arch);
    }
    let report_field = match mode {
        Mode::StoreOnly => "0",
        Mode::StoreAndReport => "1",
        Mode::ReportOnly => "2",
    };
    [
        ("type", packager(report).to_owned()),
        ("host", report.hostname.clone()),
        ("os", system(report)),
        ("arch", report.arch.clone()),
        ("kernel", report.kernel.release.clone()),
        ("tag", report.tags.first().cloned().unwrap_or_default()),
        ("site", report.site.clone().unwrap_or_default()),
        ("version", "4".to_owned()),
        ("report", report_field.to_owned()),
        ("proxy", if proxy { "1" } else { "0" }.to_owned()),
        ("pkgs", pkgs),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pakiti::{parse_v4, parse_v5};
    use crate::{PackageType, Protocol};

    fn sample(kind: PackageType) -> Report {
        let mut r = Report::new(Protocol::Native, "wn01.example.org");
        r.site = Some("MYSITE".into());
        r.tags = vec!["prod".into()];
        r.os_string = "Rocky Linux release 9.3 (Blue Onyx)".into();
        r.kernel.release = "5.14.0-362.13.1.el9_3.x86_64".into();
        r.arch = "x86_64".into();
        let pkg = |name: &str, full: &str| {
            let (epoch, version, release) = Package::split_evr(kind, full);
            Package {
                name: name.into(),
                epoch,
                version,
                release,
                arch: "x86_64".into(),
                kind,
                source_name: String::new(),
                source_version: String::new(),
            }
        };
        r.packages = Some(vec![
            pkg("bash", "5.1.8-6.el9_1"),
            pkg("openssl", "1:3.0.7-25.el9_3"),
            pkg("libstdc++", "11.4.1-3.el9"),
        ]);
        r
    }

    #[test]
    fn v5_round_trips() {
        let r = sample(PackageType::Rpm);
        let body = to_v5(&r);
        assert!(body.contains("\nbash\t0:5.1.8-6.el9_1\tx86_64\n"), "{body}");
        assert!(body.starts_with("#\narch: x86_64\nhost: wn01.example.org\n"));
        let back = parse_v5(body.as_bytes()).unwrap();
        assert_eq!(back.packages, r.packages);
        assert_eq!(
            (
                back.hostname.as_str(),
                back.site.as_deref(),
                back.tags.as_slice()
            ),
            (
                "wn01.example.org",
                Some("MYSITE"),
                ["prod".to_owned()].as_slice()
            )
        );
        assert_eq!(back.kernel, r.kernel);
        assert_eq!(back.os_string, r.os_string);
    }

    #[test]
    fn v4_round_trips() {
        for kind in [PackageType::Rpm, PackageType::Deb] {
            let r = sample(kind);
            let fields = to_v4_fields(&r, Mode::ReportOnly, true);
            let (back, mode, proxy) = parse_v4(&fields).unwrap();
            assert_eq!((mode, proxy), (Mode::ReportOnly, true));
            assert_eq!(back.packages, r.packages, "{kind}");
            assert_eq!(back.site, r.site);
            assert_eq!(back.tags, r.tags);
        }
    }
}
