//! Server settings: the `[server]` part of the TOML configuration file.

use std::path::PathBuf;
use std::time::Duration;

use patchwatch_assess::{OsGroupConfig, OsGroups, OsGroupsConfig};
use serde::{Deserialize, Deserializer};

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
    /// Seconds a client has to send a request's headers, counted from when
    /// the server starts waiting for them: when the connection opens, or
    /// after the previous response on a kept-alive connection. So this is
    /// also the idle keep-alive timeout.
    pub header_timeout_seconds: u64,
    /// Seconds a client has to send a whole request body once its headers
    /// arrived (a 408 naming this limit otherwise).
    pub body_timeout_seconds: u64,
    /// Most connections served at once; further clients wait in the
    /// kernel's accept queue. Keep it well under the open-files limit
    /// (`ulimit -n`): the database and feeds need descriptors too.
    pub max_connections: usize,
    /// Most reports decompressed and parsed at once (each may take up to
    /// `max_decompressed_bytes` of memory); 0: one per CPU.
    pub max_parallel_parsing: usize,
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
    /// How often every enabled feed with a URL source is downloaded
    /// (`"6h"`, `"30m"`, `"1d"`, or a number of seconds; at least a
    /// minute). Unset: never; `patchwatch feeds sync` does it by hand.
    #[serde(deserialize_with = "interval")]
    pub feed_sync_interval: Option<Duration>,
    /// Largest feed document the periodic sync downloads.
    pub feed_sync_max_bytes: u64,
    /// Admin-defined OS groups (`[[server.os_group]]`: name, members,
    /// data), checked before the automatic OS-to-feed mapping: several
    /// Debian point releases, or CentOS and Rocky read as AlmaLinux.
    #[serde(rename = "os_group")]
    pub os_groups: Vec<OsGroupConfig>,
    /// A second address serving only `GET /metrics`, without a token
    /// (`"127.0.0.1:9187"`); on the main address it needs an API token.
    pub metrics_listen: Option<String>,
    /// Who people are besides API tokens (`[server.auth]`): a trusted
    /// proxy's user header, client-certificate subjects.
    pub auth: AuthConfig,
    /// The web UI's dashboard counts a host as stale after this many days
    /// without a report.
    pub stale_after_days: u32,
}

/// `[server.auth]`: single sign-on in front of the API.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// A header carrying the logged-in user's name (`REMOTE_USER`, as a
    /// Shibboleth or OIDC reverse proxy sets it). Believed only from
    /// `[server.sources] trusted_proxies`; from anyone else it is refused.
    pub remote_user_header: Option<String>,
    /// Treat a verified TLS client certificate's subject DN
    /// (`CN=Jane Doe,O=Example`) as the user of that name.
    pub client_cert_users: bool,
    /// Create an SSO user (with no rights) on first login, so an admin
    /// only has to grant roles; otherwise unknown users are refused.
    pub auto_create_users: bool,
}

impl AuthConfig {
    /// One line for the start-up banner: how readers are recognised.
    pub fn describe(&self, trusted_proxies: usize, client_ca: bool) -> String {
        let mut ways = vec!["API tokens".to_owned()];
        if let Some(h) = &self.remote_user_header {
            ways.push(if trusted_proxies == 0 {
                format!("{h} header (ignored: no [server.sources] trusted_proxies)")
            } else {
                format!("{h} header from the {trusted_proxies} trusted proxy range(s)")
            });
        }
        if self.client_cert_users {
            ways.push(if client_ca {
                "client-certificate subjects".to_owned()
            } else {
                "client-certificate subjects (none without [server.tls] client_ca)".to_owned()
            });
        }
        let mut line = format!("Readers: {}", ways.join(", "));
        if self.auto_create_users && ways.len() > 1 {
            line.push_str("; unknown SSO users are created without roles");
        }
        line
    }
}

