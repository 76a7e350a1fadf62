//! Kernels: the running one (`uname -r`), the newest installed, the newest
//! the host's repositories offer, and whether a reboot is required,
//! derived from the packages (the running kernel is older than the newest
//! installed one) as well as taken from the client's flag.
//!
//! Kernel packages are recognised by each package manager's naming rules:
//!
//! * dpkg: `linux-image-RELEASE` (`linux-image-6.1.0-27-amd64`), where
//!   RELEASE is what `uname -r` prints; meta packages (`linux-image-amd64`),
//!   `-dbg` packages and signing templates are not kernels. `-unsigned`
//!   images count as their release. Newest available: same flavour
//!   (`amd64`, `cloud-amd64`) and series (`6.1`) as the running kernel,
//!   which is what the installed meta package follows.
//! * rpm: the installonly kernel packages (`kernel`, `kernel-core`,
//!   `kernel-default`, `kernel-uek`, ...); `uname -r` is
//!   `VERSION-RELEASE.ARCH` (`5.14.0-503.15.1.el9_5.x86_64`) or, on SUSE,
//!   `VERSION-RELEASE-FLAVOUR` with the release's last field cut.
//! * apk: `linux-FLAVOUR` (`linux-lts` 6.12.8-r0 runs as `6.12.8-0-lts`);
//!   apk keeps one version installed.

use std::cmp::Ordering;

use patchwatch_reports::{Package, PackageType};
use patchwatch_versions::{Scheme, compare};
use serde::Serialize;

/// One kernel package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelPackage {
    pub name: String,
    /// The package's `[epoch:]version[-release]`.
    pub version: String,
    pub arch: String,
}

/// A host's kernels and whether it must reboot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelStatus {
    /// `uname -r` as reported.
    pub running: String,
    /// The installed kernel package the running kernel is, if any.
    pub running_package: Option<KernelPackage>,
    pub newest_installed: Option<KernelPackage>,
    /// The newest kernel of the same kind in the host's repositories
    /// (whether or not it is newer than the installed ones).
    pub newest_available: Option<KernelPackage>,
    /// A newer kernel than every installed one is available.
    pub update_available: bool,
    /// Derived here: the running kernel is older than the newest
    /// installed one.
    pub reboot_required_derived: bool,
    /// What the client said, when it said it.
    pub reboot_required_reported: Option<bool>,
    /// Either of the two.
    pub reboot_required: bool,
}

/// The kernel status of a host with `installed` packages running
/// `running`, whose repositories offer `available` (every package of the
/// host's repositories; other architectures and non-kernels are skipped).
/// `arch` is the host's architecture as reported (`x86_64`, `amd64`).
pub fn kernel_status<'a>(
    installed: &[Package],
    running: &str,
    arch: &str,
    available: impl IntoIterator<Item = &'a Package>,
    reported: Option<bool>,
) -> KernelStatus {
    let running = running.trim();
    let kind = installed
        .iter()
        .map(|p| p.kind)
        .find(|k| matches!(k, PackageType::Deb | PackageType::Rpm | PackageType::Apk));
    let rules: Option<Box<dyn KernelRules>> = match kind {
        Some(PackageType::Deb) => Some(Box::new(Dpkg::new(running))),
        Some(PackageType::Rpm) => Some(Box::new(Rpm::new(running, installed))),
        Some(PackageType::Apk) => Some(Box::new(Apk::new(running))),
        _ => None,
    };
    let Some(rules) = rules else {
        return KernelStatus {
            running: running.to_owned(),
            running_package: None,
            newest_installed: None,
            newest_available: None,
            update_available: false,
            reboot_required_derived: false,
            reboot_required_reported: reported,
            reboot_required: reported == Some(true),
        };
    };
    let scheme = rules.scheme();
    // Equal versions (a signed and an `-unsigned` image): the shorter
    // name.
    let order = |a: &&Package, b: &&Package| {
        compare(scheme, &a.evr(), &b.evr()).then_with(|| b.name.cmp(&a.name))
    };
    let newest = |packages: &mut dyn Iterator<Item = &Package>| -> Option<Package> {
        packages
            .filter(|p| rules.is_kernel(p))
            .max_by(order)
            .cloned()
    };
    let newest_installed = newest(&mut installed.iter());
    let running_package = installed
        .iter()
        .filter(|p| rules.is_kernel(p) && rules.is_running(p))
        .max_by(order)
        .cloned();
    let wanted_arches = arch_names(arch);
    let newest_available = newest(
        &mut available
            .into_iter()
            .filter(|p| rules.same_line(p))
            .filter(|p| {
                p.arch.is_empty() || wanted_arches.contains(&p.arch.as_str()) || p.arch == "all"
            }),
    );
    let reboot_required_derived = match (&newest_installed, &running_package) {
        (None, _) => false,
        // The running kernel is an installed package older than the newest.
        (Some(newest), Some(running)) => {
            compare(scheme, &newest.evr(), &running.evr()) == Ordering::Greater
        }
        // The running kernel's package is gone: newer ones replaced it,
        // unless it is newer than every installed one (a custom build).
        (Some(newest), None) => rules.newer_than_running(newest),
    };
    let update_available = match (&newest_available, &newest_installed) {
        (Some(a), Some(i)) => compare(scheme, &a.evr(), &i.evr()) == Ordering::Greater,
        _ => false,
    };
    let package = |p: Package| KernelPackage {
        version: p.evr(),
        name: p.name,
        arch: p.arch,
    };
    KernelStatus {
        running: running.to_owned(),
        running_package: running_package.map(package),
        newest_installed: newest_installed.map(package),
        newest_available: newest_available.map(package),
        update_available,
        reboot_required_derived,
        reboot_required_reported: reported,
        reboot_required: reboot_required_derived || reported == Some(true),
    }
}

