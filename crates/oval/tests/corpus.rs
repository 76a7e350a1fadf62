//! Every OVAL file of the data set parses with the expected numbers of
//! elements, and evaluates as expected against synthetic hosts.

mod common;

use common::{load, orderings};
use patchwatch_oval::{
    Class, DefinitionResult, Evaluator, HostInventory, InstalledPackage, Options, PackageFormat,
    Uname, Verdict, evaluate,
};

/// (file, definitions, tests, objects, states, variables); the numbers were
/// counted independently with grep over the decompressed XML.
const FILES: &[(&str, usize, usize, usize, usize, usize)] = &[
    (
        "debian/oval/vulnerablecode_debian_oval_data.excerpt.xml",
        2,
        4,
        4,
        3,
        0,
    ),
    (
        "debian/oval/vuls-data-update_oval-definitions-bullseye.truncated.xml.bz2",
        4,
        6,
        4,
        5,
        0,
    ),
    (
        "ubuntu/oval-fixtures/vulnerablecode_ubuntu_oval_data.excerpt.xml",
        2,
        2,
        2,
        2,
        2,
    ),
    (
        "ubuntu/oval-fixtures/vuls-data-update_oci.com.ubuntu.fips-updates_jammy.cve.oval.truncated.xml.bz2",
        1,
        2,
        2,
        2,
        2,
    ),
    (
        "ubuntu/oval-fixtures/vuls-data-update_oci.com.ubuntu.fips-updates_jammy.pkg.oval.truncated.xml.bz2",
        2,
        2,
        2,
        2,
        2,
    ),
    (
        "ubuntu/oval-fixtures/vuls-data-update_oci.com.ubuntu.jammy.cve.oval.truncated.xml.bz2",
        1,
        2,
        2,
        2,
        2,
    ),
    (
        "ubuntu/oval-fixtures/vuls-data-update_oci.com.ubuntu.jammy.pkg.oval.truncated.xml.bz2",
        2,
        2,
        2,
        2,
        2,
    ),
    (
        "ubuntu/oval-fixtures/vuls-data-update_oci.com.ubuntu.jammy.usn.oval.truncated.xml.bz2",
        1,
        1,
        1,
        1,
        1,
    ),
    (
        "redhat/oval-v1/claircore_Red_Hat_Enterprise_Linux_3.2019-07.xml.xz",
        327,
        4221,
        543,
        1064,
        0,
    ),
    (
        "redhat/oval-v1/claircore_com.redhat.rhsa-20201980.xml",
        1,
        32,
        16,
        5,
        0,
    ),
    (
        "redhat/oval-v1/claircore_com.redhat.rhsa-RHEL8.partial-2019-11.xml.xz",
        129,
        3307,
        1204,
        612,
        1,
    ),
    (
        "redhat/oval-v2/claircore_rhel-8-rpm-unpatched.excerpt.xml",
        1,
        34,
        18,
        4,
        1,
    ),
    (
        "redhat/oval-v2/vuln-list-update_RHEL6_rhel-6-extras-including-unpatched.truncated.oval.xml.bz2",
        6,
        33,
        12,
        4,
        0,
    ),
    (
        "redhat/oval-v2/vuln-list-update_RHEL7_dotnet-3.1-including-unpatched.truncated.oval.xml.bz2",
        4,
        113,
        18,
        15,
        0,
    ),
    (
        "redhat/oval-v2/vuln-list-update_RHEL8_ansible-2-including-unpatched.truncated.oval.xml.bz2",
        5,
        18,
        3,
        8,
        0,
    ),
    (
        "redhat/oval-v2/vuls-data-update_RHEL9_jboss-ws-5-including-unpatched.truncated.oval.xml.bz2",
        1,
        4,
        2,
        3,
        0,
    ),
    (
        "redhat/oval-v2/vuls-data-update_RHEL9_rhel-9-including-unpatched.truncated.oval.xml.bz2",
        4,
        19,
        8,
        4,
        1,
    ),
];

