//! Patchman protocol 1 and 2 behaviour beyond the shared fixtures.

use patchwatch_reports::model::{PackageType, Repository};
use patchwatch_reports::{ReportError, patchman};
use serde_json::json;

fn form(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

const RPM_PACKAGES: &str = "'openssl' '1' '3.0.7' '27.el9' 'x86_64' 'rpm'\n\
    'libstdc++' '' '11.4.1' '3.el9' 'x86_64' 'rpm'\n\
    'gpg-pubkey' '' 'fd431d51' '4ae0493b' '' 'rpm'\n";

#[test]
fn v1_full_rpm_report() {
    let (r, summary) = patchman::parse_v1(&form(&[
        ("host", "web1.example.com"),
        ("tags", "web, prod,"),
        ("kernel", "5.14.0-362.8.1.el9_3.x86_64%2bdebug"),
        ("arch", "x86_64"),
        ("protocol", "1"),
        (
            "os",
            "Rocky Linux release 9.3 (Blue Onyx) [cpe:/o:rocky:rocky:9::baseos]",
        ),
        ("report", "false"),
        ("reboot", "True"),
        ("packages", RPM_PACKAGES),
        (
            "repos",
            "'rpm' 'Rocky Linux 9 - BaseOS' 'baseos' '99' 'https://a/baseos/' 'https://b/baseos/'\n\
             'arch' 'core' 'core' 'https://geo.mirror.pkgbuild.com/core/os/x86_64'\n\
             'gentoo' 'gentoo' 'gentoo' '-1000' 'rsync://rsync.gentoo.org/gentoo-portage'\n",
        ),
        ("sec_updates", "openssl.x86_64 1:3.0.7-27.el9_3.1 baseos"),
        (
            "bug_updates",
            "openssl.x86_64 1:3.0.7-27.el9_3.1 baseos\n tzdata.noarch 2024a-1.el9 baseos",
        ),
        (
            "modules",
            "'nodejs' '18' '9030' 'rhel9' 'x86_64' 'appstream' 'nodejs-18.19.0-1'",
        ),
    ]))
    .unwrap();
    assert!(!summary);
    assert_eq!(r.tags, ["web", "prod"]);
    assert_eq!(r.kernel.release, "5.14.0-362.8.1.el9_3.x86_64+debug");
    assert_eq!(r.reboot.required, Some(true));
    let p = r.packages.as_ref().unwrap();
    assert_eq!(p.len(), 2, "gpg-pubkey is ignored");
    assert_eq!(
        (p[0].evr().as_str(), p[0].kind),
        ("1:3.0.7-27.el9", PackageType::Rpm)
    );
    assert_eq!(p[1].name, "libstdc++");
    let repos = r.repositories.as_ref().unwrap();
    assert_eq!(
        repos[0],
        Repository {
            kind: PackageType::Rpm,
            name: "Rocky Linux 9 - BaseOS".into(),
            id: "baseos".into(),
            priority: Some(99),
            urls: vec!["https://a/baseos/".into(), "https://b/baseos/".into()],
            ..Repository::new(PackageType::Rpm)
        }
    );
    assert_eq!(
        (repos[1].kind, repos[1].priority),
        (PackageType::Pacman, None)
    );
    assert_eq!(repos[2].priority, Some(-1000));
    assert_eq!(r.updates.len(), 2);
    assert!(r.updates[0].security && !r.updates[1].security);
    assert_eq!(
        (r.updates[0].name.as_str(), r.updates[0].arch.as_str()),
        ("openssl", "x86_64")
    );

    let text = patchman::summary(&r);
    assert!(text.starts_with("Host: web1.example.com\n"), "{text}");
    assert!(text.contains("(rocky 9.3)"), "{text}");
    assert!(text.contains("Tags: web, prod\n"), "{text}");
    assert!(
        text.contains("Repos: 3\n") && text.contains("Packages: 2\n"),
        "{text}"
    );
    assert!(
        text.contains("  openssl 1:3.0.7-27.el9 x86_64 rpm\n"),
        "{text}"
    );
}

#[test]
fn v1_empty_lists_mean_unchanged() {
    let (r, summary) = patchman::parse_v1(&form(&[
        ("host", "h"),
        ("tags", "Default"),
        ("report", "true"),
        ("reboot", "ServerCheck"),
        ("packages", ""),
        ("repos", "  \n"),
    ]))
    .unwrap();
    assert!(summary);
    assert!(r.tags.is_empty());
    assert_eq!((r.packages, r.repositories), (None, None));
    assert_eq!(r.reboot.required, None);
    let text = patchman::summary(&patchman::parse_v1(&form(&[("host", "h")])).unwrap().0);
    assert!(
        text.contains("Repos: unchanged\nPackages: unchanged\n"),
        "{text}"
    );
}

#[test]
fn v1_gentoo_and_arch_packages() {
    let (r, _) = patchman::parse_v1(&form(&[
        ("host", "h"),
        (
            "packages",
            "'openssl' '0/3' '3.0.13' 'r1' 'amd64' 'gentoo' 'dev-libs' 'gentoo'\n\
             'glibc' '' '2.39' '1' 'x86_64' 'arch'\n",
        ),
    ]))
    .unwrap();
    let p = r.packages.unwrap();
    assert_eq!(
        (p[0].name.as_str(), p[0].evr().as_str()),
        ("dev-libs/openssl", "3.0.13-r1")
    );
    assert_eq!(
        (p[1].kind, p[1].evr().as_str()),
        (PackageType::Pacman, "2.39-1")
    );
}

#[test]
fn v2_full_report_and_quirks() {
    let body = json!({
        "protocol": 2, "hostname": "web1.example.com", "arch": "x86_64",
        "kernel": "6.1.0-18-amd64", "os": "Debian 12.5", "tags": ["Server"],
        "reboot_required": true,
        "packages": [
            {"name": "libstdc%2b%2b6", "epoch": "", "version": "12.2.0", "release": "14",
             "arch": "amd64", "type": "deb", "category": "", "repo": ""},
            {"name": "gpg-pubkey", "epoch": "", "version": "1", "release": "", "arch": "", "type": "rpm"}
        ],
        "repos": [
            {"type": "arch", "name": "core", "id": "core", "priority": "https://mirror/core/os/x86_64",
             "urls": []},
            {"type": "deb", "name": "bookworm", "id": "", "priority": 500, "urls": ["http://deb/"]}
        ],
        "modules": [{"name": "nodejs", "stream": "18", "version": "1", "context": "c", "arch": "x86_64",
                     "repo": "appstream", "packages": ["nodejs-18"]}],
        "sec_updates": [{"name": "openssl", "version": "3.0.13-1~deb12u1", "arch": "amd64", "repo": "security"}],
        "bug_updates": [{"name": "openssl", "version": "3.0.13-1~deb12u1", "arch": "amd64", "repo": "security"},
                        {"name": "tzdata", "version": "2024b-0+deb12u1", "arch": "all", "repo": "updates"}]
    });
    let r = patchman::parse_v2(body.to_string().as_bytes()).unwrap();
    assert_eq!(r.tags, ["Server"]);
    assert_eq!(r.reboot.required, Some(true));
    let p = r.packages.as_ref().unwrap();
    assert_eq!((p.len(), p[0].name.as_str()), (1, "libstdc++6"));
    let repos = r.repositories.as_ref().unwrap();
    assert_eq!(
        (repos[0].priority, repos[0].urls.as_slice()),
        (None, &["https://mirror/core/os/x86_64".to_owned()][..])
    );
    assert_eq!(repos[1].priority, Some(500));
    assert_eq!(r.updates.iter().filter(|u| u.security).count(), 1);
    assert_eq!(r.updates.len(), 2);

    // Empty lists mean unchanged, as in protocol 1.
    let r = patchman::parse_v2(
        br#"{"hostname":"h","arch":"x","kernel":"k","os":"o","packages":[],"repos":[]}"#,
    )
    .unwrap();
    assert_eq!((r.packages, r.repositories), (None, None));
}

#[test]
fn v2_errors_become_a_400_body() {
    let err = patchman::parse_v2(br#"{"arch":"x","kernel":"k","os":"o"}"#).unwrap_err();
    assert_eq!(
        err,
        ReportError::invalid("hostname", "This field is required.")
    );
    assert_eq!(
        patchman::v2_error_body(&err),
        json!({"status": "error", "errors": {"hostname": ["This field is required."]}})
    );
    let err = patchman::parse_v2(
        br#"{"hostname":"h","arch":"x","kernel":"k","os":"o",
        "packages":[{"name":"a","version":"1","type":"msi"}]}"#,
    )
    .unwrap_err();
    assert_eq!(
        patchman::v2_error_body(&err),
        json!({"status": "error", "errors": {"packages[0]": ["unknown package type `msi`, expected deb, rpm, arch or gentoo"]}})
    );
    let err = patchman::parse_v2(b"{").unwrap_err();
    let body = patchman::v2_error_body(&err);
    assert!(
        body["errors"]["non_field_errors"][0]
            .as_str()
            .is_some_and(|m| m.contains("EOF")),
        "{err:?} {body}"
    );
}
