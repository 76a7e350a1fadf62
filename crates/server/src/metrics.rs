//! Prometheus metrics: `GET /metrics` in the text exposition format.
//!
//! Counted as requests pass ([`track_ingest`], a middleware, so the report
//! handlers stay as they are): reports received by protocol and outcome,
//! and how long storing one took. Read from the store and the kept
//! assessment when scraped (at most every [`FLEET_REFRESH`]): hosts by
//! reporting state, findings by severity, each feed's age and last sync
//! error, the last assessment's duration.
//!
//! On the main address `/metrics` needs an API token (Prometheus sends it
//! with `authorization: {credentials: ...}`); `[server] metrics_listen`
//! serves it without one on an address of its own, for a scraper on an
//! admin network.

use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use patchwatch_store::{Database, Feed, HostFilter, now_millis};
use patchwatch_vulndb::Triage;

use crate::error::ApiError;
use crate::state::AppState;

const REPORTS: &str = "patchwatch_reports_received_total";
const INGEST_SECONDS: &str = "patchwatch_ingest_duration_seconds";
const HOSTS: &str = "patchwatch_hosts";
const FINDINGS: &str = "patchwatch_findings";
const FEED_AGE: &str = "patchwatch_feed_age_seconds";
const FEED_ERROR: &str = "patchwatch_feed_last_sync_failed";
const FEED_ADVISORIES: &str = "patchwatch_feed_advisories";
const ASSESSMENT_SECONDS: &str = "patchwatch_assessment_last_duration_seconds";

/// Listing every host and summarising the assessment costs about as much
/// as a `GET /api/v1/cves`: done at most this often, however often scraped.
pub const FLEET_REFRESH: Duration = Duration::from_secs(30);

/// Hosts that reported within a day are `reporting`, within a week `late`,
/// else `silent`.
const LATE_AFTER_MS: i64 = 86_400_000;
const SILENT_AFTER_MS: i64 = 7 * 86_400_000;

/// This server's metrics: a recorder of its own (not the process-global
/// one), so several servers in one process (the tests) keep theirs apart.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    refreshed: tokio::sync::Mutex<Option<Instant>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        // Report latency: from a millisecond (a repeat) to a minute (a
        // huge first report on a busy PostgreSQL).
        let latency = [
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            60.0,
        ];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(INGEST_SECONDS.into()), &latency)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        let metrics = Metrics {
            recorder,
            handle,
            refreshed: tokio::sync::Mutex::new(None),
        };
        metrics.describe();
        metrics
    }

    fn describe(&self) {
        metrics::with_local_recorder(&self.recorder, || {
            metrics::describe_counter!(
                REPORTS,
                "Reports received, by client protocol and outcome (stored, refused, unavailable)"
            );
            metrics::describe_histogram!(
                INGEST_SECONDS,
                metrics::Unit::Seconds,
                "Time from a report's request to its answer (stored and committed, or refused)"
            );
            metrics::describe_gauge!(
                HOSTS,
                "Hosts by reporting state: reporting (within a day), late (within a week), silent"
            );
            metrics::describe_gauge!(
                FINDINGS,
                "Host and CVE exposures not covered by an exception, by severity"
            );
            metrics::describe_gauge!(
                FEED_AGE,
                metrics::Unit::Seconds,
                "Seconds since the feed last had good data (import, or a sync that found it current)"
            );
            metrics::describe_gauge!(FEED_ERROR, "1 when the feed's last sync failed, else 0");
            metrics::describe_gauge!(
                FEED_ADVISORIES,
                "Advisories in the feed's current generation"
            );
            metrics::describe_gauge!(
                ASSESSMENT_SECONDS,
                metrics::Unit::Seconds,
                "Duration of the last update of the fleet's kept assessment"
            );
            // Present from the start, so a rate() has a zero to begin at.
            for protocol in PROTOCOLS {
                for outcome in ["stored", "refused", "unavailable"] {
                    metrics::counter!(REPORTS, "protocol" => protocol, "outcome" => outcome)
                        .absolute(0);
                }
            }
        });
    }

    /// Counts one report request and how long its answer took.
    pub fn report(&self, protocol: &'static str, status: StatusCode, took: Duration) {
        let outcome = if status.is_success() {
            "stored"
        } else if status.is_server_error() {
            "unavailable"
        } else {
            "refused"
        };
        metrics::with_local_recorder(&self.recorder, || {
            metrics::counter!(REPORTS, "protocol" => protocol, "outcome" => outcome).increment(1);
            metrics::histogram!(INGEST_SECONDS, "protocol" => protocol).record(took.as_secs_f64());
        });
    }

    /// The exposition text, the scrape-time gauges brought up to date
    /// first (at most every [`FLEET_REFRESH`]).
    pub async fn render(&self, state: &AppState) -> String {
        let mut refreshed = self.refreshed.lock().await;
        if refreshed.is_none_or(|at| at.elapsed() >= FLEET_REFRESH) {
            if let Err(e) = self.refresh(state).await {
                // Old values stay; the next scrape tries again.
                tracing::warn!(error = %e.message, "metrics: reading the fleet failed");
            } else {
                *refreshed = Some(Instant::now());
            }
        }
        drop(refreshed);
        self.assessment(state);
        self.handle.render()
    }

    async fn refresh(&self, state: &AppState) -> Result<(), ApiError> {
        let db: &dyn Database = state.db.as_ref();
        let now = now_millis();
        let hosts = db.hosts(&HostFilter::default()).await?.items;
        let mut by_state = [("reporting", 0u64), ("late", 0), ("silent", 0)];
        for h in &hosts {
            let idle = now - h.last_seen;
            let i = match idle {
                i if i > SILENT_AFTER_MS => 2,
                i if i > LATE_AFTER_MS => 1,
                _ => 0,
            };
            by_state[i].1 += 1;
        }
        let feeds = db.feeds().await?;
        let triage = Triage::load(db, now).await?;
        let cves = state.vulns.fleet_cves(db, |_| true, &triage).await?;
        let mut findings = std::collections::BTreeMap::<String, u64>::new();
        for level in ["unknown", "negligible", "low", "medium", "high", "critical"] {
            findings.insert(level.to_owned(), 0);
        }
        for c in &cves {
            let level = serde_json::to_value(c.severity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "unknown".to_owned());
            *findings.entry(level).or_default() += c.hosts as u64;
        }
        metrics::with_local_recorder(&self.recorder, || {
            for (name, n) in by_state {
                metrics::gauge!(HOSTS, "state" => name).set(n as f64);
            }
            for (level, n) in &findings {
                metrics::gauge!(FINDINGS, "severity" => level.clone()).set(*n as f64);
            }
            for f in &feeds {
                feed_gauges(f, now);
            }
        });
        Ok(())
    }

    fn assessment(&self, state: &AppState) {
        let status = state.vulns.status();
        metrics::with_local_recorder(&self.recorder, || {
            if let Some(last) = status.last_update {
                metrics::gauge!(ASSESSMENT_SECONDS).set(last.elapsed.as_secs_f64());
            }
        });
    }
}

