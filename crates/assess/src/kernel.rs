//! The kernel rule: only the running kernel is exposed to kernel CVEs.
//!
//! Package managers keep several kernels installed side by side; the host
//! runs one of them (`uname -r`). Each installed kernel is matched like any
//! other package, and its findings carry a [`KernelStatus`]: `Running`
//! (exposed) or `InstalledNotRunning` (listed, not exposed until booted).
//!
//! Which packages are kernel instances, per family:
//! * **dpkg** (Debian, Ubuntu): `linux-image-<krel>`,
//!   `linux-image-unsigned-<krel>`, `linux-modules-<krel>` and
//!   `linux-modules-extra-<krel>` where `<krel>` starts with a digit (so the
//!   `linux-image-amd64` metapackage is not one); the running one is the one
//!   whose `<krel>` (minus a Debian `-unsigned` suffix) equals `uname -r`
//!   (`6.1.0-18-amd64` -> `linux-image-6.1.0-18-amd64`). Debian builds its
//!   signed images from `linux-signed-<arch>` sources while the tracker
//!   names `linux`, so `linux-signed-amd64` is matched as `linux` (Ubuntu's
//!   `linux-signed-hwe-6.8` as `linux-hwe-6.8`). The other binaries of the
//!   `linux` source (`linux-libc-dev`, headers, `linux-perf`, `bpftool`,
//!   `usbip`) are not kernels and are not matched against the kernel's
//!   statements: the tracker cannot say which kernel CVEs touch them, and
//!   matching them would report every kernel CVE on every build host.
//! * **rpm** (RHEL and rebuilds): `kernel`, `kernel-core`, `kernel-modules*`,
//!   `kernel-devel*` and their `-rt`, `-debug`, `-64k`, `-uek`, `-zfcpdump`
//!   variants (the install-only kernel packages); the running one has
//!   `version-release.arch` equal to `uname -r` without its `+debug`/`+64k`
//!   suffix, and the same variant (`5.14.0-362.13.1.el9_3.x86_64` ->
//!   `kernel-core-5.14.0-362.13.1.el9_3.x86_64`). `kernel-headers`,
//!   `kernel-tools` and `perf` are ordinary packages: rpm data names them.
//! * **apk** (Alpine): `linux-<flavor>` (`linux-lts`, `linux-virt`); Alpine
//!   keeps one kernel installed, running when `uname -r` is
//!   `<version>-<rN number>-<flavor>` (`linux-lts 6.6.31-r0` ->
//!   `6.6.31-0-lts`); otherwise it was upgraded and the host not rebooted.
//!
//! A host that did not report `uname -r` gets [`KernelStatus::RunningUnknown`]
//! on every kernel instance: treated as exposed.

use std::borrow::Cow;

use patchwatch_reports::model::{Package, PackageType};

use crate::finding::KernelStatus;

const DEB_INSTANCE_PREFIXES: &[&str] = &[
    "linux-image-unsigned-",
    "linux-image-",
    "linux-modules-extra-",
    "linux-modules-",
];

/// Debian architectures (the suffix of `linux-signed-<arch>` sources).
const DEB_ARCHES: &[&str] = &[
    "amd64", "arm64", "i386", "armhf", "armel", "ppc64el", "s390x", "mips64el", "riscv64",
];

/// RPM kernel name tokens after `kernel-`: variants and subpackages of the
/// install-only kernel packages.
const RPM_KERNEL_TOKENS: &[&str] = &[
    "rt", "debug", "64k", "uek", "zfcpdump", "core", "modules", "extra", "internal", "partner",
    "devel", "matched",
];

/// The kernel release a dpkg kernel package is for, from its name.
fn deb_instance_release(name: &str) -> Option<&str> {
    let rest = DEB_INSTANCE_PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))?;
    rest.starts_with(|c: char| c.is_ascii_digit())
        .then(|| rest.strip_suffix("-unsigned").unwrap_or(rest))
}

