//! `patchwatch bench assess`: the fleet's assessment as the server keeps
//! it, first in full and then after feed changes.
//!
//! The fleet is stored first (reports written straight to the store, not
//! over HTTP: `bench ingest` measures that), then the real AlmaLinux OSV
//! database is imported in two generations: without its most recently
//! modified advisories, then whole, as a vendor update would bring them.

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use patchwatch_advisories::compression;
use patchwatch_assess::OsGroups;
use patchwatch_fleet::{Fleet, Image, shared_data_dir};
use patchwatch_reports::os;
use patchwatch_store::{Database, FeedKind, IngestRequest, NewFeed, now_millis};
use patchwatch_vulndb::{
    FleetAssessment, FleetHosts, LoadedIndex, Triage, UpdateStats, load_index_since,
};
use serde::Serialize;

use super::Context;
use super::bench::scratch_location;
use crate::cli::BenchAssessArgs;
use crate::output::{Format, print_json};

pub(super) const ALMA: &str = "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz";
/// Advisories the "vendor update" brings: about a week of AlmaLinux errata.
const UPDATE_SIZE: usize = 50;

#[derive(Debug, Serialize)]
struct Step {
    name: String,
    /// Advisories new, changed or removed since the previous index.
    changed_advisories: usize,
    /// Package names they name, now or before.
    touched_names: usize,
    index_seconds: f64,
    stats: UpdateStats,
    /// Index plus assessment: from the new generation to an up-to-date
    /// fleet.
    total_seconds: f64,
}