/// The installed packages [`kernel_status`] looks at, whatever the running
/// kernel (without available packages): the first package of a known kind
/// (which decides the naming rules) and every package that may be a
/// kernel, in their order. A few packages to keep per package set where a
/// whole set would be too much, such as the server's pass over every
/// stored set; `kernel_status` on them answers as on the whole set.
pub fn kernel_candidates(installed: &[Package]) -> Vec<Package> {
    let first_typed = installed.iter().position(|p| {
        matches!(
            p.kind,
            PackageType::Deb | PackageType::Rpm | PackageType::Apk
        )
    });
    installed
        .iter()
        .enumerate()
        .filter(|&(i, p)| {
            Some(i) == first_typed
                || dpkg_release(&p.name).is_some()
                || RPM_KERNELS.contains(&p.name.as_str())
                || p.name.starts_with("linux-")
        })
        .map(|(_, p)| p.clone())
        .collect()
}

/// The names an architecture goes by in package indexes.
fn arch_names(arch: &str) -> Vec<&str> {
    match arch {
        "x86_64" | "amd64" => vec!["x86_64", "amd64"],
        "aarch64" | "arm64" => vec!["aarch64", "arm64"],
        "ppc64le" | "ppc64el" => vec!["ppc64le", "ppc64el"],
        "i686" | "i586" | "i386" => vec!["i686", "i586", "i386"],
        "armv7l" | "armhf" | "armv7" => vec!["armv7l", "armhf", "armv7"],
        other => vec![other],
    }
}

trait KernelRules {
    fn scheme(&self) -> Scheme;
    /// An installed kernel package (any flavour of this package manager).
    fn is_kernel(&self, p: &Package) -> bool;
    /// The package the running kernel was installed from.
    fn is_running(&self, p: &Package) -> bool;
    /// A kernel the host would install next: its flavour and series.
    fn same_line(&self, p: &Package) -> bool;
    /// `newest` (an installed kernel) is newer than the running kernel,
    /// judged from `uname -r` alone.
    fn newer_than_running(&self, newest: &Package) -> bool;
}

/// `linux-image-RELEASE` -> RELEASE, for kernel images only.
fn dpkg_release(name: &str) -> Option<&str> {
    let release = name.strip_prefix("linux-image-")?;
    let release = release.strip_suffix("-unsigned").unwrap_or(release);
    (release.starts_with(|c: char| c.is_ascii_digit())
        && !release.ends_with("-dbg")
        && !release.ends_with("-template"))
    .then_some(release)
}

