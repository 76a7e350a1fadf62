//! A small HTTP/1.1 server for the sync tests (also used by the CLI's):
//! serves documents with ETag / Last-Modified, answers conditional
//! requests with 304, and can misbehave on purpose (a body shorter than
//! its Content-Length, an error status). It records every request line and
//! its headers, and answers absolute-form requests (`GET http://host/path`)
//! too, so it doubles as the HTTP proxy a client is configured with.
//!
//! Plain threads and std::net: the tests control every byte sent.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub enum Route {
    /// 200 with validators; 304 when the request's validators match.
    Document {
        body: Vec<u8>,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    /// 200 promising `claimed` bytes, sending `body` and closing.
    Truncated { body: Vec<u8>, claimed: usize },
    /// This status with a short text body.
    Status(u16),
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// As sent: `/path` directly, `http://host/path` through a proxy.
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
pub struct TestServer {
    pub addr: std::net::SocketAddr,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = TestServer {
            addr: listener.local_addr().unwrap(),
            routes: Default::default(),
            requests: Default::default(),
        };
        let s = server.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = s.handle(stream);
                });
            }
        });
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn set(&self, path: &str, route: Route) {
        self.routes.lock().unwrap().insert(path.to_owned(), route);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn last_request(&self) -> Request {
        self.requests().pop().expect("a request was made")
    }

    fn handle(&self, stream: TcpStream) -> std::io::Result<()> {
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let target = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
                break;
            }
            if let Some((n, v)) = h.split_once(':') {
                headers.push((n.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let request = Request {
            method,
            target: target.clone(),
            headers,
        };
        // Absolute form (through a proxy): route by the path part.
        let path = match target.strip_prefix("http://") {
            Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]).to_owned(),
            None => target,
        };
        let route = self.routes.lock().unwrap().get(&path).cloned();
        self.requests.lock().unwrap().push(request.clone());
        let mut out = stream;
        match route {
            None => respond(&mut out, 404, &[], b"not found"),
            Some(Route::Status(code)) => respond(&mut out, code, &[], b"failing on purpose"),
            Some(Route::Truncated { body, claimed }) => {
                write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Length: {claimed}\r\nConnection: close\r\n\r\n"
                )?;
                out.write_all(&body)?;
                out.flush()
            }
            Some(Route::Document {
                body,
                etag,
                last_modified,
            }) => {
                let mut h = Vec::new();
                if let Some(e) = &etag {
                    h.push(("ETag", e.clone()));
                }
                if let Some(lm) = &last_modified {
                    h.push(("Last-Modified", lm.clone()));
                }
                // If-None-Match wins over If-Modified-Since (RFC 9110).
                let fresh = match request.header("If-None-Match") {
                    Some(inm) => etag.as_deref() == Some(inm),
                    None => {
                        request.header("If-Modified-Since").is_some()
                            && request.header("If-Modified-Since") == last_modified.as_deref()
                    }
                };
                if fresh {
                    respond(&mut out, 304, &h, b"")
                } else {
                    respond(&mut out, 200, &h, &body)
                }
            }
        }
    }
}

fn respond(
    out: &mut TcpStream,
    code: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let reason = match code {
        200 => "OK",
        304 => "Not Modified",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    };
    write!(out, "HTTP/1.1 {code} {reason}\r\nConnection: close\r\n")?;
    for (n, v) in headers {
        write!(out, "{n}: {v}\r\n")?;
    }
    if code == 304 {
        write!(out, "\r\n")?;
    } else {
        write!(out, "Content-Length: {}\r\n\r\n", body.len())?;
        out.write_all(body)?;
    }
    out.flush()
}
