//! Request bodies: the limits on their size as sent (`max_body_bytes`) and
//! decompressed (`max_decompressed_bytes`), `Content-Encoding`, and handing
//! a report's body to its parser on the parsing pool, so no report
//! endpoint reads a body any other way.

use std::io::Read;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};

use crate::error::ApiError;
use crate::state::AppState;

/// How the body was encoded, from `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Zstd,
}

impl Encoding {
    pub fn from_headers(headers: &HeaderMap) -> Result<Encoding, ApiError> {
        let Some(value) = headers.get(header::CONTENT_ENCODING) else {
            return Ok(Encoding::Identity);
        };
        let value = value.to_str().unwrap_or("").trim().to_ascii_lowercase();
        match value.as_str() {
            "" | "identity" => Ok(Encoding::Identity),
            "gzip" | "x-gzip" => Ok(Encoding::Gzip),
            "zstd" => Ok(Encoding::Zstd),
            other => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("unsupported Content-Encoding {other:?}; use gzip, zstd or none"),
            )),
        }
    }

    pub fn as_byte(self) -> u8 {
        self as u8
    }
}

/// The body as sent, checked against `max_body_bytes` (over it: 413 naming
/// the limit; empty: 400).
pub fn within_limit(
    state: &AppState,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Bytes, ApiError> {
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
    check_size(&raw, limit)?;
    Ok(raw)
}

/// The body as sent ([`within_limit`]), decoded per `Content-Encoding`
/// within `max_decompressed_bytes` and handed to `parse`: both on the
/// parsing pool (off the async workers, a bounded number at a time).
pub async fn decode_and_parse<T: Send + 'static>(
    state: &AppState,
    headers: &HeaderMap,
    raw: Result<Bytes, BytesRejection>,
    parse: impl FnOnce(Bytes) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let raw = within_limit(state, raw)?;
    let encoding = Encoding::from_headers(headers)?;
    let limit = state.config.max_decompressed_bytes;
    state
        .parsing
        .run(move || match encoding {
            Encoding::Identity => parse(raw),
            _ => {
                let decoded = decode(encoding, &raw, limit)?;
                drop(raw);
                parse(Bytes::from(decoded))
            }
        })
        .await
}

/// Refuses a body over `limit` bytes as sent.
pub fn check_size(body: &[u8], limit: usize) -> Result<(), ApiError> {
    if body.len() > limit {
        return Err(too_large(format!(
            "request body is larger than the limit of {limit} bytes"
        )));
    }
    if body.is_empty() {
        return Err(ApiError::bad_request("empty request body"));
    }
    Ok(())
}

/// Decodes the body, refusing output over `limit` bytes (a gzip bomb) and
/// input that doesn't decompress. The output buffer never grows past
/// `limit + 1` bytes (a plain `read_to_end` doubles it, so a body just over
/// the limit cost twice the limit), and decoding stops at that byte.
pub fn decode(encoding: Encoding, body: &[u8], limit: usize) -> Result<Vec<u8>, ApiError> {
    match encoding {
        Encoding::Identity => Ok(body.to_vec()),
        Encoding::Gzip => read_capped(
            &mut flate2::read::MultiGzDecoder::new(body),
            "gzip",
            size_hint(encoding, body),
            limit,
        ),
        Encoding::Zstd => {
            let mut decoder = zstd::stream::read::Decoder::new(body).map_err(|e| {
                ApiError::bad_request(format!("the zstd body does not decompress: {e}"))
            })?;
            read_capped(&mut decoder, "zstd", size_hint(encoding, body), limit)
        }
    }
}