fn rpm_is_instance(name: &str) -> bool {
    name == "kernel"
        || name
            .strip_prefix("kernel-")
            .is_some_and(|rest| rest.split('-').all(|t| RPM_KERNEL_TOKENS.contains(&t)))
}

fn rpm_running(p: &Package, running: &str) -> bool {
    let (base, variant) = match running.split_once('+') {
        Some((b, v)) => (b, Some(v)),
        None => (running, None),
    };
    let has_token = |t: &str| p.name.split('-').any(|x| x == t);
    let variant_ok = match variant {
        Some(v) => has_token(v),
        None => !has_token("debug") && !has_token("64k"),
    };
    if !variant_ok {
        return false;
    }
    // `version-release[.arch]` without allocating.
    let Some(rest) = base.strip_prefix(p.version.as_str()) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix('-') else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(p.release.as_str()) else {
        return false;
    };
    rest.is_empty() || rest.strip_prefix('.') == Some(p.arch.as_str())
}

fn apk_running(p: &Package, flavor: &str, running: &str) -> bool {
    // apk `6.6.31-r0` is `uname -r` `6.6.31-0-lts`.
    let Some((ver, rel)) = p.version.rsplit_once("-r") else {
        return false;
    };
    running
        .strip_prefix(ver)
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|r| r.strip_prefix(rel))
        .and_then(|r| r.strip_prefix('-'))
        == Some(flavor)
}

/// The kernel status of an installed package, or `None` when it is not a
/// kernel instance. `running` is `uname -r` (empty when unknown).
pub fn kernel_status(p: &Package, running: &str) -> Option<KernelStatus> {
    let is_running = match p.kind {
        PackageType::Deb => {
            let krel = deb_instance_release(&p.name)?;
            krel == running
        }
        PackageType::Rpm => {
            if !rpm_is_instance(&p.name) {
                return None;
            }
            rpm_running(p, running)
        }
        PackageType::Apk => {
            let flavor = p.name.strip_prefix("linux-")?;
            if flavor.is_empty()
                || flavor.contains('-')
                || matches!(flavor, "firmware" | "headers" | "pam" | "tools")
            {
                return None;
            }
            apk_running(p, flavor, running)
        }
        PackageType::Pacman | PackageType::Gentoo => return None,
    };
    Some(if running.is_empty() {
        KernelStatus::RunningUnknown
    } else if is_running {
        KernelStatus::Running
    } else {
        KernelStatus::InstalledNotRunning
    })
}

/// The source name a dpkg package is matched under: Debian's signed kernel
/// sources (`linux-signed-amd64`) are the tracker's `linux`, Ubuntu's
/// `linux-signed-hwe-6.8` is `linux-hwe-6.8`. Other names are unchanged.
pub fn source_alias(source: &str) -> Cow<'_, str> {
    match source.strip_prefix("linux-signed") {
        Some("") => Cow::Borrowed("linux"),
        Some(rest) => match rest.strip_prefix('-') {
            Some(arch) if DEB_ARCHES.contains(&arch) => Cow::Borrowed("linux"),
            Some(flavor) => Cow::Owned(format!("linux-{flavor}")),
            None => Cow::Borrowed(source),
        },
        None => Cow::Borrowed(source),
    }
}

/// A dpkg binary built from the kernel source that is not a kernel
/// (`linux-libc-dev`, headers, `linux-perf`, `bpftool`): not matched
/// against the kernel's statements (see the module documentation).
pub fn is_kernel_tool(p: &Package, source: &str) -> bool {
    p.kind == PackageType::Deb && source == "linux" && deb_instance_release(&p.name).is_none()
}