pub async fn run(ctx: Context, args: BenchAssessArgs) -> anyhow::Result<ExitCode> {
    if args.hosts == 0 || args.concurrency == 0 {
        bail!("--hosts and --concurrency must be at least 1");
    }
    let scratch = tempfile::tempdir()?;
    let location = scratch_location(&ctx, &scratch);
    let db = location.open().await?;
    let site = format!("BENCH-{}", std::process::id());
    let site_id = db.create_site(&site).await?.id;

    let start = Instant::now();
    store_fleet(
        &db,
        &[(site_id, site.clone())],
        args.hosts,
        args.drift,
        args.concurrency,
    )
    .await?;
    eprintln!(
        "Stored {} hosts in {:.1} s.",
        args.hosts,
        start.elapsed().as_secs_f64()
    );
    let site_id = db
        .site(&site)
        .await?
        .with_context(|| format!("site {site:?} was just created"))?
        .id;
    let in_site = |id: i64| id == site_id;
    let mut hosts = FleetHosts::read(db.as_ref()).await?;
    hosts.retain_sites(in_site);

    let full_doc = std::fs::read(shared_data_dir().join(ALMA)).context(ALMA)?;
    let (without_update, update_ids) = without_newest(&full_doc, UPDATE_SIZE)?;
    let alma = db
        .add_feed(&NewFeed {
            name: "bench-alma".into(),
            kind: FeedKind::Osv,
            source: ALMA.into(),
            releases: "AlmaLinux 8, 9".into(),
        })
        .await?;
    import(&db, alma.id, "bench-alma", without_update).await?;

    let mut steps = Vec::new();
    let mut fleet = FleetAssessment::new();
    let (loaded, step) = run_step(&db, "full assessment", None, &mut fleet, &hosts).await?;
    steps.push(step);

    import(&db, alma.id, "bench-alma", full_doc).await?;
    let (loaded, step) = run_step(
        &db,
        &format!("vendor update ({} advisories)", update_ids.len()),
        Some(loaded),
        &mut fleet,
        &hosts,
    )
    .await?;
    steps.push(step);

    let mut fresh = FleetAssessment::new();
    let (_, step) = run_step(&db, "full re-assessment", None, &mut fresh, &hosts).await?;
    steps.push(step);
    // The incremental and the full re-assessment must agree exactly.
    let none = (Triage::default(), OsGroups::none());
    if fleet.summaries(&hosts, in_site, &none.0, &none.1)
        != fresh.summaries(&hosts, in_site, &none.0, &none.1)
    {
        bail!("the incremental re-assessment differs from the full one");
    }
    drop(loaded);

    if ctx.format == Format::Json {
        print_json(&serde_json::json!({
            "database": location.display(),
            "hosts": args.hosts,
            "distinct_assessments": fleet.len(),
            "steps": steps,
        }))?;
    } else {
        println!(
            "database {}, {} hosts, {} distinct (set, OS, kernel) assessments",
            location.display(),
            args.hosts,
            fleet.len()
        );
        println!(
            "{:<32} {:>8} {:>6} {:>8} {:>10} {:>8} {:>8} {:>10} {:>8}",
            "step",
            "changed",
            "names",
            "assessed",
            "packages",
            "index s",
            "load s",
            "findings",
            "total s"
        );
        for s in &steps {
            println!(
                "{:<32} {:>8} {:>6} {:>8} {:>10} {:>8.2} {:>8.2} {:>10} {:>8.2}",
                s.name,
                s.changed_advisories,
                s.touched_names,
                s.stats.assessed,
                s.stats.packages_matched,
                s.index_seconds,
                s.stats.load.as_secs_f64(),
                s.stats.findings,
                s.total_seconds
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads the index (comparing with `previous`), drops the results the
/// changes touch and brings the fleet up to date.
async fn run_step(
    db: &Arc<dyn Database>,
    name: &str,
    previous: Option<Arc<LoadedIndex>>,
    fleet: &mut FleetAssessment,
    hosts: &FleetHosts,
) -> anyhow::Result<(Arc<LoadedIndex>, Step)> {
    let start = Instant::now();
    let (loaded, changes) = load_index_since(db.as_ref(), previous.clone()).await?;
    let index_time = start.elapsed();
    let loaded = Arc::new(loaded);
    let (changed, touched, stats) = match (&previous, &changes) {
        (Some(prev), Some(changes)) => {
            let touched = prev.index.names_touched(changes);
            let stats = fleet.reassess_touched(&loaded, &touched);
            (changes.len(), touched.len(), stats)
        }
        _ => {
            fleet.invalidate_all();
            let stats = fleet.catch_up(db.as_ref(), &loaded, hosts).await?;
            (loaded.advisories, 0, stats)
        }
    };
    let total = start.elapsed();
    eprintln!(
        "{name}: {} assessed in {:.2} s",
        stats.assessed,
        total.as_secs_f64()
    );
    Ok((
        loaded,
        Step {
            name: name.to_owned(),
            changed_advisories: changed,
            touched_names: touched,
            index_seconds: index_time.as_secs_f64(),
            stats,
            total_seconds: total.as_secs_f64(),
        },
    ))
}

pub(super) async fn import(
    db: &Arc<dyn Database>,
    feed_id: i64,
    name: &str,
    doc: Vec<u8>,
) -> anyhow::Result<()> {
    let n = patchwatch_vulndb::parse_document(FeedKind::Osv, name, &doc, |_| {})?;
    let sha = patchwatch_vulndb::sha256_hex(&doc);
    db.import_generation(feed_id, doc, &sha, n as i64).await?;
    Ok(())
}

/// The OSV archive without its `n` most recently modified records (as an
/// uncompressed tar), and those records' file names.
fn without_newest(doc: &[u8], n: usize) -> anyhow::Result<(Vec<u8>, Vec<String>)> {
    let mut files: Vec<(String, String, Vec<u8>)> = Vec::new();
    let reader = compression::decompressed(std::io::Cursor::new(doc))?;
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let mut entry = entry?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path()?.to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        let modified = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["modified"].as_str().map(str::to_owned))
            .unwrap_or_default();
        files.push((modified, path, bytes));
    }
    files.sort();
    let cut = files.len().saturating_sub(n);
    let newest = files[cut..].iter().map(|f| f.1.clone()).collect();
    let mut out = tar::Builder::new(Vec::new());
    for (_, path, bytes) in &files[..cut] {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        out.append_data(&mut header, path, bytes.as_slice())?;
    }
    Ok((out.into_inner()?, newest))
}

/// The AlmaLinux + Debian fleet, stored (host `i` in site
/// `i % sites.len()`).
pub(super) async fn store_fleet(
    db: &Arc<dyn Database>,
    sites: &[(i64, String)],
    hosts: usize,
    drift: u32,
    concurrency: usize,
) -> anyhow::Result<()> {
    let mut alma = Image::rhel9()?;
    alma.os.id = "almalinux".into();
    alma.os.pretty_name = "AlmaLinux 9.5 (Teal Serval)".into();
    let fleet = Fleet::new(vec![alma, Image::debian12()?], 1).with_drift(drift);
    store_reports(db, sites, Arc::new(fleet), hosts, concurrency).await
}

/// Writes the first `hosts` reports of `fleet` straight to the store
/// (host `i` in site `i % sites.len()`), `concurrency` at a time; the
/// reports are built on blocking threads in chunks.
pub(super) async fn store_reports(
    db: &Arc<dyn Database>,
    sites: &[(i64, String)],
    fleet: Arc<Fleet>,
    hosts: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    const CHUNK: usize = 2_000;
    let sites: Arc<[(i64, String)]> = sites.into();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    let mut from = 0;
    let mut last_note = Instant::now();
    while from < hosts {
        let to = (from + CHUNK).min(hosts);
        let f = fleet.clone();
        let sites = sites.clone();
        let requests = tokio::task::spawn_blocking(move || {
            (from..to)
                .map(|i| {
                    let (site_id, site) = &sites[i % sites.len()];
                    let mut report = f.report(i);
                    report.site = Some(site.clone());
                    let os = os::normalise(&report.os, &report.os_string);
                    IngestRequest::new(
                        *site_id,
                        report,
                        os,
                        now_millis(),
                        "127.0.0.1".into(),
                        "bench".into(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .await?;
        for request in requests {
            let permit = semaphore.clone().acquire_owned().await?;
            let db = db.clone();
            tasks.spawn(async move {
                let _permit = permit;
                db.ingest(request).await
            });
            while let Some(done) = tasks.try_join_next() {
                done??;
            }
        }
        from = to;
        if last_note.elapsed() > Duration::from_secs(5) {
            eprintln!("  {from} of {hosts} hosts stored");
            last_note = Instant::now();
        }
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}