fn read_capped(
    reader: &mut dyn Read,
    name: &str,
    hint: usize,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let cap = limit.saturating_add(1);
    // Reserved address space costs no memory until written, so the whole
    // hint is reserved at once (no copy when it is right) and only what is
    // decoded is touched, a step at a time.
    const STEP: usize = 1 << 20;
    let mut out: Vec<u8> = Vec::with_capacity(hint.max(1 << 12).min(cap));
    loop {
        if out.len() == out.capacity() {
            if out.len() >= cap {
                return Err(too_large(format!(
                    "decompressed body is larger than the limit of {limit} bytes"
                )));
            }
            let grow = out.len().max(1 << 12).min(cap - out.len());
            out.reserve_exact(grow);
        }
        let len = out.len();
        let room = (out.capacity().min(cap) - len).min(STEP);
        out.resize(len + room, 0);
        match reader.read(&mut out[len..]) {
            Ok(0) => {
                out.truncate(len);
                return Ok(out);
            }
            Ok(n) => out.truncate(len + n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => out.truncate(len),
            Err(e) => {
                return Err(ApiError::bad_request(format!(
                    "the {name} body does not decompress: {e}"
                )));
            }
        }
    }
}

/// How big the decoded body will probably be, to reserve once: gzip's
/// trailer records the size (mod 2^32) of a single-member stream, and zstd
/// frames usually state theirs. The caller caps it at the limit, and
/// reserving is cheap (see [`read_capped`]), so a lying client gains
/// nothing.
fn size_hint(encoding: Encoding, body: &[u8]) -> usize {
    let guess = body.len().saturating_mul(8);
    match (encoding, body.len().checked_sub(4)) {
        (Encoding::Gzip, Some(at)) => {
            let isize = u32::from_le_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]]);
            (isize as usize).max(body.len()) + 64
        }
        (Encoding::Zstd, _) => match zstd::zstd_safe::get_frame_content_size(body) {
            Ok(Some(size)) => usize::try_from(size).unwrap_or(usize::MAX),
            _ => guess,
        },
        _ => guess,
    }
}

fn too_large(message: String) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_bomb_and_junk_are_refused() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![b'a'; 1 << 20]).unwrap();
        let bomb = enc.finish().unwrap();
        let err = decode(Encoding::Gzip, &bomb, 1000).unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            decode(Encoding::Gzip, &bomb, 2 << 20).unwrap().len(),
            1 << 20
        );
        let err = decode(Encoding::Gzip, b"not gzip at all", 1000).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(
            err.message.contains("gzip body does not decompress"),
            "{}",
            err.message
        );
        let err = decode(Encoding::Zstd, b"nope", 1000).unwrap_err();
        assert!(
            err.message.contains("zstd body does not decompress"),
            "{}",
            err.message
        );
        let truncated = &bomb[..bomb.len() / 2];
        assert!(decode(Encoding::Gzip, truncated, 2 << 20).is_err());
    }

    /// The buffer a bomb is decoded into stops at the limit: it never
    /// doubles past it, whatever size the gzip trailer claims.
    #[test]
    fn decoding_never_allocates_past_the_limit() {
        let limit = 3 << 20;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![b'a'; 64 << 20]).unwrap();
        let bomb = enc.finish().unwrap();
        let mut reader = flate2::read::MultiGzDecoder::new(bomb.as_slice());
        let mut seen_capacity = 0;
        let mut probe = CapacityProbe {
            inner: &mut reader,
            decoded: 0,
            largest: &mut seen_capacity,
        };
        let err = read_capped(&mut probe, "gzip", 64 << 20, limit).unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            seen_capacity <= limit + 1,
            "decoded into {seen_capacity} bytes of buffer for a {limit}-byte limit"
        );
        // Exactly at the limit is accepted, and the result is exact.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![b'b'; limit]).unwrap();
        let fits = enc.finish().unwrap();
        let out = decode(Encoding::Gzip, &fits, limit).unwrap();
        assert_eq!(out.len(), limit);
        assert!(out.capacity() <= limit + 1);
    }

    /// A reader that records the largest output buffer it was handed:
    /// what was decoded so far plus the room it was asked to fill.
    struct CapacityProbe<'a> {
        inner: &'a mut dyn Read,
        decoded: usize,
        largest: &'a mut usize,
    }

    impl Read for CapacityProbe<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            *self.largest = (*self.largest).max(self.decoded + buf.len());
            let n = self.inner.read(buf)?;
            self.decoded += n;
            Ok(n)
        }
    }
}
