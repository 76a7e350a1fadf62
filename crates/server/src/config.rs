//! Server settings: the `[server]` part of the TOML configuration file.

use std::path::PathBuf;

use serde::Deserialize;

use crate::policy::SourcesConfig;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Largest request body accepted, as sent (compressed or not).
    pub max_body_bytes: usize,
    /// Largest body after decompression: a small gzip bomb must not
    /// exhaust memory.
    pub max_decompressed_bytes: usize,
    /// Most packages one report may list: no real host has more than a
    /// few thousand, and a runaway list should be refused, not stored.
    pub max_packages: usize,
    /// Keep reports this many days (a host's latest report is always kept);
    /// unset keeps everything.
    pub retention_days: Option<u32>,
    /// How long a token lookup is trusted before the database is asked
    /// again (a revoked token stops working within this time).
    pub token_cache_seconds: u64,
    /// Where `pakiti-client` posts (`--url https://SERVER/feed/`). Both
    /// documented deployments' paths by default.
    pub pakiti_paths: Vec<String>,
    /// PEM private key (RSA, unencrypted) that decrypts reports sent with
    /// `pakiti-client --encrypt CERT`; without it encrypted reports are
    /// refused.
    pub pakiti_key: Option<PathBuf>,
    /// The certificate clients encrypt to (optional: picks this server's
    /// entry when a report is encrypted for several recipients).
    pub pakiti_cert: Option<PathBuf>,
    /// Site of a Pakiti report that names none (`pakiti-client` without
    /// `--site`).
    pub pakiti_site: String,
    /// Site of Patchman protocol 1 reports, which never name one (a client
    /// certificate mapped to a site wins).
    pub patchman_site: String,
    /// What to do with a report for a site this server doesn't know.
    pub unknown_sites: UnknownSites,
    /// Who may send reports without credentials (Pakiti, Patchman 1).
    pub sources: SourcesConfig,
    /// HTTPS; unset serves plain HTTP.
    pub tls: Option<TlsConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 16 << 20,
            max_decompressed_bytes: 128 << 20,
            max_packages: 50_000,
            retention_days: None,
            token_cache_seconds: 30,
            pakiti_paths: vec!["/feed/".into(), "/pakiti/feed/".into()],
            pakiti_key: None,
            pakiti_cert: None,
            pakiti_site: "default".into(),
            patchman_site: "default".into(),
            unknown_sites: UnknownSites::Refuse,
            sources: SourcesConfig::default(),
            tls: None,
        }
    }
}

/// `[server] unknown_sites`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownSites {
    /// A 403 naming the site; an administrator creates sites.
    #[default]
    Refuse,
    /// The site is created on its first report.
    Create,
}

/// `[server.tls]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain, the server's own certificate first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// PEM CA certificates that sign client certificates. When set, clients
    /// are asked for a certificate; one is optional (token clients have
    /// none), but one that is sent must verify.
    pub client_ca: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_sections() {
        let c: ServerConfig = toml::from_str(
            r#"
            unknown_sites = "create"
            patchman_site = "LAB"
            [sources]
            networks = ["10.0.0.0/8", "::1"]
            trusted_proxies = ["192.0.2.1/32"]
            hostname_check = "off"
            [[sources.certificates]]
            subject = "CN=proxy.example.org"
            site = "LAB"
            proxy = true
            [tls]
            cert = "/c.pem"
            key = "/k.pem"
            "#,
        )
        .unwrap();
        assert_eq!(c.unknown_sites, UnknownSites::Create);
        assert_eq!(c.patchman_site, "LAB");
        assert_eq!(c.pakiti_site, "default");
        assert_eq!(c.sources.networks.len(), 2);
        assert_eq!(c.sources.certificates[0].site.as_deref(), Some("LAB"));
        assert!(c.tls.unwrap().client_ca.is_none());
        let d = ServerConfig::default();
        assert_eq!(d.pakiti_paths, ["/feed/", "/pakiti/feed/"]);
        assert_eq!(d.unknown_sites, UnknownSites::Refuse);
        let loopback: Vec<String> = d.sources.networks.iter().map(|n| n.to_string()).collect();
        assert_eq!(loopback, ["127.0.0.0/8", "::1/128"]);
    }

    #[test]
    fn bad_networks_are_named() {
        let err = toml::from_str::<ServerConfig>("[sources]\nnetworks = [\"10.0.0.0/33\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`10.0.0.0/33` is not an address or CIDR network"),
            "{err}"
        );
    }
}
