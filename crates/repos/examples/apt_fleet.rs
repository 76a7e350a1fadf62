//! The fleet numbers of docs/PERFORMANCE.md: import the three bookworm
//! suites, build the candidate index, compute the updates of N hosts built
//! from the real Debian 12 inventory (30% drifted), then recompute after one
//! suite changes (index rebuild + every host). Medians over RUNS.
//!
//! ```text
//! cargo run --release -p patchwatch-repos --example apt_fleet -- [HOSTS] [RUNS]
//! ```

use std::time::Instant;

use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_repos::RepoSnapshot;
use patchwatch_repos::apt::{AptConfig, AptIndex, import_dist};

const SUITES: [&str; 3] = [
    "deb.debian.org_debian_dists_bookworm",
    "deb.debian.org_debian_dists_bookworm-updates",
    "deb.debian.org_debian-security_dists_bookworm-security",
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let hosts: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let dir = shared_data_dir().join("debian/apt-lists");
    let start = Instant::now();
    let snapshots: Vec<RepoSnapshot> = SUITES
        .iter()
        .map(|prefix| {
            import_dist(
                &dir.join(format!("{prefix}_InRelease")),
                &["main"],
                "amd64",
                |listed| dir.join(format!("{prefix}_{}", listed.replace('/', "_"))),
            )
            .expect("bookworm suite")
        })
        .collect();
    println!(
        "import 3 suites, checksums verified: {:.3} s",
        start.elapsed().as_secs_f64()
    );
    let refs: Vec<&RepoSnapshot> = snapshots.iter().collect();
    let config = AptConfig::new("amd64");

    let image = Image::debian12().expect("debian12 image");
    let fleet = Fleet::new(vec![image.clone()], 7).with_drift(300);
    let sets: Vec<_> = (0..hosts)
        .map(|i| fleet.report(i).packages.unwrap_or_default())
        .collect();
    let host_refs: Vec<&[_]> = sets.iter().map(Vec::as_slice).collect();

    let (mut build, mut one, mut many, mut changed) = (vec![], vec![], vec![], vec![]);
    let mut updates = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let index = AptIndex::build(&refs, &config);
        build.push(t.elapsed().as_secs_f64());

        let t = Instant::now();
        updates = index.updates(&image.packages).len();
        one.push(t.elapsed().as_secs_f64());

        let t = Instant::now();
        let all = index.updates_many(&host_refs);
        many.push(t.elapsed().as_secs_f64());
        assert_eq!(all.len(), hosts);
        drop(index);

        // One suite changed: its snapshot is replaced, the set's index
        // rebuilt and every host recomputed.
        let t = Instant::now();
        let index = AptIndex::build(&refs, &config);
        let all = index.updates_many(&host_refs);
        changed.push(t.elapsed().as_secs_f64());
        assert_eq!(all.len(), hosts);
    }
    println!("index build (3 suites): median {:.3} s", median(build));
    println!(
        "one host ({} packages, {updates} updates): median {:.1} us",
        image.packages.len(),
        median(one) * 1e6
    );
    println!("{hosts} hosts: median {:.3} s", median(many));
    println!(
        "one suite changed, rebuild + {hosts} hosts: median {:.3} s",
        median(changed)
    );
}
