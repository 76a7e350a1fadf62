//! Kernels on the real inventories, with kernel packages taken from the
//! real indexes (the real host inventories are containers without one):
//! running vs newest installed vs newest available, and the reboot rule.

use patchwatch_fleet::{Image, shared_data_dir};
use patchwatch_reports::Package;
use patchwatch_repos::RepoSnapshot;
use patchwatch_store::RepositoryKind;
use patchwatch_updates::{
    ImportSpec, KernelStatus, kernel_candidates, kernel_status, read_snapshot,
};

fn read(kind: RepositoryKind, rel: &str, suite: &str, arch: &str) -> RepoSnapshot {
    read_snapshot(&ImportSpec {
        kind,
        path: &shared_data_dir().join(rel),
        suite,
        components: &[],
        arch,
    })
    .unwrap_or_else(|e| panic!("{rel} {suite}: {e}"))
}

/// The package `name` at `version` from a real index.
fn from_index(snapshot: &RepoSnapshot, name: &str, version: &str) -> Package {
    snapshot
        .packages
        .iter()
        .map(|a| &a.package)
        .find(|p| p.name == name && p.evr() == version)
        .unwrap_or_else(|| panic!("{name} {version} is not in the index"))
        .clone()
}

fn available(snapshots: &[&RepoSnapshot]) -> Vec<Package> {
    snapshots
        .iter()
        .flat_map(|s| s.packages.iter().map(|a| a.package.clone()))
        .collect()
}

fn name_version(p: &Option<patchwatch_updates::KernelPackage>) -> Option<(&str, &str)> {
    p.as_ref().map(|p| (p.name.as_str(), p.version.as_str()))
}

#[test]
fn debian_kernels_from_the_bookworm_indexes() {
    let main = read(RepositoryKind::Apt, "debian/apt-lists", "bookworm", "amd64");
    let security = read(
        RepositoryKind::Apt,
        "debian/apt-lists",
        "bookworm-security",
        "amd64",
    );
    let offered = available(&[&main, &security]);
    let mut installed = Image::debian12().unwrap().packages;
    let old = from_index(&main, "linux-image-6.1.0-47-amd64", "6.1.170-3");
    let new = from_index(&main, "linux-image-6.1.0-50-amd64", "6.1.176-1");
    // The meta package is no kernel.
    installed.push(from_index(&main, "linux-image-amd64", "6.1.176-1"));
    installed.push(old.clone());
    installed.push(new.clone());

    // Upgraded, not rebooted: still running the older ABI.
    let status = kernel_status(&installed, "6.1.0-47-amd64", "x86_64", &offered, None);
    assert_eq!(
        name_version(&status.running_package),
        Some(("linux-image-6.1.0-47-amd64", "6.1.170-3"))
    );
    assert_eq!(
        name_version(&status.newest_installed),
        Some(("linux-image-6.1.0-50-amd64", "6.1.176-1"))
    );
    // The newest 6.1 `amd64` image of the security suite (its 6.12
    // backports and `cloud`/`rt` flavours are other lines; the signed
    // image, not its `-unsigned` twin).
    assert_eq!(
        name_version(&status.newest_available),
        Some(("linux-image-6.1.0-56-amd64", "6.1.192-2"))
    );
    assert!(status.update_available);
    assert!(status.reboot_required_derived && status.reboot_required);
    assert_eq!(status.reboot_required_reported, None);

    // The few packages the server keeps per set answer the same, for any
    // running kernel.
    let candidates = kernel_candidates(&installed);
    assert!(candidates.len() * 50 < installed.len(), "{candidates:?}");
    for running in ["6.1.0-47-amd64", "6.1.0-50-amd64", "6.1.0-27-amd64", ""] {
        let none = std::iter::empty::<&Package>;
        assert_eq!(
            kernel_status(&candidates, running, "amd64", none(), None),
            kernel_status(&installed, running, "amd64", none(), None),
            "{running}"
        );
    }

    // Rebooted into the new one: no reboot, unless the client says so.
    let status = kernel_status(&installed, "6.1.0-50-amd64", "amd64", &offered, None);
    assert!(!status.reboot_required);
    let status = kernel_status(&installed, "6.1.0-50-amd64", "amd64", &offered, Some(true));
    assert_eq!(
        (
            status.reboot_required_derived,
            status.reboot_required_reported,
            status.reboot_required
        ),
        (false, Some(true), true)
    );
    // The old image removed after the reboot: nothing to say.
    installed.retain(|p| p.name != old.name);
    let status = kernel_status(&installed, "6.1.0-50-amd64", "amd64", &offered, Some(false));
    assert!(!status.reboot_required);
    // Running a kernel whose package is gone, older than the installed:
    // reboot.
    let status = kernel_status(&installed, "6.1.0-47-amd64", "amd64", &offered, None);
    assert!(status.running_package.is_none() && status.reboot_required);

    // The real container inventory alone: no kernel package at all.
    let bare = Image::debian12().unwrap().packages;
    let status = kernel_status(&bare, "6.1.0-27-amd64", "amd64", &offered, None);
    assert_eq!(
        status,
        KernelStatus {
            running: "6.1.0-27-amd64".into(),
            running_package: None,
            newest_installed: None,
            newest_available: status.newest_available.clone(),
            update_available: false,
            reboot_required_derived: false,
            reboot_required_reported: None,
            reboot_required: false,
        }
    );
    assert!(status.newest_available.is_some());
}

