//! Realistic synthetic fleets built from real host inventories.
//!
//! Tests and benchmarks need thousands of hosts that look like a real site:
//! most alike (a cluster installed from one image), a few versions apart
//! (nodes that missed an update), the odd extra package. [`inventory`] reads
//! real installed-package databases; [`Fleet`] derives hosts from them,
//! deterministically from a seed; [`hosts`] names the single hosts many
//! tests share.
#![forbid(unsafe_code)]

pub mod apt;
pub mod hosts;
pub mod inventory;

use patchwatch_reports::{ClientInfo, Kernel, OsInfo, Package, Protocol, RebootHint, Report};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The shared data set beside the repository (`../shared/data`), as CI and
/// the development machines lay it out. `PATCHWATCH_SHARED_DATA` overrides.
pub fn shared_data_dir() -> std::path::PathBuf {
    if let Ok(dir) = std::env::var("PATCHWATCH_SHARED_DATA") {
        return dir.into();
    }
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// A base image: an OS and its installed packages.
#[derive(Debug, Clone)]
pub struct Image {
    pub os: OsInfo,
    pub kernel: String,
    pub arch: String,
    pub packages: Vec<Package>,
}

impl Image {
    /// The real Debian 12 host of the shared data set (716 packages).
    pub fn debian12() -> Result<Image, inventory::InventoryError> {
        let path = shared_data_dir().join("hosts/this-machine_debian12_dpkg-status.xz");
        Ok(Image {
            os: OsInfo {
                id: "debian".into(),
                version_id: "12".into(),
                version_codename: "bookworm".into(),
                pretty_name: "Debian GNU/Linux 12 (bookworm)".into(),
                id_like: String::new(),
            },
            kernel: "6.1.0-27-amd64".into(),
            arch: "x86_64".into(),
            packages: inventory::dpkg_status(&inventory::read_maybe_xz(&path)?)?,
        })
    }

    /// The RHEL 9 (UBI) image of the shared data set (243 packages).
    pub fn rhel9() -> Result<Image, inventory::InventoryError> {
        let path = shared_data_dir().join("hosts/claircore_ubi9-httpd.rpm-manifest.json");
        Ok(Image {
            os: OsInfo {
                id: "rhel".into(),
                version_id: "9.5".into(),
                version_codename: String::new(),
                pretty_name: "Red Hat Enterprise Linux 9.5 (Plow)".into(),
                id_like: "fedora".into(),
            },
            kernel: "5.14.0-503.15.1.el9_5.x86_64".into(),
            arch: "x86_64".into(),
            packages: inventory::rpm_manifest(&inventory::read_maybe_xz(&path)?)?,
        })
    }
}

impl Image {
    /// The RHEL 9 image relabelled AlmaLinux 9.5, which the AlmaLinux OSV
    /// data has findings for.
    pub fn almalinux9() -> Result<Image, inventory::InventoryError> {
        let mut image = Image::rhel9()?;
        image.os.id = "almalinux".into();
        Ok(image)
    }
}

/// Deterministic fleet: host `i` is always the same report for one seed.
pub struct Fleet {
    images: Vec<Image>,
    seed: u64,
    /// Share of hosts (per mille) that differ from their image.
    drift_per_mille: u32,
    pub site: String,
    pub domain: String,
}

impl Fleet {
    pub fn new(images: Vec<Image>, seed: u64) -> Fleet {
        assert!(!images.is_empty(), "a fleet needs at least one image");
        Fleet {
            images,
            seed,
            drift_per_mille: 300,
            site: "BENCH".into(),
            domain: "example.org".into(),
        }
    }

    /// Hosts exactly as `image` has them (seed 1, no drift), reporting
    /// for `site`: the fixed hosts tests compare answers against.
    pub fn exact(image: Image, site: &str) -> Fleet {
        let mut fleet = Fleet::new(vec![image], 1).with_drift(0);
        fleet.site = site.into();
        fleet
    }

    /// Hosts named under `SITE.example` (the site in lower case), so the
    /// same host number in two sites is two names.
    pub fn named_after_site(mut self) -> Fleet {
        self.domain = format!("{}.example", self.site.to_ascii_lowercase());
        self
    }

    /// How many hosts in a thousand differ from their image.
    pub fn with_drift(mut self, per_mille: u32) -> Fleet {
        self.drift_per_mille = per_mille.min(1000);
        self
    }

    pub fn hostname(&self, i: usize) -> String {
        format!("node{i:06}.{}", self.domain)
    }

    /// The report host `i` sends.
    pub fn report(&self, i: usize) -> Report {
        let mut rng =
            StdRng::seed_from_u64(self.seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        // Most hosts come from the first image, like a site with one
        // main cluster and a few service machines.
        let image = if self.images.len() > 1 && rng.random_range(0..10) == 0 {
            &self.images[1 + rng.random_range(0..self.images.len() - 1)]
        } else {
            &self.images[0]
        };
        let mut packages = image.packages.clone();
        if rng.random_range(0..1000) < self.drift_per_mille {
            // A few packages a version behind or ahead, sometimes an extra one.
            for _ in 0..rng.random_range(1..=4) {
                let k = rng.random_range(0..packages.len());
                let p = &mut packages[k];
                p.release = if p.release.is_empty() {
                    format!("{}", rng.random_range(1..5))
                } else {
                    format!("{}.{}", p.release, rng.random_range(1..5))
                };
            }
            if rng.random_range(0..4) == 0 {
                let mut extra = packages[0].clone();
                extra.name = format!("site-tool-{}", rng.random_range(0..50));
                packages.push(extra);
            }
        }
        let mut report = Report::new(Protocol::Native, self.hostname(i));
        report.site = Some(self.site.clone());
        report.tags = vec![
            if i.is_multiple_of(10) {
                "service"
            } else {
                "worker"
            }
            .to_owned(),
        ];
        report.os = image.os.clone();
        report.kernel = Kernel {
            release: image.kernel.clone(),
            version: "#1 SMP PREEMPT_DYNAMIC".into(),
        };
        report.arch = image.arch.clone();
        report.packages = Some(packages);
        report.reboot = RebootHint {
            required: Some(i.is_multiple_of(17)),
            reasons: Vec::new(),
        };
        report.client = ClientInfo {
            name: "patchwatch-fleet".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        };
        report
    }
}
