//! dnf updates for a synthetic fleet built from the real RHEL 9 inventory
//! (`patchwatch-fleet`, 243 packages per host, 30 % of hosts drifted)
//! against the real CentOS Stream 9 BaseOS + AppStream repositories: the
//! per-host cost with no sharing between identical hosts.
//!
//! ```text
//! cargo run --release -p patchwatch-repos --example fleet_updates -- 10000
//! ```

use std::time::{Duration, Instant};

use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_repos::rpmmd::{
    self,
    select::{DnfIndex, DnfOptions, DnfRepo},
};

fn main() {
    let hosts: usize = std::env::args()
        .nth(1)
        .map_or(10_000, |n| n.parse().expect("a host count"));
    let data = shared_data_dir().join("repos/centos-stream-9");
    let start = Instant::now();
    let baseos = rpmmd::read_dir(&data.join("baseos-x86_64-2022-02-07")).expect("BaseOS");
    let appstream = rpmmd::read_dir(&data.join("appstream-x86_64-2025-01-13")).expect("AppStream");
    let read = start.elapsed();
    let repos = [DnfRepo::new(&baseos), DnfRepo::new(&appstream)];
    let start = Instant::now();
    let index = DnfIndex::new(&repos, &DnfOptions::default());
    let built = start.elapsed();

    let fleet = Fleet::new(vec![Image::rhel9().expect("RHEL 9 image")], 42).with_drift(300);
    let mut computing = Duration::ZERO;
    let (mut packages, mut updates, mut with_updates) = (0usize, 0usize, 0usize);
    for i in 0..hosts {
        let installed = fleet.report(i).packages.unwrap_or_default();
        let start = Instant::now();
        let u = index.updates(&installed, "x86_64");
        computing += start.elapsed();
        packages += installed.len();
        updates += u.len();
        with_updates += usize::from(!u.is_empty());
    }
    println!(
        "read BaseOS + AppStream {:.0} ms, index {:.1} ms; {hosts} hosts, {packages} packages: \
         updates computed in {:.3} s ({:.1} µs/host); {updates} updates, {with_updates} hosts with updates",
        read.as_secs_f64() * 1e3,
        built.as_secs_f64() * 1e3,
        computing.as_secs_f64(),
        computing.as_secs_f64() * 1e6 / hosts as f64,
    );
}
