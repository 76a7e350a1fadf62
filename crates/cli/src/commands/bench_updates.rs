//! `patchwatch bench updates`: the fleet's pending updates as the server
//! keeps them, first in full and then after one repository changes.
//!
//! The fleet (nine in ten hosts from the real Debian 12 inventory, one in
//! ten from the real RHEL 9 one) is stored first, straight to the store.
//! The three real bookworm suites are imported, the security suite first
//! without its openssl/libssl packages; then the real security suite is
//! imported as a DSA would bring it.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use patchwatch_assess::OsGroups;
use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_repos::RepoSnapshot;
use patchwatch_store::{Database, HostFilter, NewRepository, RepositoryKind};
use patchwatch_updates::{
    Catalogue, FleetUpdates, ImportSpec, KeptUpdates, SwitchStats, encode, fleet_updates,
    read_snapshot,
};
use serde::Serialize;

use super::Context;
use super::bench::scratch_location;
use super::bench_assess::store_reports;
use crate::cli::BenchUpdatesArgs;
use crate::output::{Format, print_json};

#[derive(Debug, Serialize)]
struct Step {
    name: String,
    /// Median over the runs, seconds.
    median_seconds: f64,
    runs_seconds: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    switch: Option<SwitchStats>,
}

fn median(mut runs: Vec<Duration>) -> f64 {
    runs.sort();
    runs[runs.len() / 2].as_secs_f64()
}

fn step(name: &str, runs: Vec<Duration>, switch: Option<SwitchStats>) -> Step {
    eprintln!("{name}: median {:.3} s", median(runs.clone()));
    Step {
        name: name.to_owned(),
        median_seconds: median(runs.clone()),
        runs_seconds: runs.iter().map(Duration::as_secs_f64).collect(),
        switch,
    }
}

fn suite(name: &str) -> anyhow::Result<RepoSnapshot> {
    let lists = shared_data_dir().join("debian/apt-lists");
    read_snapshot(&ImportSpec {
        kind: RepositoryKind::Apt,
        path: &lists,
        suite: name,
        components: &[],
        arch: "amd64",
    })
    .with_context(|| format!("reading {name} from {}", lists.display()))
}

async fn import(db: &Arc<dyn Database>, id: i64, snapshot: &RepoSnapshot) -> anyhow::Result<()> {
    let (document, sha256) = encode(snapshot)?;
    db.import_repo_snapshot(id, document, &sha256, snapshot.packages.len() as i64)
        .await?;
    Ok(())
}

/// Everything from the store to every host's updates, with nothing kept:
/// what `updates list` does.
async fn full(db: &Arc<dyn Database>, groups: &OsGroups) -> anyhow::Result<FleetUpdates> {
    let stored = db.current_repo_snapshots().await?;
    let catalogue = tokio::task::spawn_blocking(move || Catalogue::new(stored)).await??;
    let mut kept = KeptUpdates::new(Arc::new(catalogue));
    Ok(fleet_updates(db.as_ref(), &HostFilter::default(), &mut kept, groups).await?)
}

type View = Vec<(i64, Vec<String>, Vec<patchwatch_updates::HostUpdate>)>;

fn view(f: &FleetUpdates) -> View {
    f.hosts
        .iter()
        .map(|h| {
            (
                h.host_id,
                h.repositories.clone(),
                h.updates.as_ref().clone(),
            )
        })
        .collect()
}

