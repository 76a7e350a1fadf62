//! What every report endpoint does the same way: read the body within the
//! limits, name the client, decode form posts, and hand a parsed report to
//! the store. Every report endpoint, native and foreign, uses them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use patchwatch_reports::{Report, os};
use patchwatch_store::{Database, IngestOutcome, IngestRequest, StoreError, now_millis};
use patchwatch_vulndb::Arrival;

use crate::auth;
use crate::body::{self, Encoding};
use crate::config::UnknownSites;
use crate::error::ApiError;
use crate::policy::{Identity, Via};
use crate::state::AppState;
use patchwatch_store::{TokenKind, TokenRecord};

/// Most parts a form may have: the clients send about a dozen.
const MAX_FORM_PARTS: usize = 200;

/// The body as sent, checked against `max_body_bytes` (over it: 413 naming
/// the limit; empty: 400).
pub fn raw_body(state: &AppState, raw: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    let limit = state.config.max_body_bytes;
    let raw = raw.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body is larger than the limit of {limit} bytes"),
            )
        } else {
            ApiError::bad_request(format!("could not read the request body: {e}"))
        }
    })?;
    body::check_size(&raw, limit)?;
    Ok(raw)
}

/// The body as sent ([`raw_body`]), decoded per `Content-Encoding` within
/// `max_decompressed_bytes` and handed to `parse`: both on the parsing pool
/// (off the async workers, a bounded number at a time).
pub async fn decode_and_parse<T: Send + 'static>(
    state: &AppState,
    headers: &HeaderMap,
    raw: Result<Bytes, BytesRejection>,
    parse: impl FnOnce(Bytes) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let raw = raw_body(state, raw)?;
    let encoding = Encoding::from_headers(headers)?;
    let limit = state.config.max_decompressed_bytes;
    state
        .parsing
        .run(move || match encoding {
            Encoding::Identity => parse(raw),
            _ => {
                let decoded = body::decode(encoding, &raw, limit)?;
                drop(raw);
                parse(Bytes::from(decoded))
            }
        })
        .await
}

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

/// The ingest token of a request that may carry one (a forwarding proxy
/// can add `Authorization: Bearer` or `Api-Key` to a Pakiti or Patchman 1
/// post); `None` without an `Authorization` header. A token that is sent
/// must be a valid ingest token.
pub async fn optional_token(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<TokenRecord>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    // A site may keep HTTP Basic auth in front of the old Pakiti path: that
    // header is the web server's business, not a Patchwatch token.
    let scheme = value
        .to_str()
        .unwrap_or("")
        .trim()
        .split(' ')
        .next()
        .unwrap_or("");
    if scheme.eq_ignore_ascii_case("basic") || scheme.eq_ignore_ascii_case("negotiate") {
        return Ok(None);
    }
    let secret = token_secret(value)?;
    ingest_token(state, secret).await.map(Some)
}

/// The secret of `Authorization: Api-Key KEY` (Patchman 2), `Bearer KEY` or
/// `Token KEY`.
pub fn token_secret(value: &HeaderValue) -> Result<&str, ApiError> {
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not readable text"))?;
    let (scheme, secret) = value.trim().split_once(' ').unwrap_or((value, ""));
    if !["api-key", "bearer", "token"]
        .iter()
        .any(|s| scheme.eq_ignore_ascii_case(s))
    {
        return Err(ApiError::unauthorized(format!(
            "unsupported authorization scheme {scheme:?}; send `Authorization: Api-Key KEY` \
             with a site's ingest token"
        )));
    }
    let secret = secret.trim();
    if secret.is_empty() {
        return Err(ApiError::unauthorized(
            "the Authorization header has an empty key",
        ));
    }
    Ok(secret)
}

/// Looks an ingest token up through the shared [`auth::TokenCache`].
pub async fn ingest_token(state: &AppState, secret: &str) -> Result<TokenRecord, ApiError> {
    // auth::require reads the secret from a Bearer header; hand it one so
    // every scheme shares the one cache (lead: a public lookup in auth.rs
    // would make this adapter unnecessary).
    let mut bearer = HeaderMap::new();
    let value = HeaderValue::from_str(&format!("Bearer {secret}"))
        .map_err(|_| ApiError::unauthorized("unknown or revoked token"))?;
    bearer.insert(header::AUTHORIZATION, value);
    auth::require(&bearer, &state.tokens, &state.db, TokenKind::Ingest).await
}

