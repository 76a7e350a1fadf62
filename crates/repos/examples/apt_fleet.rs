//! The fleet numbers of docs/PERFORMANCE.md: import the three bookworm
//! suites, build the candidate index, compute the updates of N hosts built
//! from the real Debian 12 inventory (30% drifted), then recompute after one
//! suite changes (index rebuild + every host). Medians over RUNS.
//!
//! ```text
//! cargo run --release -p patchwatch-repos --example apt_fleet -- [HOSTS] [RUNS]
//! ```

use std::collections::HashMap;
use std::time::Instant;

use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::Package;
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
    // Hosts without drift refer to the image's list, as the server's
    // stored sets are shared by hash.
    let drifted: Vec<Option<Vec<_>>> = (0..hosts)
        .map(|i| {
            let packages = fleet.report(i).packages.unwrap_or_default();
            (packages != image.packages).then_some(packages)
        })
        .collect();
    let host_refs: Vec<&[_]> = drifted
        .iter()
        .map(|d| d.as_deref().unwrap_or(&image.packages))
        .collect();
    println!(
        "{hosts} hosts, {} drifted from the image",
        drifted.iter().filter(|d| d.is_some()).count()
    );

    // The server's form: distinct sets as member ids into one package
    // table (`package_set_members` + `packages_by_id`).
    let mut ids: HashMap<&Package, i64> = HashMap::new();
    let mut table: Vec<(i64, Package)> = Vec::new();
    let mut set_ids: HashMap<Vec<i64>, i64> = HashMap::new();
    for set in &host_refs {
        let mut members: Vec<i64> = set
            .iter()
            .map(|p| {
                *ids.entry(p).or_insert_with(|| {
                    table.push((table.len() as i64, p.clone()));
                    table.len() as i64 - 1
                })
            })
            .collect();
        members.sort_unstable();
        let next = set_ids.len() as i64;
        set_ids.entry(members).or_insert(next);
    }
    let stored: Vec<(i64, Vec<i64>)> = set_ids.into_iter().map(|(m, id)| (id, m)).collect();
    println!(
        "as stored: {} distinct sets over {} distinct packages",
        stored.len(),
        table.len()
    );

    let (mut build, mut one, mut many, mut changed) = (vec![], vec![], vec![], vec![]);
    let (mut from_sets, mut changed_sets) = (vec![], vec![]);
    let mut updates = 0;
    let mut distinct = 0;
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
        distinct = all.updates.len();
        assert_eq!(all.sets.len(), hosts);

        let t = Instant::now();
        let all = index.updates_for_sets(&table, &stored);
        from_sets.push(t.elapsed().as_secs_f64());
        assert_eq!(all.sets.len(), stored.len());

        let t = Instant::now();
        let index2 = AptIndex::build(&refs, &config);
        let all = index2.updates_for_sets(&table, &stored);
        changed_sets.push(t.elapsed().as_secs_f64());
        assert_eq!(all.sets.len(), stored.len());
        drop((index, index2));

        // One suite changed: its snapshot is replaced, the set's index
        // rebuilt and every host recomputed.
        let t = Instant::now();
        let index = AptIndex::build(&refs, &config);
        let all = index.updates_many(&host_refs);
        changed.push(t.elapsed().as_secs_f64());
        assert_eq!(all.sets.len(), hosts);
    }
    println!("index build (3 suites): median {:.3} s", median(build));
    println!(
        "one host ({} packages, {updates} updates): median {:.1} us",
        image.packages.len(),
        median(one) * 1e6
    );
    println!(
        "{hosts} hosts ({distinct} distinct updates): median {:.3} s",
        median(many)
    );
    println!(
        "one suite changed, rebuild + {hosts} hosts: median {:.3} s",
        median(changed)
    );
    println!(
        "{hosts} hosts as stored sets: median {:.3} s",
        median(from_sets)
    );
    println!(
        "one suite changed, rebuild + stored sets of {hosts} hosts: median {:.3} s",
        median(changed_sets)
    );
}
