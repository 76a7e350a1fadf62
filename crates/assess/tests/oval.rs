//! The OVAL adapter on the real RHEL 9 OVAL v2 file of the data set.

mod common;

use common::{data, os, rpm};
use patchwatch_assess::{FindingState, OvalHost, OvalOptions, oval_findings};
use patchwatch_fleet::Image;
use patchwatch_oval::Document;

const RHEL9: &str =
    "redhat/oval-v2/vuls-data-update_RHEL9_rhel-9-including-unpatched.truncated.oval.xml.bz2";

#[test]
fn rhel9_oval_against_the_image() {
    let doc = Document::from_path(data(RHEL9)).unwrap();
    let mut pkgs = Image::rhel9().unwrap().packages;
    pkgs.push(rpm("firefox", "91.8.0-1.el9_0"));
    let host = OvalHost::new(&os("rhel", "9.5"), "5.14.0-503.15.1.el9_5.x86_64", &pkgs);
    let findings = oval_findings(&doc, &host, OvalOptions::default());

    // RHSA-2022:4765: firefox below 91.9.1-1.el9_0, two CVEs.
    let firefox: Vec<_> = findings
        .iter()
        .filter(|f| f.package() == "firefox")
        .collect();
    let cves: Vec<&str> = firefox.iter().map(|f| f.cve()).collect();
    assert_eq!(cves, ["CVE-2022-1529", "CVE-2022-1802"]);
    let f = firefox[0];
    assert_eq!(f.advisory(), "RHSA-2022:4765");
    assert_eq!(f.feed().as_str(), "oval");
    assert_eq!(f.state(), FindingState::FixAvailable);
    assert_eq!(f.fixed(), Some("91.9.1-1.el9_0"));
    assert_eq!(f.installed(), "91.8.0-1.el9_0");
    assert_eq!(f.severity_raw(), Some("Critical"));
    assert_eq!(
        f.explanation(),
        "OVAL oval:com.redhat.rhsa:def:20224765 true: firefox 91.8.0-1.el9_0 < 0:91.9.1-1.el9_0 \
         (rpm ordering); RHSA-2022:4765 via oval"
    );

    // The unpatched "will not fix" definition for tar: true whenever tar is
    // installed; no comparison, so no fixed version.
    let tar = findings
        .iter()
        .find(|f| f.cve() == "CVE-2005-2541")
        .expect("tar definition");
    assert_eq!(
        (tar.package(), tar.state(), tar.fixed()),
        ("tar", FindingState::Affected, None)
    );
    assert_eq!(tar.installed(), "2:1.34-7.el9");

    // Fixed firefox: no firefox finding.
    let last = pkgs.len() - 1;
    pkgs[last] = rpm("firefox", "91.9.1-1.el9_0");
    let host = OvalHost::new(&os("rhel", "9.5"), "", &pkgs);
    let fixed = oval_findings(&doc, &host, OvalOptions::default());
    assert!(fixed.iter().all(|f| f.package() != "firefox"));

    // Without trusting unsigned packages the signature tests are unknown:
    // no definition is true, so no finding.
    let strict = oval_findings(
        &doc,
        &host,
        OvalOptions {
            trust_unsigned: false,
            ..OvalOptions::default()
        },
    );
    assert!(strict.is_empty(), "{strict:#?}");

    // The repositories of a RHEL 8 host: every definition is filtered out.
    let rhel8 = OvalHost::new(&os("rhel", "9.5"), "", &pkgs)
        .with_repository_cpes(vec!["cpe:/o:redhat:enterprise_linux:8::baseos".into()]);
    assert!(oval_findings(&doc, &rhel8, OvalOptions::default()).is_empty());
}