#[test]
fn every_file_parses_with_expected_counts() {
    for &(file, defs, tests, objects, states, vars) in FILES {
        let doc = load(file);
        assert_eq!(
            (
                doc.definition_count(),
                doc.test_count(),
                doc.object_count(),
                doc.state_count(),
                doc.variable_count()
            ),
            (defs, tests, objects, states, vars),
            "{file}"
        );
        for d in doc.definitions() {
            assert!(d.criteria.is_some(), "{file}: {} has no criteria", d.id);
            assert!(!d.title.is_empty(), "{file}: {} has no title", d.id);
        }
    }
}

#[test]
fn red_hat_metadata() {
    let doc = load("redhat/oval-v1/claircore_com.redhat.rhsa-20201980.xml");
    let d = doc.definition("oval:com.redhat.rhsa:def:20201980").unwrap();
    assert_eq!(d.class, Class::Patch);
    assert_eq!(d.severity.as_deref(), Some("Important"));
    assert_eq!(d.cves, ["CVE-2020-11008"]);
    assert_eq!(d.advisories, ["RHSA-2020:1980"]);
    assert_eq!(d.issued.as_deref(), Some("2020-04-30"));
    assert_eq!(d.updated.as_deref(), Some("2020-04-30"));
    assert_eq!(
        d.affected_cpes,
        [
            "cpe:/a:redhat:enterprise_linux:8",
            "cpe:/a:redhat:enterprise_linux:8::appstream"
        ]
    );
    assert_eq!(
        doc.generator.product_name.as_deref(),
        Some("Red Hat Errata System")
    );

    let v2 = load(
        "redhat/oval-v2/vuls-data-update_RHEL9_rhel-9-including-unpatched.truncated.oval.xml.bz2",
    );
    let d = v2.definition("oval:com.redhat.cve:def:20052541").unwrap();
    assert_eq!(
        (d.class, d.severity.as_deref()),
        (Class::Vulnerability, Some("Moderate"))
    );
    assert_eq!(d.affected_cpes.len(), 12);
    assert_eq!(d.issued, None);
    assert_eq!(d.updated.as_deref(), Some("2021-06-28"));
    // The truncated feed references tests that were cut out.
    assert!(
        v2.dangling_references().is_empty()
            || v2.dangling_references().iter().all(|r| r.contains(":tst:"))
    );
}

#[test]
fn ubuntu_and_debian_metadata() {
    let doc = load("ubuntu/oval-fixtures/vulnerablecode_ubuntu_oval_data.excerpt.xml");
    let d = doc
        .definition("oval:com.ubuntu.bionic:def:201687030000000")
        .unwrap();
    assert_eq!(d.severity.as_deref(), Some("Medium"));
    assert_eq!(d.cves, ["CVE-2016-8703"]);
    let usn = load(
        "ubuntu/oval-fixtures/vuls-data-update_oci.com.ubuntu.jammy.usn.oval.truncated.xml.bz2",
    );
    let d = usn.definitions().next().unwrap();
    assert_eq!(
        (d.class, d.issued.as_deref()),
        (Class::Patch, Some("2023-12-19"))
    );
    assert_eq!(d.advisories, ["USN-6561-1"]);
    assert_eq!(d.cves, ["CVE-2023-48795"]);
    let deb = load("debian/oval/vuls-data-update_oval-definitions-bullseye.truncated.xml.bz2");
    let dsa = deb.definitions().find(|d| d.class == Class::Patch).unwrap();
    assert_eq!(dsa.title, "DSA-5179-1 php7.4");
    assert_eq!(dsa.severity, None);
    assert_eq!(dsa.advisories, ["DSA-5179"]);
    assert_eq!(dsa.cves, ["CVE-2022-31625", "CVE-2022-31626"]);
    assert_eq!(dsa.issued.as_deref(), Some("2022-07-08"));
}

const RH_KEY: &str = "199e2f91fd431d51";

fn rhel(major: &str, extra: &[InstalledPackage]) -> HostInventory {
    let mut h = HostInventory::new(PackageFormat::Rpm);
    h.add_package(
        InstalledPackage::rpm(
            "redhat-release",
            None,
            &format!("{major}.0"),
            "1.el9",
            "x86_64",
        )
        .with_signature_keyid(RH_KEY),
    );
    h.set_file_owner("/etc/redhat-release", "redhat-release");
    for p in extra {
        h.add_package(p.clone());
    }
    h
}