/// `6.1.0-27-cloud-amd64` -> (`6.1`, `cloud-amd64`): the series and the
/// flavour (the fields after the ABI).
fn dpkg_line(release: &str) -> (String, String) {
    let series: Vec<&str> = release.split(['.', '-', '+']).take(2).collect();
    let flavour: Vec<&str> = release
        .split('-')
        .skip_while(|f| f.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    (series.join("."), flavour.join("-"))
}

struct Dpkg {
    running: String,
    line: (String, String),
}

impl Dpkg {
    fn new(running: &str) -> Dpkg {
        Dpkg {
            running: running.to_owned(),
            line: dpkg_line(running),
        }
    }
}

impl KernelRules for Dpkg {
    fn scheme(&self) -> Scheme {
        Scheme::Deb
    }
    fn is_kernel(&self, p: &Package) -> bool {
        dpkg_release(&p.name).is_some()
    }
    fn is_running(&self, p: &Package) -> bool {
        dpkg_release(&p.name) == Some(self.running.as_str())
    }
    fn same_line(&self, p: &Package) -> bool {
        dpkg_release(&p.name).is_some_and(|r| dpkg_line(r) == self.line)
    }
    fn newer_than_running(&self, newest: &Package) -> bool {
        // Debian ABI names order like versions (6.1.0-27 < 6.1.0-28).
        dpkg_release(&newest.name)
            .is_some_and(|r| compare(Scheme::Deb, r, &self.running) == Ordering::Greater)
    }
}

/// rpm's installonly kernel packages (dnf's `installonlypkgs` kernels).
const RPM_KERNELS: [&str; 12] = [
    "kernel",
    "kernel-core",
    "kernel-default",
    "kernel-uek",
    "kernel-uek-core",
    "kernel-rt",
    "kernel-rt-core",
    "kernel-lt",
    "kernel-ml",
    "kernel-64k",
    "kernel-64k-core",
    "kernel-azure",
];

struct Rpm {
    /// `uname -r` without the architecture or SUSE flavour:
    /// `5.14.0-503.15.1.el9_5`.
    running_vr: String,
    /// The kernel package name the host uses (the running kernel's, else
    /// the first installed one).
    name: Option<String>,
}

impl Rpm {
    fn new(running: &str, installed: &[Package]) -> Rpm {
        let mut vr = running;
        for arch in [
            "x86_64", "aarch64", "ppc64le", "s390x", "i686", "noarch", "armv7hl",
        ] {
            if let Some(cut) = vr.strip_suffix(arch).and_then(|v| v.strip_suffix('.')) {
                vr = cut;
            }
        }
        // SUSE: `5.14.21-150500.55.39-default`.
        if let Some((head, flavour)) = vr.rsplit_once('-')
            && flavour.chars().all(|c| c.is_ascii_alphabetic())
            && head.contains('-')
        {
            vr = head;
        }
        let mut rules = Rpm {
            running_vr: vr.to_owned(),
            name: None,
        };
        let kernels = || {
            installed
                .iter()
                .filter(|p| RPM_KERNELS.contains(&p.name.as_str()))
        };
        rules.name = kernels()
            .find(|p| rules.is_running(p))
            .or_else(|| kernels().next())
            .map(|p| p.name.clone());
        rules
    }
}

impl KernelRules for Rpm {
    fn scheme(&self) -> Scheme {
        Scheme::Rpm
    }
    fn is_kernel(&self, p: &Package) -> bool {
        self.name.as_deref() == Some(p.name.as_str())
    }
    fn is_running(&self, p: &Package) -> bool {
        let vr = format!("{}-{}", p.version, p.release);
        vr == self.running_vr || vr.starts_with(&format!("{}.", self.running_vr))
    }
    fn same_line(&self, p: &Package) -> bool {
        self.is_kernel(p)
    }
    fn newer_than_running(&self, newest: &Package) -> bool {
        let vr = format!("{}-{}", newest.version, newest.release);
        compare(Scheme::Rpm, &vr, &self.running_vr) == Ordering::Greater
    }
}

struct Apk {
    /// `6.12.8-0-lts` -> `linux-lts`, `6.12.8-r0`.
    name: Option<String>,
    running_version: String,
}

impl Apk {
    fn new(running: &str) -> Apk {
        let mut fields = running.rsplitn(3, '-');
        match (fields.next(), fields.next(), fields.next()) {
            (Some(flavour), Some(revision), Some(version))
                if revision.chars().all(|c| c.is_ascii_digit()) =>
            {
                Apk {
                    name: Some(format!("linux-{flavour}")),
                    running_version: format!("{version}-r{revision}"),
                }
            }
            _ => Apk {
                name: None,
                running_version: String::new(),
            },
        }
    }
}

impl KernelRules for Apk {
    fn scheme(&self) -> Scheme {
        Scheme::Apk
    }
    fn is_kernel(&self, p: &Package) -> bool {
        self.name.as_deref() == Some(p.name.as_str())
    }
    fn is_running(&self, p: &Package) -> bool {
        p.evr() == self.running_version
    }
    fn same_line(&self, p: &Package) -> bool {
        self.is_kernel(p)
    }
    fn newer_than_running(&self, newest: &Package) -> bool {
        compare(Scheme::Apk, &newest.evr(), &self.running_version) == Ordering::Greater
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_names_and_lines() {
        assert_eq!(
            dpkg_release("linux-image-6.1.0-27-amd64"),
            Some("6.1.0-27-amd64")
        );
        assert_eq!(
            dpkg_release("linux-image-6.1.0-53-amd64-unsigned"),
            Some("6.1.0-53-amd64")
        );
        assert_eq!(dpkg_release("linux-image-amd64"), None);
        assert_eq!(dpkg_release("linux-image-6.1.0-53-amd64-dbg"), None);
        assert_eq!(dpkg_release("linux-image-6.12-amd64-signed-template"), None);
        assert_eq!(
            dpkg_line("6.1.0-27-cloud-amd64"),
            ("6.1".to_owned(), "cloud-amd64".to_owned())
        );
        assert_eq!(
            dpkg_line("6.12.100+deb12-amd64"),
            ("6.12".to_owned(), "amd64".to_owned())
        );
    }

    #[test]
    fn rpm_and_apk_running_kernels() {
        let rpm = Rpm::new("5.14.21-150500.55.39-default", &[]);
        assert_eq!(rpm.running_vr, "5.14.21-150500.55.39");
        let rpm = Rpm::new("5.14.0-503.15.1.el9_5.x86_64", &[]);
        assert_eq!(rpm.running_vr, "5.14.0-503.15.1.el9_5");
        let apk = Apk::new("6.12.8-0-lts");
        assert_eq!(apk.name.as_deref(), Some("linux-lts"));
        assert_eq!(apk.running_version, "6.12.8-r0");
    }
}
