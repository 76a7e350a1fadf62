//! Matching rules on small synthetic statements: backports, epochs,
//! architectures, Debian kernels, OS groups, batches and incremental
//! re-assessment.

mod common;

use common::{deb, erratum, find, fixed, os, pkg, rpm, tracker};
use patchwatch_advisories::{Advisory, Affected, NameKind, Source};
use patchwatch_assess::{
    AdvisoryIndex, FindingState, KernelStatus, OsGroups, OsGroupsConfig, PackageSet, SetIndex,
    SetInput, assess, assess_many,
};
use patchwatch_fleet::Image;
use patchwatch_reports::model::{OsRelease, Package, PackageType};

fn run(
    idx: &AdvisoryIndex,
    os: &OsRelease,
    kernel: &str,
    pkgs: &[Package],
) -> Vec<patchwatch_assess::Finding> {
    assess(
        idx,
        &PackageSet {
            os,
            kernel,
            packages: pkgs,
        },
    )
}

#[test]
fn debian_backports_order_by_dpkg() {
    let idx = AdvisoryIndex::build([
        tracker("CVE-2099-3001", "foo", fixed("1.2.3-1+deb12u2")),
        tracker("CVE-2099-3002", "bar", fixed("1.2.3-1+deb12u1")),
        tracker("CVE-2099-3003", "baz", fixed("2.0~rc1-1")),
        tracker("CVE-2099-3004", "qux", fixed("1:0.9-1")),
    ]);
    let os = os("debian", "12.5");
    let pkgs = [
        deb("foo", "1.2.3-1+deb12u1", "foo"),
        deb("bar", "1.2.3-1+deb12u1", "bar"),
        // 2.0~beta sorts before 2.0~rc1.
        deb("baz", "2.0~beta2-1", "baz"),
        // Epoch 0 (none) is below epoch 1 whatever the version.
        deb("qux", "5.0-1", "qux"),
    ];
    let f = run(&idx, &os, "", &pkgs);
    let got: Vec<(&str, &str)> = f.iter().map(|f| (f.cve(), f.package())).collect();
    assert_eq!(
        got,
        [
            ("CVE-2099-3003", "baz"),
            ("CVE-2099-3001", "foo"),
            ("CVE-2099-3004", "qux")
        ]
    );
    assert_eq!(
        find(&f, "CVE-2099-3001", "foo").unwrap().explanation(),
        "installed 1.2.3-1+deb12u1 < fixed 1.2.3-1+deb12u2 (dpkg ordering); \
         CVE-2099-3001 via debian-tracker; source name foo"
    );
    assert!(
        find(&f, "CVE-2099-3004", "qux")
            .unwrap()
            .explanation()
            .starts_with(
                "installed 5.0-1 < fixed 1:0.9-1 (dpkg ordering; no installed epoch = epoch 0)"
            )
    );
}

#[test]
fn rpm_epochs_and_architectures() {
    let mut adv = erratum(
        "ALSA-2099:0001",
        &["CVE-2099-4001"],
        &[("openssl-libs", "1:3.0.7-27.el9")],
    );
    let mut arm = Affected::new(
        "almalinux",
        "9",
        "zlib",
        NameKind::Binary,
        PackageType::Rpm,
        fixed("1.2.11-41.el9"),
    );
    arm.arch = vec!["aarch64".into()];
    adv.affected.push(arm);
    let idx = AdvisoryIndex::build([adv]);
    let os = os("almalinux", "9.3");
    // Reported without its epoch: rpm reads epoch 0, below epoch 1.
    let f = run(&idx, &os, "", &[rpm("openssl-libs", "3.0.7-28.el9")]);
    let f = find(&f, "CVE-2099-4001", "openssl-libs").unwrap();
    assert_eq!(
        f.explanation(),
        "installed 3.0.7-28.el9 < fixed 1:3.0.7-27.el9 (rpm ordering; no installed epoch = epoch 0); \
         ALSA-2099:0001 via osv"
    );
    // With its epoch: above the fix.
    assert!(run(&idx, &os, "", &[rpm("openssl-libs", "1:3.0.7-28.el9")]).is_empty());
    assert_eq!(
        run(&idx, &os, "", &[rpm("openssl-libs", "1:3.0.7-26.el9")]).len(),
        1
    );
    // The zlib row is for aarch64 only.
    assert!(run(&idx, &os, "", &[rpm("zlib", "1.2.11-40.el9")]).is_empty());
    let arm_zlib = pkg(PackageType::Rpm, "zlib", "1.2.11-40.el9", "aarch64", "");
    assert_eq!(run(&idx, &os, "", &[arm_zlib]).len(), 1);
}

