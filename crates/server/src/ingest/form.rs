//! Form posts, as the Pakiti 4 and Patchman 1 clients send them with curl:
//! `multipart/form-data` (`-F`) or `application/x-www-form-urlencoded`
//! (`-d`), decoded whole from a body already in memory (and within its
//! limits), into the name/value pairs their parsers take. The number of
//! fields is bounded, so a crafted form can't make the server collect an
//! unbounded list.

use axum::body::Bytes;
use axum::http::{HeaderMap, header};

use crate::error::ApiError;

/// Most parts a form may have: the clients send about a dozen.
const MAX_FORM_PARTS: usize = 200;

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
pub fn fields(headers: &HeaderMap, body: Bytes) -> Result<Vec<(String, String)>, ApiError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let parsed = fields(&h, Bytes::from_static(body)).unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[0], ("host".into(), "web1.example.org".into()));
        assert!(parsed[1].1.ends_with("'deb'\n"));
        assert_eq!(parsed[2], ("repos".into(), String::new()));
    }

    #[test]
    fn broken_multipart_is_named() {
        let h = headers("multipart/form-data; boundary=xyz");
        let cut: &[u8] = b"--xyz\r\nContent-Disposition: form-data; name=\"host\"\r\n\r\nweb1";
        let e = fields(&h, Bytes::from_static(cut)).unwrap_err();
        assert!(e.message.starts_with("form: "), "{}", e.message);
        assert!(e.message.contains("truncated body?"), "{}", e.message);
        let e = fields(&h, Bytes::from_static(b"hello")).unwrap_err();
        assert!(e.message.starts_with("form: "), "{}", e.message);
        let e = fields(&headers("multipart/form-data"), Bytes::from_static(b"x")).unwrap_err();
        assert!(e.message.contains("without a boundary"), "{}", e.message);
        let bad: &[u8] =
            b"--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xff\r\n--xyz--\r\n";
        let e = fields(&h, Bytes::from_static(bad)).unwrap_err();
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
        let e = fields(&h, Bytes::from(many)).unwrap_err();
        assert!(e.message.contains("more than 200 parts"), "{}", e.message);
    }

    #[test]
    fn urlencoded_fields() {
        let h = headers("application/x-www-form-urlencoded");
        let f = fields(
            &h,
            Bytes::from_static(b"host=a.example&pkgs=%27bash%27+%270%3A1%27"),
        )
        .unwrap();
        assert_eq!(f[1].1, "'bash' '0:1'");
        let many = vec!["k=v"; MAX_FORM_PARTS + 1].join("&");
        let e = fields(&h, Bytes::from(many)).unwrap_err();
        assert_eq!(e.message, "form: more than 200 fields");
    }
}