pub async fn run(ctx: Context, args: BenchUpdatesArgs) -> anyhow::Result<ExitCode> {
    if args.hosts == 0 || args.concurrency == 0 || args.runs == 0 {
        bail!("--hosts, --concurrency and --runs must be at least 1");
    }
    let scratch = tempfile::tempdir()?;
    let location = scratch_location(&ctx, &scratch);
    let db = location.open().await?;
    let site = format!("BENCH-{}", std::process::id());
    let site_id = db.create_site(&site).await?.id;
    let start = Instant::now();
    let mut fleet = Fleet::new(vec![Image::debian12()?, Image::rhel9()?], 1).with_drift(args.drift);
    fleet.site = site.clone();
    store_reports(
        &db,
        &[(site_id, site.clone())],
        Arc::new(fleet),
        args.hosts,
        args.concurrency,
    )
    .await?;
    eprintln!(
        "Stored {} hosts in {:.1} s.",
        args.hosts,
        start.elapsed().as_secs_f64()
    );

    let security = suite("bookworm-security")?;
    let mut before_dsa = security.clone();
    before_dsa
        .packages
        .retain(|p| !p.package.name.contains("ssl"));
    let mut security_id = 0;
    for name in ["bookworm", "bookworm-updates", "bookworm-security"] {
        let repo = db
            .add_repository(&NewRepository {
                name: name.into(),
                kind: RepositoryKind::Apt,
                source: "http://deb.debian.org/debian".into(),
                suite: name.into(),
                components: vec!["main".into()],
                architectures: vec!["amd64".into()],
                priority: 0,
                cost: 1000,
                default_for: vec!["debian 12".into()],
            })
            .await?;
        if name == "bookworm-security" {
            security_id = repo.id;
            import(&db, repo.id, &before_dsa).await?;
        } else {
            import(&db, repo.id, &suite(name)?).await?;
        }
    }
    let groups = OsGroups::none();

    // 1. From the store to every host's updates, nothing kept.
    let mut runs = Vec::new();
    let mut first = None;
    for _ in 0..args.runs {
        let t = Instant::now();
        let f = full(&db, &groups).await?;
        runs.push(t.elapsed());
        first = Some(f);
    }
    let first = first.expect("at least one run");
    let mut steps = vec![step("full computation (store to result)", runs, None)];

    // 2. The security suite changes: reload (decoding only it) and
    // recompute the groups using it, from a kept state each run.
    import(&db, security_id, &security).await?;
    let mut runs = Vec::new();
    let mut answer_runs = Vec::new();
    let mut last = None;
    let mut stats = None;
    for _ in 0..args.runs {
        // The kept state before the change (not timed): the security
        // suite as it was, under a snapshot id no stored snapshot has.
        let stored_before = {
            let mut all = db.current_repo_snapshots().await?;
            for (repo, document) in &mut all {
                if repo.id == security_id {
                    *document = encode(&before_dsa)?.0;
                    if let Some(current) = repo.current.as_mut() {
                        current.id = -1;
                    }
                }
            }
            all
        };
        let mut kept = KeptUpdates::new(Arc::new(Catalogue::new(stored_before)?));
        fleet_updates(db.as_ref(), &HostFilter::default(), &mut kept, &groups).await?;

        let t = Instant::now();
        let stored = db.current_repo_snapshots().await?;
        let previous = kept.catalogue().clone();
        let catalogue = tokio::task::spawn_blocking(move || previous.reload(stored)).await??;
        stats = Some(kept.switch(Arc::new(catalogue)));
        runs.push(t.elapsed());
        let t = Instant::now();
        let f = fleet_updates(db.as_ref(), &HostFilter::default(), &mut kept, &groups).await?;
        answer_runs.push(t.elapsed());
        last = Some(f);
    }
    steps.push(step(
        "one repository changed: reload + recompute its groups",
        runs,
        stats,
    ));
    steps.push(step(
        "then every host's updates from the kept results",
        answer_runs,
        None,
    ));
    let incremental = last.expect("at least one run");

    // 3. The same from scratch: must be equal.
    let t = Instant::now();
    let fresh = full(&db, &groups).await?;
    steps.push(step(
        "full recomputation after the change",
        vec![t.elapsed()],
        None,
    ));
    if view(&incremental) != view(&fresh) {
        bail!("the incremental recomputation differs from the full one");
    }
    let changed = view(&first) != view(&fresh);
    if !changed {
        bail!("the security suite's change changed no host's updates");
    }

    let with_updates = fresh.hosts.iter().filter(|h| !h.updates.is_empty()).count();
    if ctx.format == Format::Json {
        print_json(&serde_json::json!({
            "database": location.display(),
            "hosts": args.hosts,
            "hosts_with_updates": with_updates,
            "distinct_results": fresh.distinct,
            "steps": steps,
        }))?;
    } else {
        println!(
            "database {}, {} hosts ({with_updates} with updates), {} distinct (set, repositories, arch) results",
            location.display(),
            args.hosts,
            fresh.distinct
        );
        println!("{:<56} {:>10}", "step", "median s");
        for s in &steps {
            println!("{:<56} {:>10.3}", s.name, s.median_seconds);
        }
    }
    Ok(ExitCode::SUCCESS)
}
