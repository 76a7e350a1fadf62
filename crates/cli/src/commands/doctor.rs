//! `patchwatch doctor`: is this installation ready to serve? One line a
//! check, `ok` / `warn` / `FAIL`, and exit status 1 when anything failed.

use std::process::ExitCode;
use std::sync::Arc;

use patchwatch_store::{Database, Feed, now_millis};
use serde::Serialize;

use super::Context;
use crate::cli::DoctorArgs;
use crate::database::Location;
use crate::output::{Format, ago, print_json, timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Ok,
    Skip,
    Warn,
    Fail,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Skip => "skip",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        }
    }
}

#[derive(Debug, Serialize)]
struct Check {
    check: &'static str,
    status: Status,
    detail: String,
}

#[derive(Default)]
struct Checks(Vec<Check>);

impl Checks {
    fn add(&mut self, check: &'static str, status: Status, detail: impl Into<String>) {
        self.0.push(Check {
            check,
            status,
            detail: detail.into(),
        });
    }
}

/// No system this runs on can truly be at an earlier time: this file was
/// written after it.
const EARLIEST_SANE_MS: i64 = 1_764_547_200_000; // 2025-12-01T00:00:00Z
/// How far in the future a stored time may be before the clock is suspect.
const FUTURE_SLACK_MS: i64 = 5 * 60 * 1000;

