//! The complete real AlmaLinux OSV database against the real RHEL 9 (UBI)
//! image relabelled AlmaLinux 9.5 (its el9 packages are real builds).
//! The database is parsed once for all tests of this file.

mod common;

use std::sync::OnceLock;
use std::time::Instant;

use common::{data, find, os, rpm};
use patchwatch_advisories::SeverityLevel;
use patchwatch_assess::{
    AdvisoryIndex, Finding, FindingState, KernelStatus, NameUsed, PackageSet, assess,
};
use patchwatch_fleet::Image;
use patchwatch_reports::model::Package;
use patchwatch_versions::{Scheme, compare};

fn index() -> &'static AdvisoryIndex {
    static INDEX: OnceLock<AdvisoryIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let t = Instant::now();
        let mut b = AdvisoryIndex::builder();
        let mut errors = 0;
        let path = data("osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz");
        let n = patchwatch_advisories::osv::read_path(&path, |r| match r {
            Ok(a) => b.add(a),
            Err(_) => errors += 1,
        })
        .unwrap();
        let idx = b.build();
        eprintln!(
            "AlmaLinux OSV: {n} records, {errors} errors, {:?} in {:.2?}",
            idx.stats(),
            t.elapsed()
        );
        assert!(n > 5000, "records: {n}");
        assert_eq!(errors, 0);
        idx
    })
}

fn alma(packages: &[Package], kernel: &str) -> Vec<Finding> {
    let os = os("almalinux", "9.5");
    assess(
        index(),
        &PackageSet {
            os: &os,
            kernel,
            packages,
        },
    )
}

fn image() -> Vec<Package> {
    Image::rhel9().unwrap().packages
}

#[test]
fn real_alsa_findings_on_the_el9_image() {
    let pkgs = image();
    let findings = alma(&pkgs, "");
    assert!(findings.len() > 100, "findings: {}", findings.len());

    // ALSA-2025:1330 (Important): openssl-libs 1:3.2.2-6.el9_5 < 1:3.2.2-6.el9_5.1.
    let f = find(&findings, "CVE-2024-12797", "openssl-libs").unwrap();
    assert_eq!(f.advisory(), "ALSA-2025:1330");
    assert_eq!(f.installed(), "1:3.2.2-6.el9_5");
    assert_eq!(f.fixed(), Some("1:3.2.2-6.el9_5.1"));
    assert_eq!(f.state(), FindingState::FixAvailable);
    assert_eq!(f.severity(), SeverityLevel::High);
    assert_eq!(f.severity_raw(), Some("Important"));
    assert_eq!(
        (f.name_used(), f.matched_name()),
        (NameUsed::Binary, "openssl-libs")
    );
    assert_eq!(f.data(), "almalinux 9");
    assert_eq!(
        f.explanation(),
        "installed 1:3.2.2-6.el9_5 < fixed 1:3.2.2-6.el9_5.1 (rpm ordering); ALSA-2025:1330 via osv"
    );

    // ALSA-2025:0324: rsync 3.2.3-20.el9 < 3.2.3-20.el9_5.1.
    let f = find(&findings, "CVE-2024-12085", "rsync").unwrap();
    assert_eq!(f.advisory(), "ALSA-2025:0324");
    assert_eq!(
        (f.installed(), f.fixed()),
        ("3.2.3-20.el9", Some("3.2.3-20.el9_5.1"))
    );

    // ALSA-2025:4244: glibc 2.34-125.el9_5.1 < 2.34-125.el9_5.8.alma.1
    // (an AlmaLinux-specific rebuild suffix).
    let f = find(&findings, "CVE-2025-0395", "glibc").unwrap();
    assert_eq!(f.advisory(), "ALSA-2025:4244");
    assert_eq!(
        (f.installed(), f.fixed()),
        ("2.34-125.el9_5.1", Some("2.34-125.el9_5.8.alma.1"))
    );
    assert_eq!(f.severity(), SeverityLevel::Medium);

    // Every fix-available finding is below its fixed version, by rpm.
    for f in &findings {
        if let Some(fixed) = f.fixed() {
            assert_eq!(
                compare(Scheme::Rpm, f.installed(), fixed),
                std::cmp::Ordering::Less,
                "{f}"
            );
        }
        assert_eq!(f.kernel(), None);
    }
}