#[test]
fn debian_kernels_running_and_not() {
    let idx = AdvisoryIndex::build([
        tracker("CVE-2099-5001", "linux", fixed("6.1.90-1")),
        tracker("CVE-2099-5002", "linux", fixed("6.1.76-1")),
    ]);
    let os = os("debian", "12.5");
    let pkgs = [
        deb(
            "linux-image-6.1.0-18-amd64",
            "6.1.76-1",
            "linux-signed-amd64",
        ),
        deb(
            "linux-image-6.1.0-17-amd64",
            "6.1.69-1",
            "linux-signed-amd64",
        ),
        deb("linux-image-amd64", "6.1.76-1", "linux-signed-amd64"),
        deb("linux-libc-dev", "6.1.76-1", "linux"),
    ];
    let f = run(&idx, &os, "6.1.0-18-amd64", &pkgs);
    let got: Vec<(&str, &str, Option<KernelStatus>)> = f
        .iter()
        .map(|f| (f.cve(), f.package(), f.kernel()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "CVE-2099-5001",
                "linux-image-6.1.0-17-amd64",
                Some(KernelStatus::InstalledNotRunning)
            ),
            (
                "CVE-2099-5002",
                "linux-image-6.1.0-17-amd64",
                Some(KernelStatus::InstalledNotRunning)
            ),
            (
                "CVE-2099-5001",
                "linux-image-6.1.0-18-amd64",
                Some(KernelStatus::Running)
            ),
        ]
    );
    let running = find(&f, "CVE-2099-5001", "linux-image-6.1.0-18-amd64").unwrap();
    assert_eq!(running.matched_name(), "linux");
    assert!(running.is_exposed());
    assert_eq!(
        running.explanation(),
        "installed 6.1.76-1 < fixed 6.1.90-1 (dpkg ordering); CVE-2099-5001 via debian-tracker; \
         source name linux; running kernel"
    );
    // The metapackage and the libc headers are not kernels: the metapackage
    // matches nothing, linux-libc-dev is not matched against kernel CVEs.
    assert!(
        f.iter()
            .all(|f| f.package() != "linux-libc-dev" && f.package() != "linux-image-amd64")
    );
    // Exposed CVEs are those of the running kernel only.
    let exposed: Vec<&str> = f
        .iter()
        .filter(|f| f.is_exposed())
        .map(|f| f.cve())
        .collect();
    assert_eq!(exposed, ["CVE-2099-5001"]);
}

#[test]
fn os_groups_from_toml() {
    let cfg: OsGroupsConfig = toml::from_str(
        r#"
        [[group]]
        name = "el9"
        members = ["rocky 9", "centos-stream 9"]
        data = ["almalinux 9"]
        "#,
    )
    .unwrap();
    let groups = OsGroups::from_config(&cfg).unwrap();
    let idx = AdvisoryIndex::build([erratum(
        "ALSA-2099:0002",
        &["CVE-2099-6001"],
        &[("bash", "5.1.8-10.el9")],
    )])
    .with_os_groups(groups);
    let pkgs = [rpm("bash", "5.1.8-9.el9")];
    assert_eq!(run(&idx, &os("rocky", "9.3"), "", &pkgs).len(), 1);
    assert_eq!(run(&idx, &os("almalinux", "9.5"), "", &pkgs).len(), 1);
    assert!(run(&idx, &os("rocky", "8.9"), "", &pkgs).is_empty());
    assert!(run(&idx, &os("almalinux", "8.9"), "", &pkgs).is_empty());
}

