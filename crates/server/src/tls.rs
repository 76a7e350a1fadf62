//! HTTPS: the rustls configuration from `[server.tls]`, and the subject of
//! a client certificate. [`crate::connections`] runs the handshakes and
//! serves the connections.

use std::path::Path;
use std::sync::Arc;

use der::Decode;
use der::asn1::{Ia5StringRef, PrintableStringRef, Utf8StringRef};
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;

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
