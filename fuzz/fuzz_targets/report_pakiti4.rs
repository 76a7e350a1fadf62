#![no_main]

// Pakiti protocol 4: an urlencoded form post, decoded as the server does,
// then parsed.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;

include!("report_check.rs");

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let Ok(fields) =
        patchwatch_server::ingest::form::fields(&headers, Bytes::copy_from_slice(data))
    else {
        return;
    };
    if let Ok((report, _, _)) = patchwatch_reports::pakiti::parse_v4(&fields) {
        check_accepted(&report);
    }
});
