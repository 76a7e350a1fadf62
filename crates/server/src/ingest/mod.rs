//! Taking in a report, the steps every report endpoint (native, Pakiti,
//! Patchman) shares, so each protocol's handler holds only what its
//! protocol does differently: decoding its form posts ([`form`]), finding
//! its ingest token ([`token`]), choosing the site ([`site`]), and, here,
//! the last step, storing the parsed report. Reading the body within its
//! limits is [`crate::body`]'s.

pub mod form;
pub mod site;
pub mod token;

use std::net::IpAddr;

use axum::http::{HeaderMap, StatusCode, header};
use patchwatch_reports::{Report, os};
use patchwatch_store::{IngestOutcome, IngestRequest, now_millis};
use patchwatch_vulndb::Arrival;

use crate::error::ApiError;
use crate::state::AppState;

/// The `User-Agent`, cut to 256 characters, for the report history.
pub fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(256)
        .collect()
}

/// Refuses a report listing more packages than `max_packages`.
pub fn check_package_count(state: &AppState, report: &Report) -> Result<(), ApiError> {
    let count = report.packages.as_ref().map_or(0, Vec::len);
    let limit = state.config.max_packages;
    if count > limit {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the report lists {count} packages; this server accepts at most {limit} (max_packages)"
            ),
        ));
    }
    Ok(())
}

/// Normalises the OS and stores the report; returns once committed.
pub async fn store(
    state: &AppState,
    site_id: i64,
    report: Report,
    sender: IpAddr,
    user_agent: String,
) -> Result<IngestOutcome, ApiError> {
    check_package_count(state, &report)?;
    let os = os::normalise(&report.os, &report.os_string);
    let kernel_outdated = crate::kernel_verdicts::for_report(&report);
    let request = IngestRequest::new(
        site_id,
        report,
        os,
        now_millis(),
        sender.to_string(),
        user_agent,
    )
    .with_kernel_outdated(kernel_outdated);
    let arrival = Arrival {
        set_id: 0,
        os: request.os.clone(),
        kernel: request.report.kernel.release.clone(),
    };
    let outcome = state.db.ingest(request).await?;
    if kernel_outdated.is_none() {
        // The store kept the host's verdict unless its kernel changed.
        state.kernel_backfill.wake();
    }
    state.vulns.report_arrived(Arrival {
        set_id: outcome.package_set_id,
        ..arrival
    });
    Ok(outcome)
}
