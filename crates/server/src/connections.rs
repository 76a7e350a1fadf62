//! Accepting connections, plain or TLS, within limits a hostile client
//! can't exhaust: at most `max_connections` at once (the rest wait in the
//! kernel's accept queue instead of taking file descriptors), request
//! headers within `header_timeout_seconds` (which also closes idle
//! kept-alive connections), TLS handshakes within the same time. Request
//! bodies are bounded in time by [`read_body_in_time`], a router layer.
//!
//! Each connection is served by hyper with the router; the peer address
//! travels with every request as `ConnectInfo`, and a verified client
//! certificate's subject as a [`crate::policy::ClientCert`] extension.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::error::ApiError;
use crate::state::AppState;
use crate::tls::client_cert;

/// The connection limits of [`serve`], from `[server]`.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

impl ConnectionLimits {
    pub fn from_config(config: &crate::ServerConfig) -> ConnectionLimits {
        ConnectionLimits {
            max_connections: config.max_connections.max(1),
            header_timeout: Duration::from_secs(config.header_timeout_seconds.max(1)),
        }
    }
}

/// Serves `app` on `listener` (HTTPS with `tls`) until `shutdown`
/// resolves, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: ConnectionLimits,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tls.map(TlsAcceptor::from);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // A slot first: at the cap, connections stay in the accept queue
        // and cost this process nothing.
        let slot = tokio::select! {
            _ = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Reap finished connections so the set doesn't grow forever.
        while connections.try_join_next().is_some() {}
        let (acceptor, app, stop) = (acceptor.clone(), app.clone(), stop_rx.clone());
        connections.spawn(async move {
            connection(acceptor, tcp, peer, limits, app, stop).await;
            drop(slot);
        });
    }
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

async fn connection(
    acceptor: Option<TlsAcceptor>,
    tcp: TcpStream,
    peer: SocketAddr,
    limits: ConnectionLimits,
    app: Router,
    stop: watch::Receiver<bool>,
) {
    let Some(acceptor) = acceptor else {
        return http(tcp, peer, None, limits, app, stop).await;
    };
    let stream = match tokio::time::timeout(limits.header_timeout, acceptor.accept(tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let cert = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|der| client_cert(der));
    http(stream, peer, cert, limits, app, stop).await
}

async fn http<S>(
    stream: S,
    peer: SocketAddr,
    cert: Option<crate::policy::ClientCert>,
    limits: ConnectionLimits,
    app: Router,
    mut stop: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        if let Some(c) = &cert {
            req.extensions_mut().insert(c.clone());
        }
        app.clone().oneshot(req)
    });
    // hyper starts the header timer whenever it waits for a request head:
    // on a new connection and after each response on a kept-alive one.
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        res = conn.as_mut() => {
            if let Err(e) = res {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        }
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Reads the whole request body within `body_timeout_seconds` before any
/// handler runs: a client that sends its headers and then trickles or
/// stalls its body gets a 408 instead of holding the connection. At most
/// `max_body_bytes` plus one byte is read; a longer body is cut there and
/// handed on, so each endpoint refuses it with its own 413 naming the limit
/// (Pakiti clients read plain text, the API answers JSON).
pub async fn read_body_in_time(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let seconds = state.config.body_timeout_seconds;
    let limit = state.config.max_body_bytes.saturating_add(1);
    match tokio::time::timeout(Duration::from_secs(seconds), read_up_to(body, limit)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(e)) => {
            ApiError::bad_request(format!("could not read the request body: {e}")).into_response()
        }
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!("the request body did not arrive within {seconds} s (body_timeout_seconds)"),
        )
        .into_response(),
    }
}

/// The body's first `limit` bytes (all of it when shorter).
async fn read_up_to(mut body: Body, limit: usize) -> Result<Vec<u8>, axum::Error> {
    let mut out = Vec::new();
    while out.len() < limit {
        let Some(frame) = http_body_util::BodyExt::frame(&mut body).await else {
            break;
        };
        if let Ok(data) = frame?.into_data() {
            let take = data.len().min(limit - out.len());
            out.extend_from_slice(&data[..take]);
        }
    }
    Ok(out)
}