fn verdict_of(results: &[DefinitionResult], id: &str) -> Verdict {
    results
        .iter()
        .find(|r| r.definition_id == id)
        .unwrap_or_else(|| panic!("{id} not evaluated"))
        .verdict
}

const RHEL9: &str =
    "redhat/oval-v2/vuls-data-update_RHEL9_rhel-9-including-unpatched.truncated.oval.xml.bz2";
const FIREFOX_RHSA: &str = "oval:com.redhat.rhsa:def:20224765";

#[test]
fn rhel9_firefox_rhsa() {
    let doc = load(RHEL9);
    let ord = orderings();
    let firefox = |v: &str| InstalledPackage::from_evr("firefox", v, "x86_64");

    let old = rhel(
        "9",
        &[firefox("91.8.0-1.el9_0").with_signature_keyid(RH_KEY)],
    );
    let results = evaluate(&doc, &old, &ord);
    let r = results
        .iter()
        .find(|r| r.definition_id == FIREFOX_RHSA)
        .unwrap();
    assert_eq!(r.verdict, Verdict::True);
    assert_eq!(r.cves, ["CVE-2022-1529", "CVE-2022-1802"]);
    assert_eq!(r.advisories, ["RHSA-2022:4765"]);
    let lines: Vec<String> = r.explanations.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        ["firefox 91.8.0-1.el9_0 < 0:91.9.1-1.el9_0 (rpm ordering)"]
    );

    let fixed = rhel(
        "9",
        &[firefox("91.9.1-1.el9_0").with_signature_keyid(RH_KEY)],
    );
    assert_eq!(
        verdict_of(&evaluate(&doc, &fixed, &ord), FIREFOX_RHSA),
        Verdict::False
    );

    let other_key = rhel(
        "9",
        &[firefox("91.8.0-1.el9_0").with_signature_keyid("05b555b38483c65d")],
    );
    assert_eq!(
        verdict_of(&evaluate(&doc, &other_key, &ord), FIREFOX_RHSA),
        Verdict::False
    );

    // Without key ids the signature test is unknown, unless told otherwise.
    let unsigned = rhel("9", &[firefox("91.8.0-1.el9_0")]);
    assert_eq!(
        verdict_of(&evaluate(&doc, &unsigned, &ord), FIREFOX_RHSA),
        Verdict::Unknown
    );
    let trusting = Evaluator::new(&doc, ord).with_options(Options {
        missing_signature_keyid: Verdict::True,
        ..Options::default()
    });
    assert_eq!(
        verdict_of(&trusting.evaluate(&unsigned), FIREFOX_RHSA),
        Verdict::True
    );

    // A RHEL 8 host: "Red Hat Enterprise Linux 9 is installed" is false.
    let rhel8 = rhel(
        "8",
        &[firefox("91.8.0-1.el8_0").with_signature_keyid(RH_KEY)],
    );
    assert_eq!(
        verdict_of(&evaluate(&doc, &rhel8, &ord), FIREFOX_RHSA),
        Verdict::False
    );

    // Not a Red Hat release package: the "must be installed" branch (check
    // "none satisfy") is true, as the feed is written.
    let mut clone = HostInventory::new(PackageFormat::Rpm);
    clone.add_package(InstalledPackage::rpm(
        "almalinux-release",
        None,
        "9.0",
        "1.el9",
        "x86_64",
    ));
    clone.set_file_owner("/etc/redhat-release", "almalinux-release");
    assert_eq!(
        verdict_of(&evaluate(&doc, &clone, &ord), FIREFOX_RHSA),
        Verdict::True
    );
}