/// The site a report goes to: the one its credentials pin (a report naming
/// another is refused), else the one it names, else `default`. Unknown
/// sites are created or refused by `[server] unknown_sites`.
pub async fn site_for(
    state: &AppState,
    who: &Identity,
    named: Option<&str>,
    default: &str,
) -> Result<i64, ApiError> {
    let named = named.map(str::trim).filter(|n| !n.is_empty());
    if let (Some(pinned), Some(named)) = (who.pinned_site(), named)
        && pinned != named
    {
        return Err(ApiError::forbidden(format!(
            "the report names site {named:?} but its credentials are for site {pinned:?}"
        )));
    }
    if let Via::Token { site_id, .. } = who.via {
        return Ok(site_id);
    }
    let name = who.pinned_site().or(named).unwrap_or(default);
    state
        .sites
        .resolve(state.db.as_ref(), name, state.config.unknown_sites)
        .await
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

/// Answers an error as `text/plain` (Pakiti and Patchman 1 clients print the
/// body they get back), the message ending in a newline.
pub fn text_error(e: ApiError) -> Response {
    let mut response = (e.status, format!("{}\n", e.message)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if e.status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    }
    response
}

/// The media type of the request, lower case, without parameters.
pub fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The fields of a form post: `multipart/form-data` (curl `-F`) or
/// `application/x-www-form-urlencoded` (curl `-d`); a repeated field keeps
/// every value, in order.
pub fn form_fields(headers: &HeaderMap, body: Bytes) -> Result<Vec<(String, String)>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match media_type(headers).as_str() {
        "multipart/form-data" => {
            let boundary = multer::parse_boundary(content_type).map_err(|_| {
                ApiError::bad_request("multipart/form-data without a boundary parameter")
            })?;
            multipart(body, boundary).map_err(|e| ApiError::bad_request(format!("form: {e}")))
        }
        _ => urlencoded(&body),
    }
}

fn urlencoded(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let fields: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if fields.len() > MAX_FORM_PARTS {
        return Err(ApiError::bad_request(format!(
            "form: more than {MAX_FORM_PARTS} fields"
        )));
    }
    Ok(fields)
}

/// A multipart/form-data body (RFC 7578) of text parts, split by multer.
/// File parts (curl `-F name=<file` sends them as plain parts too) are read
/// as text.
fn multipart(body: Bytes, boundary: String) -> Result<Vec<(String, String)>, String> {
    let stream = futures_util::stream::once(std::future::ready(Ok::<_, std::io::Error>(body)));
    let mut form = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    loop {
        let field = match complete(form.next_field())? {
            Ok(Some(field)) => field,
            Ok(None) => return Ok(fields),
            Err(e) => return Err(multipart_error(e)),
        };
        if fields.len() == MAX_FORM_PARTS {
            return Err(format!("more than {MAX_FORM_PARTS} parts"));
        }
        let name = field
            .name()
            .ok_or("a part has no Content-Disposition name")?
            .to_owned();
        let value = complete(field.bytes())?.map_err(multipart_error)?;
        let value = String::from_utf8(value.to_vec()).map_err(|e| {
            format!(
                "part `{name}` is not valid UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            )
        })?;
        fields.push((name, value));
    }
}

fn multipart_error(e: multer::Error) -> String {
    match e {
        multer::Error::IncompleteStream | multer::Error::IncompleteFieldData { .. } => {
            format!("{e} (truncated body?)")
        }
        other => other.to_string(),
    }
}

/// Runs one of multer's futures to completion. The whole body is already
/// in memory, so they never wait: a future that does is a bug, answered as
/// an error rather than a hang.
fn complete<F: std::future::Future>(future: F) -> Result<F::Output, String> {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..16 {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Ok(out);
        }
    }
    Err("the multipart parser stalled on an in-memory body".into())
}

/// Site names to ids, briefly cached; creates unknown sites when allowed.
pub struct SiteCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, i64)>>,
}