pub async fn run(ctx: Context, args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let mut checks = Checks::default();
    match &ctx.config_path {
        Some(p) => checks.add("configuration", Status::Ok, format!("{}", p.display())),
        None => checks.add(
            "configuration",
            Status::Ok,
            "no file (defaults; see /etc/patchwatch/patchwatch.toml)",
        ),
    }
    if let Some(db) = database(&ctx, &mut checks).await {
        feeds(&db, &args, &mut checks).await;
        clock(Some(&db), &mut checks).await;
    } else {
        checks.add("feeds", Status::Skip, "no database to read them from");
        clock(None, &mut checks).await;
    }
    checks.add(
        "repositories",
        Status::Skip,
        "this version tracks no package repositories",
    );
    tls(&ctx, &mut checks);

    let failed = checks.0.iter().any(|c| c.status == Status::Fail);
    if ctx.format == Format::Json {
        print_json(&serde_json::json!({ "ok": !failed, "checks": checks.0 }))?;
    } else {
        // writeln, not println: `doctor | head` ends quietly (see main).
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let width = checks.0.iter().map(|c| c.check.len()).max().unwrap_or(0);
        for c in &checks.0 {
            writeln!(
                out,
                "{:<4}  {:<width$}  {}",
                c.status.label(),
                c.check,
                c.detail
            )?;
        }
        let worst = checks.0.iter().map(|c| c.status).max();
        writeln!(
            out,
            "\n{}",
            match worst {
                Some(Status::Fail) => "Some checks failed.",
                Some(Status::Warn) => "Ready, with warnings.",
                _ => "All checks passed.",
            }
        )?;
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reachable, and its schema what this build expects. Never creates or
/// migrates a SQLite file: that is `init`'s and `serve`'s job.
async fn database(ctx: &Context, checks: &mut Checks) -> Option<Arc<dyn Database>> {
    let shown = ctx.location.display();
    if let Location::Sqlite(path) = &ctx.location {
        if !path.exists() {
            checks.add(
                "database",
                Status::Fail,
                format!(
                    "{shown} ({}) does not exist; create it with `patchwatch init`",
                    ctx.location_source
                ),
            );
            return None;
        }
        let known = patchwatch_store_sqlite::schema_versions();
        let applied = match patchwatch_store_sqlite::applied_schema_versions(path) {
            Ok(v) => v,
            Err(e) => {
                checks.add(
                    "database",
                    Status::Fail,
                    format!("{shown}: cannot read it: {e}"),
                );
                return None;
            }
        };
        let pending: Vec<String> = known
            .iter()
            .filter(|v| !applied.contains(v))
            .map(i64::to_string)
            .collect();
        let unknown: Vec<String> = applied
            .iter()
            .filter(|v| !known.contains(v))
            .map(i64::to_string)
            .collect();
        if !unknown.is_empty() {
            checks.add(
                "migrations",
                Status::Fail,
                format!(
                    "migration {} is unknown to this build: a newer Patchwatch used this \
                     database",
                    unknown.join(", ")
                ),
            );
            return None;
        }
        if !pending.is_empty() {
            checks.add(
                "migrations",
                Status::Fail,
                format!(
                    "migration {} not applied yet: run `patchwatch init` (or restart \
                     `serve`)",
                    pending.join(", ")
                ),
            );
            return None;
        }
        checks.add(
            "migrations",
            Status::Ok,
            format!(
                "all {} applied (schema version {})",
                known.len(),
                known.last().copied().unwrap_or(0)
            ),
        );
    }
    let db = match ctx.location.open().await {
        Ok(db) => db,
        Err(e) => {
            checks.add("database", Status::Fail, format!("{e:#}"));
            return None;
        }
    };
    if let Err(e) = db.ping().await {
        checks.add("database", Status::Fail, format!("{shown}: {e}"));
        return None;
    }
    if let Location::Postgres(_) = ctx.location {
        checks.add(
            "migrations",
            Status::Ok,
            format!(
                "schema version {} applied at connect",
                patchwatch_store_postgres::latest_schema_version()
            ),
        );
    }
    let detail = match db.sites().await {
        Ok(sites) => format!(
            "{shown} ({}; {} sites, {} hosts)",
            ctx.location_source,
            sites.len(),
            sites.iter().map(|s| s.hosts).sum::<i64>()
        ),
        Err(e) => {
            checks.add("database", Status::Fail, format!("{shown}: {e}"));
            return None;
        }
    };
    // Reachable first in the output, though checked after the schema.
    checks.0.insert(
        1,
        Check {
            check: "database",
            status: Status::Ok,
            detail,
        },
    );
    Some(db)
}

/// When a feed last had good data: its current generation's import, or a
/// later sync that found the document unchanged.
fn freshest(feed: &Feed) -> Option<i64> {
    let imported = feed.current.as_ref().map(|g| g.imported_at);
    let synced = feed.sync.synced_at.filter(|_| feed.sync.error.is_none());
    imported.max(synced)
}

async fn feeds(db: &Arc<dyn Database>, args: &DoctorArgs, checks: &mut Checks) {
    let feeds = match db.feeds().await {
        Ok(f) => f,
        Err(e) => {
            checks.add("feeds", Status::Fail, e.to_string());
            return;
        }
    };
    let enabled: Vec<&Feed> = feeds.iter().filter(|f| f.enabled).collect();
    if enabled.is_empty() {
        checks.add(
            "feeds",
            Status::Warn,
            "none enabled: hosts are not assessed (see `patchwatch feeds catalogue`)",
        );
        return;
    }
    let max_age = i64::from(args.max_feed_age_hours) * 3_600_000;
    let now = now_millis();
    let mut stale = Vec::new();
    let mut failing = Vec::new();
    for f in &enabled {
        match freshest(f) {
            None => stale.push(format!("{} (never imported)", f.name)),
            Some(at) if now - at > max_age => stale.push(format!("{} ({})", f.name, ago(at))),
            Some(_) => {}
        }
        if let Some(e) = &f.sync.error {
            failing.push(format!("{}: {}", f.name, crate::output::shorten(e, 80)));
        }
    }
    if stale.is_empty() {
        checks.add(
            "feeds",
            Status::Ok,
            format!(
                "{} enabled, all updated within {} h",
                enabled.len(),
                args.max_feed_age_hours
            ),
        );
    } else {
        checks.add(
            "feeds",
            Status::Fail,
            format!(
                "not updated within {} h: {} (`patchwatch feeds sync`, or \
                 feed_sync_interval in [server])",
                args.max_feed_age_hours,
                stale.join(", ")
            ),
        );
    }
    if !failing.is_empty() {
        checks.add(
            "feed sync",
            Status::Warn,
            format!("last sync failed: {}", failing.join("; ")),
        );
    }
}

fn tls(ctx: &Context, checks: &mut Checks) {
    let Some(tls) = &ctx.config.server.tls else {
        checks.add(
            "tls",
            Status::Ok,
            "not configured (plain HTTP; put a TLS proxy in front or set [server.tls])",
        );
        return;
    };
    match patchwatch_server::tls::load(tls) {
        Ok(_) => checks.add(
            "tls",
            Status::Ok,
            format!(
                "certificate {} and key {} load{}",
                tls.cert.display(),
                tls.key.display(),
                tls.client_ca
                    .as_ref()
                    .map(|ca| format!(", client CA {}", ca.display()))
                    .unwrap_or_default()
            ),
        ),
        Err(e) => checks.add("tls", Status::Fail, e.to_string()),
    }
}

/// The clock is after this build was written and not behind what the
/// database already holds.
async fn clock(db: Option<&Arc<dyn Database>>, checks: &mut Checks) {
    let now = now_millis();
    if now < EARLIEST_SANE_MS {
        checks.add(
            "clock",
            Status::Fail,
            format!(
                "{} is before this build existed; set the clock (NTP)",
                timestamp(now)
            ),
        );
        return;
    }
    let mut latest: Option<i64> = None;
    if let Some(db) = db
        && let Ok(feeds) = db.feeds().await
    {
        for f in feeds {
            let times = [f.current.map(|g| g.imported_at), f.sync.synced_at];
            latest = latest.max(times.into_iter().flatten().max());
        }
    }
    match latest {
        Some(at) if at > now + FUTURE_SLACK_MS => checks.add(
            "clock",
            Status::Fail,
            format!(
                "{} is behind a time already stored ({}); is the clock set back?",
                timestamp(now),
                timestamp(at)
            ),
        ),
        _ => checks.add("clock", Status::Ok, format!("{} (UTC)", timestamp(now))),
    }
}