impl ServerConfig {
    /// `max_parallel_parsing`, with 0 read as one per CPU.
    pub fn parallel_parsing(&self) -> usize {
        match self.max_parallel_parsing {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }

    /// The connection and request limits in one line, for the start-up
    /// message.
    pub fn describe_limits(&self) -> String {
        format!(
            "limits: {} connections at once, request headers within {} s (also the keep-alive \
             idle timeout), bodies within {} s, bodies up to {} bytes ({} decompressed), {} \
             packages per report, {} reports parsed at once",
            self.max_connections,
            self.header_timeout_seconds,
            self.body_timeout_seconds,
            self.max_body_bytes,
            self.max_decompressed_bytes,
            self.max_packages,
            self.parallel_parsing(),
        )
    }

    /// Refuses limits that would make the server unusable.
    pub fn check_limits(&self) -> Result<(), String> {
        for (name, value) in [
            (
                "header_timeout_seconds",
                self.header_timeout_seconds as usize,
            ),
            ("body_timeout_seconds", self.body_timeout_seconds as usize),
            ("max_connections", self.max_connections),
            ("max_body_bytes", self.max_body_bytes),
            ("max_decompressed_bytes", self.max_decompressed_bytes),
        ] {
            if value == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        Ok(())
    }

    /// The OS groups, validated.
    pub fn os_groups(&self) -> Result<OsGroups, patchwatch_assess::AssessError> {
        OsGroups::from_config(&OsGroupsConfig {
            groups: self.os_groups.clone(),
        })
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 16 << 20,
            max_decompressed_bytes: 128 << 20,
            max_packages: 50_000,
            header_timeout_seconds: 10,
            body_timeout_seconds: 60,
            max_connections: 512,
            max_parallel_parsing: 0,
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
            feed_sync_interval: None,
            feed_sync_max_bytes: patchwatch_vulndb::sync::DEFAULT_MAX_BYTES,
            os_groups: Vec::new(),
            metrics_listen: None,
            auth: AuthConfig::default(),
            stale_after_days: 7,
        }
    }
}

/// `feed_sync_interval`: seconds, or a number with `s`, `m`, `h` or `d`.
fn interval<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Seconds(u64),
        Text(String),
    }
    let secs = match Raw::deserialize(d)? {
        Raw::Seconds(s) => s,
        Raw::Text(t) => parse_interval(&t).map_err(serde::de::Error::custom)?,
    };
    // Vendors publish a few times a day at most; a shorter interval only
    // adds load on their servers (and ours).
    if secs < 60 {
        return Err(serde::de::Error::custom(format!(
            "feed_sync_interval must be at least 60 seconds, not {secs}"
        )));
    }
    Ok(Some(Duration::from_secs(secs)))
}

fn parse_interval(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit_secs = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(n) if unit_secs > 0 => n
            .checked_mul(unit_secs)
            .ok_or_else(|| format!("feed_sync_interval {text:?} is too large")),
        _ => Err(format!(
            "feed_sync_interval {text:?} is not a duration like \"6h\", \"30m\", \"1d\" or \"3600\""
        )),
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
    fn auth_section_and_banner() {
        let c: ServerConfig = toml::from_str(
            r#"
            [auth]
            remote_user_header = "REMOTE_USER"
            client_cert_users = true
            auto_create_users = true
            "#,
        )
        .unwrap();
        assert_eq!(c.auth.remote_user_header.as_deref(), Some("REMOTE_USER"));
        assert_eq!(
            c.auth.describe(1, true),
            "Readers: API tokens, REMOTE_USER header from the 1 trusted proxy range(s), \
             client-certificate subjects; unknown SSO users are created without roles"
        );
        assert!(
            c.auth
                .describe(0, false)
                .contains("ignored: no [server.sources]")
        );
        assert_eq!(
            ServerConfig::default().auth.describe(0, false),
            "Readers: API tokens"
        );
        let typo = toml::from_str::<ServerConfig>("[auth]\nremote_user = \"X\"");
        assert!(typo.unwrap_err().to_string().contains("unknown field"));
    }

    #[test]
    fn feed_sync_interval() {
        let at = |t: &str| {
            toml::from_str::<ServerConfig>(&format!("feed_sync_interval = {t}"))
                .map(|c| c.feed_sync_interval.map(|d| d.as_secs()))
                .map_err(|e| e.to_string())
        };
        assert_eq!(at("\"6h\""), Ok(Some(21_600)));
        assert_eq!(at("\"30m\""), Ok(Some(1_800)));
        assert_eq!(at("\"1d\""), Ok(Some(86_400)));
        assert_eq!(at("\"90s\""), Ok(Some(90)));
        assert_eq!(at("3600"), Ok(Some(3_600)));
        assert!(at("\"6 hours\"").unwrap_err().contains("not a duration"));
        assert!(at("\"h\"").unwrap_err().contains("not a duration"));
        assert!(at("10").unwrap_err().contains("at least 60 seconds"));
        assert_eq!(ServerConfig::default().feed_sync_interval, None);
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