impl SiteCache {
    pub fn new(ttl: Duration) -> SiteCache {
        SiteCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub async fn resolve(
        &self,
        db: &dyn Database,
        name: &str,
        unknown: UnknownSites,
    ) -> Result<i64, ApiError> {
        if let Some((at, id)) = self.lock().get(name)
            && at.elapsed() < self.ttl
        {
            return Ok(*id);
        }
        let id = match db.site(name).await? {
            Some(site) => site.id,
            None if unknown == UnknownSites::Refuse => {
                return Err(ApiError::forbidden(format!(
                    "site {name:?} is not known to this server; create it with `patchwatch \
                     sites add {name}`, or set [server] unknown_sites = \"create\""
                )));
            }
            None => {
                check_site_name(name)?;
                match db.create_site(name).await {
                    Ok(site) => site.id,
                    // Another report created it first.
                    Err(StoreError::AlreadyExists(_)) => {
                        db.site(name)
                            .await?
                            .ok_or_else(|| {
                                ApiError::from(StoreError::NotFound(format!("site {name:?}")))
                            })?
                            .id
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let mut entries = self.lock();
        if entries.len() >= 10_000 {
            entries.clear();
        }
        entries.insert(name.to_owned(), (Instant::now(), id));
        Ok(id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, i64)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Names a client may create: what grid sites use (`UKI-LT2-QMUL`,
/// `praguelcg2`), nothing that would surprise a shell or a URL.
fn check_site_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "site name {name:?} is not valid: use 1-64 letters, digits, `-`, `_` or `.`"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_names() {
        assert!(check_site_name("UKI-LT2-QMUL").is_ok());
        assert!(check_site_name("a b").is_err());
        assert!(check_site_name("").is_err());
    }

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
        h
    }

    #[test]
    fn multipart_as_curl_sends_it() {
        let body: &[u8] = b"--------------------------abc\r\n\
            Content-Disposition: form-data; name=\"host\"\r\n\r\n\
            web1.example.org\r\n\
            --------------------------abc\r\n\
            Content-Disposition: form-data; name=\"packages\"\r\n\
            Content-Type: text/plain\r\n\r\n\
            'bash' '' '5.2.15' '2+b7' 'amd64' 'deb'\n'x' '' '1' '' 'all' 'deb'\n\r\n\
            --------------------------abc\r\n\
            Content-Disposition: form-data; name=\"repos\"\r\n\r\n\
            \r\n\
            --------------------------abc--\r\n";
        let h = headers("multipart/form-data; boundary=------------------------abc");
        let fields = form_fields(&h, Bytes::from_static(body)).unwrap();
        assert_eq!(fields.len(), 3);
        assert_eq!(fields[0], ("host".into(), "web1.example.org".into()));
        assert!(fields[1].1.ends_with("'deb'\n"));
        assert_eq!(fields[2], ("repos".into(), String::new()));
    }

    #[test]
    fn broken_multipart_is_named() {
        let h = headers("multipart/form-data; boundary=xyz");
        let cut: &[u8] = b"--xyz\r\nContent-Disposition: form-data; name=\"host\"\r\n\r\nweb1";
        let e = form_fields(&h, Bytes::from_static(cut)).unwrap_err();
        assert!(e.message.starts_with("form: "), "{}", e.message);
        assert!(e.message.contains("truncated body?"), "{}", e.message);
        let e = form_fields(&h, Bytes::from_static(b"hello")).unwrap_err();
        assert!(e.message.starts_with("form: "), "{}", e.message);
        let e = form_fields(&headers("multipart/form-data"), Bytes::from_static(b"x")).unwrap_err();
        assert!(e.message.contains("without a boundary"), "{}", e.message);
        let bad: &[u8] =
            b"--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\r\n--xyz--\r\n";
        let e = form_fields(&h, Bytes::from_static(bad)).unwrap_err();
        assert!(
            e.message.contains("part `a` is not valid UTF-8"),
            "{}",
            e.message
        );
        let mut many = Vec::new();
        for i in 0..=MAX_FORM_PARTS {
            many.extend_from_slice(
                format!("--xyz\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nv\r\n")
                    .as_bytes(),
            );
        }
        many.extend_from_slice(b"--xyz--\r\n");
        let e = form_fields(&h, Bytes::from(many)).unwrap_err();
        assert!(e.message.contains("more than 200 parts"), "{}", e.message);
    }

    #[test]
    fn urlencoded_fields() {
        let h = headers("application/x-www-form-urlencoded");
        let f = form_fields(
            &h,
            Bytes::from_static(b"host=a.example&pkgs=%27bash%27+%270%3A1%27"),
        )
        .unwrap();
        assert_eq!(f[1].1, "'bash' '0:1'");
    }
}