#[test]
fn rhel9_unpatched_and_unaffected_and_cpe_filter() {
    let doc = load(RHEL9);
    let ord = orderings();
    let host = rhel(
        "9",
        &[
            InstalledPackage::from_evr("tar", "2:1.34-3.el9", "x86_64")
                .with_signature_keyid(RH_KEY),
            InstalledPackage::from_evr("zlib", "1.2.11-31.el9", "x86_64")
                .with_signature_keyid(RH_KEY),
        ],
    );
    let results = evaluate(&doc, &host, &ord);
    // "Will not fix": vulnerable whenever tar is installed and signed.
    let tar = results
        .iter()
        .find(|r| r.definition_id == "oval:com.redhat.cve:def:20052541")
        .unwrap();
    assert_eq!(tar.verdict, Verdict::True);
    assert!(
        tar.explanations.is_empty(),
        "no version comparison to explain"
    );
    // "zlib is installed" AND "zlib is not installed".
    assert_eq!(
        verdict_of(&results, "oval:com.redhat.unaffected:def:20020059"),
        Verdict::False
    );

    let mut rhel8_repos = host.clone();
    rhel8_repos.set_repository_cpes(vec!["cpe:/o:redhat:enterprise_linux:8::baseos".into()]);
    let filtered = evaluate(&doc, &rhel8_repos, &ord);
    assert!(filtered.iter().all(|r| r.verdict == Verdict::NotApplicable));
    let mut rhel9_repos = host.clone();
    rhel9_repos.set_repository_cpes(vec!["cpe:/o:redhat:enterprise_linux:9::baseos".into()]);
    assert_eq!(
        verdict_of(
            &evaluate(&doc, &rhel9_repos, &ord),
            "oval:com.redhat.cve:def:20052541"
        ),
        Verdict::True
    );
}

#[test]
fn rhel8_git_rhsa_v1() {
    let doc = load("redhat/oval-v1/claircore_com.redhat.rhsa-20201980.xml");
    let ord = orderings();
    let git = |v: &str| InstalledPackage::from_evr("git", v, "x86_64").with_signature_keyid(RH_KEY);
    let id = "oval:com.redhat.rhsa:def:20201980";
    let results = evaluate(&doc, &rhel("8", &[git("2.18.2-1.el8_1")]), &ord);
    let r = results.iter().find(|r| r.definition_id == id).unwrap();
    assert_eq!(r.verdict, Verdict::True);
    assert_eq!(
        r.explanations[0].to_string(),
        "git 2.18.2-1.el8_1 < 0:2.18.4-2.el8_2 (rpm ordering)"
    );
    assert_eq!(
        verdict_of(
            &evaluate(&doc, &rhel("8", &[git("2.18.4-2.el8_2")]), &ord),
            id
        ),
        Verdict::False
    );
    assert_eq!(
        verdict_of(&evaluate(&doc, &rhel("8", &[]), &ord), id),
        Verdict::False
    );
}

#[test]
fn rhel3_feed_evaluates_without_errors() {
    let doc = load("redhat/oval-v1/claircore_Red_Hat_Enterprise_Linux_3.2019-07.xml.xz");
    let ord = orderings();
    let mut h = HostInventory::new(PackageFormat::Rpm);
    // RHEL 3 packages are signed with Red Hat's old master key.
    h.add_package(
        InstalledPackage::rpm("redhat-release", None, "3AS", "13.9.3", "i386")
            .with_signature_keyid("219180cddb42a60e"),
    );
    let results = evaluate(&doc, &h, &ord);
    assert_eq!(results.len(), 327);
    // Five advisories update redhat-release itself past 3AS-13.9.3.
    let (release_updates, rest): (Vec<_>, Vec<_>) = results
        .iter()
        .partition(|r| r.explanations.iter().any(|e| e.package == "redhat-release"));
    assert_eq!(release_updates.len(), 5);
    assert!(release_updates.iter().all(|r| r.verdict == Verdict::True));
    let results = rest;
    let odd: Vec<_> = results
        .iter()
        .filter(|r| r.verdict != Verdict::False)
        .map(|r| (r.definition_id.clone(), r.verdict))
        .collect();
    assert!(
        odd.is_empty(),
        "no packages besides the release one: {odd:?}"
    );
}

fn debian(release: &str, pkgs: &[(&str, &str)]) -> HostInventory {
    let mut h = HostInventory::new(PackageFormat::Dpkg);
    h.set_file("/etc/debian_version", &format!("{release}\n"));
    h.set_uname(Uname {
        os_name: "Linux".into(),
        os_release: "5.10.0-16-amd64".into(),
        machine_class: "x86_64".into(),
        ..Uname::default()
    });
    for (n, v) in pkgs {
        h.add_package(InstalledPackage::from_evr(n, v, "amd64"));
    }
    h
}