fn feed_gauges(f: &Feed, now: i64) {
    let name = f.name.clone();
    let imported = f.current.as_ref().map(|g| g.imported_at);
    let synced = f.sync.synced_at.filter(|_| f.sync.error.is_none());
    if let Some(at) = imported.max(synced) {
        metrics::gauge!(FEED_AGE, "feed" => name.clone()).set(((now - at).max(0) as f64) / 1000.0);
    }
    metrics::gauge!(FEED_ERROR, "feed" => name.clone()).set(if f.sync.error.is_some() {
        1.0
    } else {
        0.0
    });
    metrics::gauge!(FEED_ADVISORIES, "feed" => name)
        .set(f.current.as_ref().map_or(0.0, |g| g.advisories as f64));
}

/// Client protocols, as labelled.
const PROTOCOLS: [&str; 4] = ["native", "pakiti", "patchman1", "patchman2"];

/// Which client protocol a request is a report of, by its path.
fn protocol(state: &AppState, method: &Method, path: &str) -> Option<&'static str> {
    if method != Method::POST {
        return None;
    }
    let bare = path.trim_end_matches('/');
    if bare == "/api/v1/reports" {
        return Some("native");
    }
    if crate::PATCHMAN_V1
        .iter()
        .any(|p| p.trim_end_matches('/') == bare)
    {
        return Some("patchman1");
    }
    if crate::PATCHMAN_V2
        .iter()
        .any(|p| p.trim_end_matches('/') == bare)
    {
        return Some("patchman2");
    }
    state
        .config
        .pakiti_paths
        .iter()
        .any(|p| p.trim_end_matches('/') == bare)
        .then_some("pakiti")
}

/// Middleware over the whole router: times and counts report requests.
pub async fn track_ingest(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(protocol) = protocol(&state, request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let start = Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .report(protocol, response.status(), start.elapsed());
    response
}

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

fn exposition(text: String) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        text,
    )
        .into_response()
}

/// `GET /metrics` on the main address: the figures are fleet-wide, so the
/// caller must read every site.
pub async fn scrape(
    State(state): State<AppState>,
    caller: crate::caller::Caller,
) -> Result<Response, ApiError> {
    caller.require_everywhere(patchwatch_auth::Action::Read, "the fleet's metrics")?;
    Ok(exposition(state.metrics.render(&state).await))
}

/// `GET /metrics` on `metrics_listen`: whoever reaches that address.
pub async fn scrape_open(State(state): State<AppState>) -> Response {
    exposition(state.metrics.render(&state).await)
}

/// The router of the separate metrics address.
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(scrape_open))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_reports_by_protocol_and_outcome() {
        let m = Metrics::new();
        m.report("native", StatusCode::CREATED, Duration::from_millis(3));
        m.report("native", StatusCode::BAD_REQUEST, Duration::from_millis(1));
        m.report(
            "pakiti",
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(2),
        );
        let text = m.handle.render();
        assert!(
            text.contains(
                "patchwatch_reports_received_total{protocol=\"native\",outcome=\"stored\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "patchwatch_reports_received_total{protocol=\"native\",outcome=\"refused\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "patchwatch_reports_received_total{protocol=\"pakiti\",outcome=\"unavailable\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "patchwatch_ingest_duration_seconds_bucket{protocol=\"native\",le=\"0.005\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains("# TYPE patchwatch_ingest_duration_seconds histogram"));
    }
}
