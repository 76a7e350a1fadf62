//! HTTPS. `axum::serve` speaks plain HTTP only, so with `[server.tls]` the
//! server accepts TCP connections itself, runs the rustls handshake and
//! hands each connection to hyper with the router. A verified client
//! certificate's subject travels with every request of that connection as a
//! [`ClientCert`] extension, the peer address as `ConnectInfo`, exactly
//! what the plain server provides.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use der::Decode;
use der::asn1::{Ia5StringRef, PrintableStringRef, Utf8StringRef};
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::config::TlsConfig;
use crate::policy::ClientCert;

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("TLS certificate {path}: {problem}")]
    Cert { path: String, problem: String },
    #[error("TLS key {path}: {problem}")]
    Key { path: String, problem: String },
    #[error("TLS client CA {path}: {problem}")]
    ClientCa { path: String, problem: String },
    #[error("TLS setup: {0}")]
    Setup(String),
}

/// How long a client may take over its handshake: a client that connects
/// and sends nothing must not hold a task forever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);

/// Reads the certificate, key and optional client CA into a rustls
/// configuration (ring provider, TLS 1.2 and 1.3, HTTP/1.1).
pub fn load(config: &TlsConfig) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs = read_certs(&config.cert).map_err(|problem| TlsError::Cert {
        path: config.cert.display().to_string(),
        problem,
    })?;
    let key = PrivateKeyDer::from_pem_file(&config.key).map_err(|e| TlsError::Key {
        path: config.key.display().to_string(),
        problem: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?;
    let builder = match &config.client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let ca_err = |problem: String| TlsError::ClientCa {
                path: path.display().to_string(),
                problem,
            };
            let mut roots = rustls::RootCertStore::empty();
            for cert in read_certs(path).map_err(ca_err)? {
                roots.add(cert).map_err(|e| ca_err(e.to_string()))?;
            }
            // Optional: Patchman 2 and native clients authenticate with
            // tokens and have no certificate.
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| ca_err(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut server = builder
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Key {
            path: config.key.display().to_string(),
            problem: format!("does not fit the certificate: {e}"),
        })?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(server))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("no PEM certificate in it".into());
    }
    Ok(certs)
}

/// The subject of a DER certificate the verifier accepted.
pub fn client_cert(der: &[u8]) -> Option<ClientCert> {
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let subject = &cert.tbs_certificate.subject;
    let common_name = subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == const_oid_cn())
        .and_then(|atv| {
            let v = &atv.value;
            Utf8StringRef::try_from(v)
                .map(|s| s.as_str().to_owned())
                .or_else(|_| PrintableStringRef::try_from(v).map(|s| s.as_str().to_owned()))
                .or_else(|_| Ia5StringRef::try_from(v).map(|s| s.as_str().to_owned()))
                .ok()
        });
    Some(ClientCert {
        subject: subject.to_string(),
        common_name,
    })
}

fn const_oid_cn() -> der::asn1::ObjectIdentifier {
    der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3")
}

/// Serves HTTPS until `shutdown` resolves, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(tls);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
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
        connections.spawn(connection(
            acceptor.clone(),
            tcp,
            peer,
            app.clone(),
            stop_rx.clone(),
        ));
    }
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

async fn connection(
    acceptor: TlsAcceptor,
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    mut stop: watch::Receiver<bool>,
) {
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
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
    let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        if let Some(c) = &cert {
            req.extensions_mut().insert(c.clone());
        }
        app.clone().oneshot(req)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
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