#[test]
fn debian_bullseye() {
    let doc = load("debian/oval/vuls-data-update_oval-definitions-bullseye.truncated.xml.bz2");
    let ord = orderings();
    let cve = "oval:org.debian:def:125485201104199744221073157292078651007";
    let dsa = "oval:org.debian:def:139808490012783936164091935544829458478";
    let never = "oval:org.debian:def:308370225544215691963860905694509241784";
    let ds389 = "oval:org.debian:def:146538946343347138556114190089672013680";

    let below = debian(
        "11.3",
        &[
            ("php7.4", "7.4.28-1+deb11u1"),
            ("389-ds-base", "1.4.4.11-2"),
        ],
    );
    let results = evaluate(&doc, &below, &ord);
    assert_eq!(verdict_of(&results, cve), Verdict::True);
    assert_eq!(verdict_of(&results, dsa), Verdict::True);
    // "less than 0": never affected, whatever is installed.
    assert_eq!(verdict_of(&results, never), Verdict::False);
    assert_eq!(verdict_of(&results, ds389), Verdict::False);
    let r = results.iter().find(|r| r.definition_id == dsa).unwrap();
    assert_eq!(
        r.explanations[0].to_string(),
        "php7.4 7.4.28-1+deb11u1 < 0:7.4.30-1+deb11u1 (dpkg ordering)"
    );

    let at = debian("11.3", &[("php7.4", "7.4.30-1+deb11u1")]);
    assert_eq!(verdict_of(&evaluate(&doc, &at, &ord), cve), Verdict::False);
    // Same package on bookworm: the release test fails.
    let bookworm = debian("12.5", &[("php7.4", "7.4.28-1+deb11u1")]);
    assert_eq!(
        verdict_of(&evaluate(&doc, &bookworm, &ord), cve),
        Verdict::False
    );
    // No running-kernel facts: the uname test is unknown, so is the result.
    let mut no_uname = HostInventory::new(PackageFormat::Dpkg);
    no_uname.set_file("/etc/debian_version", "11.3\n");
    no_uname.add_package(InstalledPackage::from_evr(
        "php7.4",
        "7.4.28-1+deb11u1",
        "amd64",
    ));
    assert_eq!(
        verdict_of(&evaluate(&doc, &no_uname, &ord), cve),
        Verdict::Unknown
    );
}

#[test]
fn debian_doubled_epoch_state() {
    // Debian's generator wrote "0:1:4.14-1.1+deb7u1" for 1:4.14-1.1+deb7u1.
    let doc = load("debian/oval/vulnerablecode_debian_oval_data.excerpt.xml");
    let ord = orderings();
    let id = "oval:org.debian:def:20011593";
    let old = debian("7.8", &[("a2ps", "1:4.14-1.1")]);
    let results = evaluate(&doc, &old, &ord);
    let r = results.iter().find(|r| r.definition_id == id).unwrap();
    assert_eq!(r.verdict, Verdict::True);
    assert_eq!(
        r.explanations[0].to_string(),
        "a2ps 1:4.14-1.1 < 1:4.14-1.1+deb7u1 (dpkg ordering)"
    );
    let fixed = debian("7.8", &[("a2ps", "1:4.14-1.1+deb7u1")]);
    assert_eq!(
        verdict_of(&evaluate(&doc, &fixed, &ord), id),
        Verdict::False
    );
}

#[test]
fn ubuntu_bionic_with_missing_release_definition() {
    let doc = load("ubuntu/oval-fixtures/vulnerablecode_ubuntu_oval_data.excerpt.xml");
    let ord = orderings();
    let id = "oval:com.ubuntu.bionic:def:201687030000000";
    // The excerpt lacks def:100 ("Ubuntu 18.04 is installed"): AND of an
    // error with a false test is false ...
    let absent = debian("buster/sid", &[("tor", "0.3.2.10-1")]);
    let results = evaluate(&doc, &absent, &ord);
    assert_eq!(verdict_of(&results, id), Verdict::False);
    // ... and with a true test it is an error naming the missing definition.
    let old = debian("buster/sid", &[("libpotrace0", "1.14-1")]);
    let results = evaluate(&doc, &old, &ord);
    let r = results.iter().find(|r| r.definition_id == id).unwrap();
    assert_eq!(r.verdict, Verdict::Error);
    assert_eq!(
        r.errors,
        ["extended definition oval:com.ubuntu.bionic:def:100 is in error"]
    );
    // The tor definition (tor or tor-geoipdb below 0.2.8.9-1ubuntu1).
    let tor = doc.definitions().find(|d| d.id != id).unwrap().id.clone();
    let fixed = debian(
        "buster/sid",
        &[("tor", "0.3.2.10-1"), ("tor-geoipdb", "0.3.2.10-1")],
    );
    assert_eq!(
        verdict_of(&evaluate(&doc, &fixed, &ord), &tor),
        Verdict::False
    );
}