#[test]
fn at_or_above_the_fix_gives_nothing() {
    let mut pkgs = image();
    for p in &mut pkgs {
        if p.name == "openssl-libs" {
            // Exactly the ALSA-2025:1330 fix.
            p.release = "6.el9_5.1".into();
        }
        if p.name == "rsync" {
            p.release = "20.el9_5.1".into();
        }
    }
    let findings = alma(&pkgs, "");
    assert!(find(&findings, "CVE-2024-12797", "openssl-libs").is_none());
    assert!(find(&findings, "CVE-2024-12085", "rsync").is_none());
    // The unchanged openssl binary still has it.
    assert!(find(&findings, "CVE-2024-12797", "openssl").is_some());
    // Far ahead of every fix in the database: no openssl-libs finding at all.
    for p in &mut pkgs {
        if p.name == "openssl-libs" {
            p.version = "1:9.9.9".into();
        }
    }
    assert!(
        !alma(&pkgs, "")
            .iter()
            .any(|f| f.package() == "openssl-libs")
    );
}

#[test]
fn the_earliest_fix_of_a_cve_wins() {
    // CVE-2023-38545 is fixed by ALSA-2023:5763 (9.2 z-stream,
    // 7.76.1-23.el9_2.4) and listed again by ALSA-2023:6745 (9.3,
    // 7.76.1-26.el9_3.2).
    let at_first_fix = [rpm("libcurl-minimal", "7.76.1-23.el9_2.4")];
    let f = alma(&at_first_fix, "");
    assert!(find(&f, "CVE-2023-38545", "libcurl-minimal").is_none());
    assert!(find(&f, "CVE-2023-38546", "libcurl-minimal").is_none());
    // Later errata for other CVEs still apply to it.
    assert!(!f.is_empty());
    let before = [rpm("libcurl-minimal", "7.76.1-23.el9_2.3")];
    let f = alma(&before, "");
    let f = find(&f, "CVE-2023-38545", "libcurl-minimal").unwrap();
    assert_eq!(
        (f.advisory(), f.fixed()),
        ("ALSA-2023:5763", Some("7.76.1-23.el9_2.4"))
    );
}

#[test]
fn module_stream_fixes_only_apply_to_module_builds() {
    // ALSA-2022:8832 fixes nodejs:18 in 1:18.12.1-1.module_el9.1.0+16+91bc168f.
    let modular = [rpm("nodejs", "1:18.10.0-1.module_el9.1.0+13+0000aaaa")];
    let findings = alma(&modular, "");
    let f = find(&findings, "CVE-2022-3517", "nodejs").unwrap();
    assert_eq!(f.advisory(), "ALSA-2022:8832");
    assert_eq!(f.fixed(), Some("1:18.12.1-1.module_el9.1.0+16+91bc168f"));
    // The non-modular nodejs 16 of the base repository is not ordered
    // against module builds: the nodejs:18 errata do not apply to it.
    let plain = [rpm("nodejs", "1:16.20.2-1.el9")];
    let findings = alma(&plain, "");
    assert!(
        findings
            .iter()
            .all(|f| f.fixed().is_none_or(|v| !v.contains(".module"))),
        "{findings:#?}"
    );
}

#[test]
fn only_the_running_kernel_is_exposed() {
    let running = "5.14.0-503.15.1.el9_5.x86_64";
    let pkgs = [
        rpm("kernel-core", "5.14.0-503.15.1.el9_5"),
        rpm("kernel-core", "5.14.0-427.13.1.el9_4"),
    ];
    let findings = alma(&pkgs, running);
    let new: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.installed() == "5.14.0-503.15.1.el9_5")
        .collect();
    let old: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.installed() == "5.14.0-427.13.1.el9_4")
        .collect();
    assert!(
        !new.is_empty() && old.len() > new.len(),
        "{} {}",
        new.len(),
        old.len()
    );
    assert!(
        new.iter()
            .all(|f| f.kernel() == Some(KernelStatus::Running) && f.is_exposed())
    );
    assert!(
        old.iter()
            .all(|f| f.kernel() == Some(KernelStatus::InstalledNotRunning) && !f.is_exposed())
    );
    assert!(
        old[0]
            .explanation()
            .ends_with("; kernel installed, not running")
    );
    // Booting the old kernel swaps the roles.
    let swapped = alma(&pkgs, "5.14.0-427.13.1.el9_4.x86_64");
    assert!(
        swapped
            .iter()
            .all(|f| f.is_exposed() == (f.installed() == "5.14.0-427.13.1.el9_4"))
    );
}

#[test]
fn same_set_same_result_whatever_the_order() {
    let pkgs = image();
    let a = alma(&pkgs, "");
    assert_eq!(a, alma(&pkgs, ""));
    // Reversed, rotated and interleaved orders of the same packages.
    let mut rev = pkgs.clone();
    rev.reverse();
    assert_eq!(a, alma(&rev, ""));
    for step in [7, 13, 101] {
        let n = pkgs.len();
        let shuffled: Vec<Package> = (0..n).map(|i| pkgs[(i * step + 3) % n].clone()).collect();
        assert_eq!(shuffled.len(), n);
        assert_eq!(a, alma(&shuffled, ""), "step {step}");
    }
}