/// Whether any package of the set is a kernel instance: the running kernel
/// only changes the result of sets that have one.
pub fn has_kernel_instance(packages: &[Package]) -> bool {
    packages.iter().any(|p| kernel_status(p, "").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(kind: PackageType, name: &str, evr: &str, arch: &str) -> Package {
        let (epoch, version, release) = Package::split_evr(kind, evr);
        Package {
            name: name.into(),
            epoch,
            version,
            release,
            arch: arch.into(),
            kind,
            source_name: String::new(),
            source_version: String::new(),
        }
    }

    #[test]
    fn debian_instances() {
        let d = |n| pkg(PackageType::Deb, n, "6.1.76-1", "amd64");
        let run = "6.1.0-18-amd64";
        assert_eq!(
            kernel_status(&d("linux-image-6.1.0-18-amd64"), run),
            Some(KernelStatus::Running)
        );
        assert_eq!(
            kernel_status(&d("linux-image-6.1.0-18-amd64-unsigned"), run),
            Some(KernelStatus::Running)
        );
        assert_eq!(
            kernel_status(&d("linux-image-6.1.0-17-amd64"), run),
            Some(KernelStatus::InstalledNotRunning)
        );
        assert_eq!(kernel_status(&d("linux-image-amd64"), run), None);
        assert_eq!(kernel_status(&d("linux-libc-dev"), run), None);
        assert_eq!(
            kernel_status(&d("linux-image-6.1.0-17-amd64"), ""),
            Some(KernelStatus::RunningUnknown)
        );
        assert!(is_kernel_tool(&d("linux-libc-dev"), "linux"));
        assert!(!is_kernel_tool(&d("linux-image-6.1.0-17-amd64"), "linux"));
        assert_eq!(source_alias("linux-signed-amd64"), "linux");
        assert_eq!(source_alias("linux-signed-hwe-6.8"), "linux-hwe-6.8");
        assert_eq!(source_alias("openssl"), "openssl");
    }

    #[test]
    fn rpm_instances() {
        let r = |n, evr| pkg(PackageType::Rpm, n, evr, "x86_64");
        let run = "5.14.0-362.13.1.el9_3.x86_64";
        for n in [
            "kernel",
            "kernel-core",
            "kernel-modules",
            "kernel-modules-core",
        ] {
            assert_eq!(
                kernel_status(&r(n, "5.14.0-362.13.1.el9_3"), run),
                Some(KernelStatus::Running),
                "{n}"
            );
            assert_eq!(
                kernel_status(&r(n, "5.14.0-362.8.1.el9_3"), run),
                Some(KernelStatus::InstalledNotRunning),
                "{n}"
            );
        }
        assert_eq!(
            kernel_status(&r("kernel-debug-core", "5.14.0-362.13.1.el9_3"), run),
            Some(KernelStatus::InstalledNotRunning)
        );
        assert_eq!(
            kernel_status(
                &r("kernel-debug-core", "5.14.0-362.13.1.el9_3"),
                "5.14.0-362.13.1.el9_3.x86_64+debug"
            ),
            Some(KernelStatus::Running)
        );
        assert_eq!(
            kernel_status(&r("kernel-headers", "5.14.0-362.13.1.el9_3"), run),
            None
        );
        assert_eq!(
            kernel_status(&r("kernel-tools", "5.14.0-362.13.1.el9_3"), run),
            None
        );
    }

    #[test]
    fn apk_instances() {
        let a = |n, v| pkg(PackageType::Apk, n, v, "x86_64");
        assert_eq!(
            kernel_status(&a("linux-lts", "6.6.31-r0"), "6.6.31-0-lts"),
            Some(KernelStatus::Running)
        );
        assert_eq!(
            kernel_status(&a("linux-lts", "6.6.32-r0"), "6.6.31-0-lts"),
            Some(KernelStatus::InstalledNotRunning)
        );
        assert_eq!(kernel_status(&a("linux-firmware", "1-r0"), "x"), None);
        assert_eq!(kernel_status(&a("musl", "1.2.4-r2"), "x"), None);
    }
}