#[test]
fn ubuntu_jammy_oci_manifest() {
    let ord = orderings();
    let cve = load(
        "ubuntu/oval-fixtures/vuls-data-update_oci.com.ubuntu.jammy.cve.oval.truncated.xml.bz2",
    );
    let usn = load(
        "ubuntu/oval-fixtures/vuls-data-update_oci.com.ubuntu.jammy.usn.oval.truncated.xml.bz2",
    );
    let host = |libssh: &str| {
        let mut h = HostInventory::new(PackageFormat::Dpkg);
        h.add_package(InstalledPackage::from_evr(
            "openssh-client",
            "1:8.9p1-3ubuntu0.6",
            "amd64",
        ));
        h.add_package(InstalledPackage::from_evr("libssh-4", libssh, "amd64"));
        h
    };
    let vulnerable = host("0.9.6-2ubuntu0.22.04.1");
    let r = evaluate(&cve, &vulnerable, &ord);
    assert_eq!(r[0].verdict, Verdict::True);
    assert_eq!(r[0].cves, ["CVE-2023-48795"]);
    let lines: Vec<String> = r[0].explanations.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        ["libssh-4 0.9.6-2ubuntu0.22.04.1 < 0:0.9.6-2ubuntu0.22.04.2 (dpkg ordering)"]
    );
    assert_eq!(evaluate(&usn, &vulnerable, &ord)[0].verdict, Verdict::True);

    let fixed = host("0.9.6-2ubuntu0.22.04.2");
    assert_eq!(evaluate(&cve, &fixed, &ord)[0].verdict, Verdict::False);
    assert_eq!(evaluate(&usn, &fixed, &ord)[0].verdict, Verdict::False);

    // An explicit manifest (as shipped in the image) is used as is.
    let mut explicit = HostInventory::new(PackageFormat::Dpkg);
    explicit.set_file(
        "./manifest",
        "ssh\t1:8.9p1-3ubuntu0.4\nlibssh-4:amd64\t0.9.6-2ubuntu0.22.04.3\n",
    );
    let r = evaluate(&cve, &explicit, &ord);
    assert_eq!(r[0].verdict, Verdict::True);
    assert_eq!(r[0].explanations[0].package, "ssh");
}

#[test]
fn rhel8_kernel_tests_with_unsupported_constructs_do_not_panic() {
    // The RHEL 8 feed has a local_variable (arithmetic over grubenv) and a
    // look-behind pattern: both evaluate to errors inside their definitions
    // instead of failing the whole document.
    let doc = load("redhat/oval-v1/claircore_com.redhat.rhsa-RHEL8.partial-2019-11.xml.xz");
    let ord = orderings();
    let mut h = rhel(
        "8",
        &[
            InstalledPackage::from_evr("kernel", "4.18.0-80.el8", "x86_64")
                .with_signature_keyid(RH_KEY),
        ],
    );
    h.set_uname(Uname {
        os_release: "4.18.0-80.el8.x86_64".into(),
        ..Uname::default()
    });
    let results = evaluate(&doc, &h, &ord);
    assert_eq!(results.len(), 129);
    let trues = results
        .iter()
        .filter(|r| r.verdict == Verdict::True)
        .count();
    assert!(
        trues >= 1,
        "the old kernel is vulnerable to at least one RHSA"
    );
    assert!(
        results
            .iter()
            .filter(|r| r.verdict.is_true())
            .all(|r| !r.explanations.is_empty())
    );
}
