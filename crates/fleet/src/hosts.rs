//! The single hosts many tests build: the real Debian 12 and AlmaLinux 9
//! inventories as one site's host, and the Debian host with two kernels
//! installed. Each is [`Fleet::exact`], so host `i` is always the same
//! report. They panic when the shared data set can't be read: no test
//! that asks for them can go on without it.

use patchwatch_reports::{Package, Report};

use crate::{Fleet, Image};

fn image(image: Result<Image, crate::inventory::InventoryError>) -> Image {
    image.unwrap_or_else(|e| panic!("the shared data set's inventory: {e}"))
}

/// Host `i` of `site`: the real Debian 12 host, named under `SITE.example`.
pub fn debian12(site: &str, i: usize) -> Report {
    Fleet::exact(image(Image::debian12()), site)
        .named_after_site()
        .report(i)
}

/// Host `i` of `site`: the real RHEL 9 inventory as AlmaLinux 9.5, named
/// under `example.org`.
pub fn almalinux9(site: &str, i: usize) -> Report {
    Fleet::exact(image(Image::almalinux9()), site).report(i)
}

/// A Debian kernel image package, shaped like the status's packages.
fn kernel_image(template: &Package, abi: &str, version: &str) -> Package {
    Package {
        name: format!("linux-image-{abi}-amd64"),
        epoch: String::new(),
        version: version.into(),
        release: String::new(),
        arch: "amd64".into(),
        source_name: "linux-signed-amd64".into(),
        source_version: String::new(),
        ..template.clone()
    }
}

/// Host `i` of site `SITE`: the real Debian 12 host with kernels 6.1.0-18
/// and 6.1.0-21 installed, running `running`, saying nothing about a
/// reboot.
pub fn debian12_with_kernels(i: usize, running: &str) -> Report {
    let mut report = Fleet::exact(image(Image::debian12()), "SITE").report(i);
    report.kernel.release = running.into();
    report.reboot.required = None;
    let packages = report
        .packages
        .as_mut()
        .expect("the Debian image has packages");
    let template = packages[0].clone();
    packages.push(kernel_image(&template, "6.1.0-18", "6.1.76-1"));
    packages.push(kernel_image(&template, "6.1.0-21", "6.1.90-1"));
    report
}