#[test]
fn rpm_kernels_from_the_centos_stream_baseos() {
    let baseos = read(
        RepositoryKind::RpmMd,
        "repos/centos-stream-9/baseos-x86_64-2022-02-07",
        "",
        "x86_64",
    );
    let offered = available(&[&baseos]);
    let mut installed = Image::rhel9().unwrap().packages;
    let kernel = from_index(&baseos, "kernel-core", "5.14.0-55.el9");
    installed.push(kernel);

    let status = kernel_status(
        &installed,
        "5.14.0-55.el9.x86_64",
        "x86_64",
        &offered,
        Some(false),
    );
    assert_eq!(
        name_version(&status.running_package),
        Some(("kernel-core", "5.14.0-55.el9"))
    );
    assert_eq!(
        name_version(&status.newest_available),
        Some(("kernel-core", "5.14.0-55.el9"))
    );
    assert!(!status.update_available && !status.reboot_required);

    // Running an older kernel whose package was removed: reboot.
    let status = kernel_status(&installed, "5.14.0-39.el9.x86_64", "x86_64", &offered, None);
    assert!(status.running_package.is_none());
    assert!(status.reboot_required_derived);
    // Running a newer one than any installed (a custom build): no.
    let status = kernel_status(
        &installed,
        "5.14.0-503.15.1.el9_5.x86_64",
        "x86_64",
        &offered,
        None,
    );
    assert!(!status.reboot_required);
}

#[test]
fn alpine_kernels_from_the_real_apkindexes() {
    let v320 = read(
        RepositoryKind::Apk,
        "repos/alpine/v3.20/main/x86_64/APKINDEX.tar.gz",
        "",
        "x86_64",
    );
    let v321 = read(
        RepositoryKind::Apk,
        "repos/alpine/v3.21/main/x86_64/APKINDEX.tar.gz",
        "",
        "x86_64",
    );
    let offered = available(&[&v321]);
    let rel = "repos/alpine/hosts/quarantine_alpine-3.21.2-x86_64_lib-apk-db-installed";
    let text = std::fs::read_to_string(shared_data_dir().join(rel)).unwrap();
    let mut installed = patchwatch_repos::apk::parse_installed(&text, rel).unwrap();
    installed.push(from_index(&v320, "linux-lts", "6.6.51-r0"));

    let status = kernel_status(&installed, "6.6.51-0-lts", "x86_64", &offered, None);
    assert_eq!(
        name_version(&status.running_package),
        Some(("linux-lts", "6.6.51-r0"))
    );
    assert_eq!(
        name_version(&status.newest_available),
        Some(("linux-lts", "6.12.38-r0"))
    );
    assert!(status.update_available && !status.reboot_required);

    // `apk upgrade` replaced the package; the old kernel still runs.
    installed.retain(|p| p.name != "linux-lts");
    installed.push(from_index(&v321, "linux-lts", "6.12.38-r0"));
    let status = kernel_status(&installed, "6.6.51-0-lts", "x86_64", &offered, None);
    assert!(status.running_package.is_none());
    assert!(status.reboot_required_derived && !status.update_available);
    // linux-virt is another flavour: not this host's kernel line.
    let status = kernel_status(&installed, "6.12.38-0-virt", "x86_64", &offered, None);
    assert_eq!(status.newest_installed, None);
    assert_eq!(
        name_version(&status.newest_available),
        Some(("linux-virt", "6.12.38-r0"))
    );
}
