//! `POST /feed/` (and the other `[server] pakiti_paths`): reports from
//! `pakiti-client` 3.x (protocol 5) and `pakiti2-client` (protocol 4).
//!
//! Which protocol a post is: protocol 4 when the query says `protocol=4`,
//! the body is `multipart/form-data`, or the body is a form with a `pkgs`
//! field and does not start with `#`; otherwise protocol 5, whose body is
//! read raw whatever its `Content-Type` says (the client labels it
//! urlencoded). A body starting with 0x30 is a CMS envelope
//! (`pakiti-client --encrypt`), decrypted with `[server] pakiti_key`.
//!
//! The reply is `OK\n` and, in the report modes, one line per tagged,
//! non-excepted CVE the packages are exposed to, then one per security
//! update the host's repositories offer (see `evaluate`); errors are plain
//! text the client prints, with a 4xx status.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use patchwatch_reports::envelope::looks_encrypted;
use patchwatch_reports::pakiti::{self, Mode, SecurityUpdate, TaggedFinding};
use patchwatch_reports::{Decryptor, PackageType, Protocol, Report};
use patchwatch_store::{HostSummary, now_millis};
use patchwatch_updates::{HostFacts, closes};
use patchwatch_vulndb::{HostScope, Triage, host_findings};

use crate::body::decode_and_parse;
use crate::error::ApiError;
use crate::ingest::{self, form, site, token};
use crate::policy::ClientCert;
use crate::state::AppState;

/// When a refused encrypted report is answered, counted from when its
/// request arrived: far longer than an RSA-2048 decryption (about 1 ms)
/// and a report's decompression and parsing take, so the time of the reply
/// is the same for every refusal.
pub const DECRYPTION_FAILURE_REPLY_AFTER: std::time::Duration =
    std::time::Duration::from_millis(250);

