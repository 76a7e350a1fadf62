#![no_main]

// Patchman protocol 1: a multipart form post (the token-less path), split
// by the server's multipart parser, then parsed.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;

include!("report_check.rs");

const BOUNDARY: &str = "------------------------d74496d66958873e";

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type).unwrap(),
    );
    let Ok(fields) =
        patchwatch_server::ingest::form::fields(&headers, Bytes::copy_from_slice(data))
    else {
        return;
    };
    if let Ok((report, _)) = patchwatch_reports::patchman::parse_v1(&fields) {
        check_accepted(&report);
    }
});