#[test]
fn batches_share_results_and_match_single_assessment() {
    let idx = AdvisoryIndex::build([
        tracker("CVE-2099-1001", "openssl", fixed("3.0.19-1~deb12u3")),
        tracker("CVE-2099-5001", "linux", fixed("6.1.90-1")),
    ]);
    let image = Image::debian12().unwrap().packages;
    let mut with_kernel = image.clone();
    with_kernel.push(deb(
        "linux-image-6.1.0-18-amd64",
        "6.1.76-1",
        "linux-signed-amd64",
    ));
    let (d12, d125, d11) = (os("debian", "12"), os("debian", "12.5"), os("debian", "11"));
    let input = |id: u32, os, kernel, packages| SetInput {
        set_id: id,
        os,
        kernel,
        packages,
    };
    let inputs = [
        input(1, &d12, "6.1.0-18-amd64", &image[..]),
        input(1, &d125, "6.1.0-17-amd64", &image[..]), // same data, kernel irrelevant
        input(1, &d11, "", &image[..]),                // other data
        input(2, &d12, "6.1.0-18-amd64", &with_kernel[..]),
        input(2, &d12, "6.1.0-17-amd64", &with_kernel[..]), // kernel matters here
        input(2, &d12, "6.1.0-18-amd64", &with_kernel[..]),
    ];
    let results = assess_many(&idx, &inputs, 2);
    let members: Vec<&[usize]> = results.iter().map(|r| r.members.as_slice()).collect();
    assert_eq!(members, [&[0, 1][..], &[2], &[3, 5], &[4]]);
    for r in &results {
        let i = &inputs[r.members[0]];
        assert_eq!(
            r.findings,
            assess(
                &idx,
                &PackageSet {
                    os: i.os,
                    kernel: i.kernel,
                    packages: i.packages
                }
            )
        );
    }
    assert!(
        results[1].findings.is_empty(),
        "no bookworm data for debian 11"
    );
    let names: Vec<&str> = results[0].findings.iter().map(|f| f.package()).collect();
    assert_eq!(names, ["libssl-dev", "libssl3", "openssl"]);
    let k = |r: usize| {
        results[r]
            .findings
            .iter()
            .find(|f| f.kernel().is_some())
            .map(|f| f.kernel())
    };
    assert_eq!(k(2), Some(Some(KernelStatus::Running)));
    assert_eq!(k(3), Some(Some(KernelStatus::InstalledNotRunning)));
}

#[test]
fn feed_updates_touch_only_sets_naming_their_packages() {
    let old = erratum(
        "ALSA-2099:0003",
        &["CVE-2099-7001"],
        &[("bash", "5.1.8-10.el9")],
    );
    let idx = AdvisoryIndex::build([old, tracker("CVE-2099-7002", "openssl", fixed("9"))]);
    let debian = Image::debian12().unwrap().packages;
    let rhel = Image::rhel9().unwrap().packages;
    let mut sets = SetIndex::new();
    sets.insert("debian", &debian);
    sets.insert("rhel", &rhel);
    sets.insert(
        "kernel-host",
        &[deb(
            "linux-image-6.1.0-18-amd64",
            "6.1.76-1",
            "linux-signed-amd64",
        )],
    );

    // The erratum now names zlib instead of bash: sets with either are hit.
    let new = erratum(
        "ALSA-2099:0003",
        &["CVE-2099-7001"],
        &[("zlib", "1.2.11-41.el9")],
    );
    let touched = idx.names_touched(&[new]);
    assert_eq!(
        touched
            .binary
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["bash", "zlib"]
    );
    assert_eq!(sets.sets_touching(&touched), ["debian", "rhel"]);

    // A tracker change for the kernel source reaches the signed image (and
    // the Debian host's linux-libc-dev: the set index over-approximates).
    let linux = tracker("CVE-2099-7003", "linux", fixed("6.1.90-1"));
    assert_eq!(
        sets.sets_touching(&idx.names_touched(&[linux])),
        ["debian", "kernel-host"]
    );
    // libssl3 is found through its source name.
    let ssl = tracker("CVE-2099-7002", "openssl", fixed("10"));
    let hit = sets.sets_touching(&idx.names_touched(&[ssl]));
    assert!(hit.contains(&"debian"));
    // Nobody has it.
    let none = Advisory::new("X", Source::Osv);
    assert!(sets.sets_touching(&idx.names_touched(&[none])).is_empty());
    let _ = FindingState::FixAvailable;
}