pub async fn feed(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    cert: Option<Extension<ClientCert>>,
    uri: Uri,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Response {
    let cert = cert.map(|Extension(c)| c);
    match handle(&state, peer, cert.as_ref(), &uri, &headers, raw).await {
        Ok(body) => {
            let mut response = (StatusCode::OK, body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            response
        }
        Err(e) => e.into_plain_text(),
    }
}

async fn handle(
    state: &AppState,
    peer: SocketAddr,
    cert: Option<&ClientCert>,
    uri: &Uri,
    headers: &HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<String, ApiError> {
    let (protocol, query_mode) =
        pakiti::mode_from_query(uri.query()).map_err(|e| ApiError::bad_request(e.to_string()))?;
    // Who is asking is settled before the body is read or parsed: a
    // refused sender costs no parsing.
    let token = token::optional(state, headers).await?;
    let who = state
        .policy
        .identify(peer.ip(), headers, cert, token.as_ref())?;
    let started = tokio::time::Instant::now();
    let decryptor = state.decryptor.clone();
    let form_headers = headers.clone();
    let (encrypted, parsed) = decode_and_parse(state, headers, raw, move |body| {
        let encrypted = !is_form(protocol, &form_headers, &body) && looks_encrypted(&body);
        let parsed = parse(
            decryptor.as_deref(),
            protocol,
            query_mode,
            &form_headers,
            body,
        );
        Ok((encrypted, parsed))
    })
    .await?;
    if encrypted && parsed.is_err() {
        // RSA PKCS#1 v1.5 decryption is not constant-time (RUSTSEC-2023-0071,
        // docs/SECURITY.md): every refused encrypted report is answered at
        // the same moment, so its reply time says nothing about the padding.
        tokio::time::sleep_until(started + DECRYPTION_FAILURE_REPLY_AFTER).await;
    }
    let (report, mode, claims_proxy) = parsed?;
    // Checked here too because report-only mode never reaches `store`.
    ingest::check_package_count(state, &report)?;
    state
        .policy
        .check_host(&who, &report.hostname, claims_proxy)
        .await?;
    // Exceptions by site apply to the site the report is stored under.
    let named = report
        .site
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let site_name = who
        .pinned_site()
        .or(named)
        .unwrap_or(&state.config.pakiti_site)
        .to_owned();
    let to_assess = mode.reports().then(|| report.clone());
    if mode.stores() {
        let site_id = site::for_report(
            state,
            &who,
            report.site.as_deref(),
            &state.config.pakiti_site,
        )
        .await?;
        // The reply goes out only after the report is committed.
        ingest::store(
            state,
            site_id,
            report,
            who.address,
            ingest::user_agent(headers),
        )
        .await?;
    }
    let (findings, updates) = match to_assess {
        Some(report) => evaluate(state, &site_name, report).await?,
        None => (Vec::new(), Vec::new()),
    };
    Ok(pakiti::reply_with_updates(&findings, &updates))
}

/// The CVEs the reported packages are exposed to that carry an enabled
/// tag and are not excepted (see `patchwatch_vulndb::triage`): one line
/// per package, CVE and tag, assessed against the current feed
/// generations exactly as `hosts vulns` would assess the stored host; and
/// the security updates the host's repositories offer (those its report
/// names, else its OS group's defaults), as `hosts updates --security`
/// would list them, with the CVEs the feeds say they close.
async fn evaluate(
    state: &AppState,
    site: &str,
    report: Report,
) -> Result<(Vec<TaggedFinding>, Vec<SecurityUpdate>), ApiError> {
    let loaded = state.vulns.current(state.db.as_ref()).await?;
    let triage = Triage::load(state.db.as_ref(), now_millis()).await?;
    let os = patchwatch_reports::os::normalise(&report.os, &report.os_string);
    let mut packages = report.packages.unwrap_or_default();
    for p in &mut packages {
        p.normalise();
    }
    let host = HostSummary {
        id: 0,
        hostname: report.hostname,
        site: site.to_owned(),
        // Never stored nor scoped: triage matches exceptions by site name.
        site_id: 0,
        os,
        kernel: report.kernel.release,
        arch: report.arch,
        tags: report.tags,
        packages: packages.len() as i64,
        first_seen: 0,
        last_seen: 0,
        protocol: String::new(),
        reboot_required: None,
        reboot_required_derived: None,
        package_set_id: 0,
        last_report_id: 0,
    };
    let scope = HostScope::new(site, loaded.index.os_groups(), &host.os);
    // rpm clients print a zero epoch (`0:5.1.8-6.el9_1`); the reply names
    // the package version the way the client sent it.
    let rpm = packages.iter().any(|p| p.kind == PackageType::Rpm);
    let as_sent = |installed: &str| {
        if rpm && !installed.contains(':') {
            format!("0:{installed}")
        } else {
            installed.to_owned()
        }
    };
    let findings = host_findings(&loaded, &host, &packages);
    let catalogue = state.repos.current(state.db.as_ref()).await?;
    let sources = catalogue.sources_for_host(
        report.repositories.as_deref().unwrap_or_default(),
        &report.module_streams,
        &HostFacts {
            os: &host.os,
            arch: &host.arch,
            apk_pins: &report.apk_pins,
            apt_preferences: &report.apt_preferences,
        },
        state.repos.groups(),
    );
    let mut updates = if sources.is_empty() {
        Vec::new()
    } else {
        catalogue.host_updates(&sources, &packages, &host.arch)
    };
    closes::annotate(&mut updates, &findings);
    let security_updates = updates
        .into_iter()
        .filter(|u| u.security)
        .map(|u| SecurityUpdate {
            version: as_sent(&u.installed),
            name: u.name,
            arch: u.arch,
            candidate: u.candidate,
            repository: u.repository,
            cves: u.cves,
            advisories: u.advisories,
        })
        .collect();
    let mut lines = BTreeSet::new();
    for f in findings {
        if !f.is_exposed() {
            continue;
        }
        let c = triage.classify_one(&scope, &f);
        if c.exception.is_some() {
            continue;
        }
        for tag in c.tags {
            lines.insert(TaggedFinding {
                name: f.package().to_owned(),
                version: as_sent(f.installed()),
                arch: f.arch().to_owned(),
                cve: f.cve().to_owned(),
                tag,
            });
        }
    }
    Ok((lines.into_iter().collect(), security_updates))
}

fn parse(
    decryptor: Option<&Decryptor>,
    protocol: u32,
    query_mode: Mode,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(Report, Mode, bool), ApiError> {
    let bad = |e: patchwatch_reports::ReportError| ApiError::bad_request(e.to_string());
    if is_form(protocol, headers, &body) {
        let fields = form::fields(headers, body)?;
        let (report, mode, proxy) = pakiti::parse_v4(&fields).map_err(bad)?;
        // The form's `report` field decides; a query `mode` only when the
        // form left the default.
        let mode = if mode == Mode::StoreOnly {
            query_mode
        } else {
            mode
        };
        return Ok((report, mode, proxy));
    }
    let decrypted;
    let text = if looks_encrypted(&body) {
        let Some(decryptor) = decryptor else {
            return Err(ApiError::bad_request(
                "the report is encrypted (pakiti-client --encrypt) but this server has no key \
                 to decrypt it; configure [server] pakiti_key, or send it unencrypted",
            ));
        };
        decrypted = decryptor
            .decrypt(&body)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        decrypted.as_slice()
    } else {
        &body
    };
    let report = pakiti::parse_v5(text).map_err(bad)?;
    debug_assert_eq!(report.protocol, Protocol::Pakiti5);
    Ok((report, query_mode, false))
}

/// Whether a post is a protocol 4 form (see the module documentation).
fn is_form(protocol: u32, headers: &HeaderMap, body: &[u8]) -> bool {
    if protocol == 4 || form::media_type(headers) == "multipart/form-data" {
        return true;
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'#') | Some(0x30) | Some(0xEF) | None) {
        // `#` opens a protocol 5 report, 0x30 an envelope, 0xEF a BOM.
        return false;
    }
    form_urlencoded::parse(body).any(|(k, _)| k == "pkgs")
}
