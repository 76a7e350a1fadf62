//! Who may report. Native and Patchman 2 reports carry a site's ingest
//! token; Pakiti (protocols 5 and 4) and Patchman 1 clients carry none, so
//! for them the sender itself is the credential:
//!
//! 1. The **sender address** is the TCP peer, or, when the peer is a trusted
//!    proxy, the right-most `X-Forwarded-For` entry that is not itself a
//!    trusted proxy (a reverse proxy in front of Patchwatch).
//! 2. A report is **accepted** when it carries an ingest token, comes with a
//!    client certificate matching a `[[server.sources.certificates]]` rule,
//!    or its sender address is in `networks` or `trusted_proxies`.
//! 3. A report that **names another host** than its sender is accepted only
//!    from a trusted proxy address, a certificate rule with `proxy = true`,
//!    or a token (which may report any host of its site, as natively).
//!    "Another host" is decided, cheapest first: Pakiti 4's `proxy=1` says
//!    so itself; with a certificate, its CN must equal the reported hostname;
//!    from a plain address, the reported hostname must resolve (forward DNS,
//!    cached, with a timeout; never a reverse lookup) to the sender address,
//!    or, from loopback, to a loopback address or this machine's own name.
//!    `hostname_check = "off"` skips the DNS part.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use ipnet::IpNet;
use patchwatch_store::TokenRecord;
use serde::Deserialize;

use crate::error::ApiError;

/// An address or CIDR network in the configuration; a bare address is a
/// network of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(IpNet);

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip.to_canonical())
    }
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let bad = || format!("`{s}` is not an address or CIDR network (like 10.0.0.0/8)");
        if s.contains('/') {
            // `trunc`: 10.1.2.3/8 means 10.0.0.0/8, as most tools read it.
            IpNet::from_str(s)
                .map(|n| Cidr(n.trunc()))
                .map_err(|_| bad())
        } else {
            IpAddr::from_str(s)
                .map(|ip| Cidr(IpNet::from(ip.to_canonical())))
                .map_err(|_| bad())
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Cidr, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `[server.sources]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourcesConfig {
    /// Senders whose reports without credentials are accepted, each for its
    /// own host only.
    pub networks: Vec<Cidr>,
    /// Senders that may report for other hosts, and whose `X-Forwarded-For`
    /// is believed.
    pub trusted_proxies: Vec<Cidr>,
    /// Client certificates (TLS with `client_ca`) that may report.
    pub certificates: Vec<CertificateRule>,
    pub hostname_check: HostnameCheck,
}

impl Default for SourcesConfig {
    fn default() -> Self {
        SourcesConfig {
            networks: ["127.0.0.0/8", "::1"]
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect(),
            trusted_proxies: Vec::new(),
            certificates: Vec::new(),
            hostname_check: HostnameCheck::Dns,
        }
    }
}

/// `[[server.sources.certificates]]`: a verified client certificate whose
/// subject matches may report, into `site` when given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateRule {
    /// `CN=name` matches the certificate's common name; a longer DN
    /// (`CN=x,O=y`) must equal the whole subject; `*` matches any
    /// certificate the client CA verified.
    pub subject: String,
    /// The site its reports go to; a report naming another site is refused.
    #[serde(default)]
    pub site: Option<String>,
    /// Whether it may report for hosts other than the one its CN names.
    #[serde(default)]
    pub proxy: bool,
}

/// `[server.sources] hostname_check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HostnameCheck {
    /// The reported hostname must resolve to the sender address.
    #[default]
    Dns,
    /// Any allowed sender may report any hostname.
    Off,
}

/// A client certificate the TLS layer verified; a request extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert {
    /// RFC 4514 form: `CN=node1.example.org,O=Example`.
    pub subject: String,
    pub common_name: Option<String>,
}

/// How a sender was let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Token {
        site_id: i64,
        site: String,
    },
    Certificate {
        cert: ClientCert,
        site: Option<String>,
        proxy: bool,
    },
    Proxy,
    Network,
}

/// An accepted sender.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The sender address, as recorded with the report.
    pub address: IpAddr,
    pub via: Via,
}

impl Identity {
    /// The site the credentials pin, by name, if any.
    pub fn pinned_site(&self) -> Option<&str> {
        match &self.via {
            Via::Token { site, .. } => Some(site),
            Via::Certificate { site, .. } => site.as_deref(),
            Via::Proxy | Via::Network => None,
        }
    }
}

pub struct Policy {
    sources: SourcesConfig,
    dns: DnsCache,
    /// This machine's name, for loopback senders.
    own_name: Option<String>,
}

impl Policy {
    pub fn new(sources: SourcesConfig) -> Policy {
        let own_name = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|s| first_label(s.trim()).to_ascii_lowercase())
            .filter(|s| !s.is_empty());
        Policy {
            sources,
            dns: DnsCache::default(),
            own_name,
        }
    }

    /// One line for the start-up message.
    pub fn describe(&self) -> String {
        let list = |v: &[Cidr]| {
            if v.is_empty() {
                "nobody".to_owned()
            } else {
                v.iter().map(Cidr::to_string).collect::<Vec<_>>().join(", ")
            }
        };
        let mut s = format!(
            "Pakiti/Patchman reports without credentials accepted from: {} (set [server.sources] \
             to change)",
            list(&self.sources.networks)
        );
        if !self.sources.trusted_proxies.is_empty() {
            s.push_str(&format!(
                "\nTrusted proxies (may report other hosts; X-Forwarded-For believed): {}",
                list(&self.sources.trusted_proxies)
            ));
        }
        if !self.sources.certificates.is_empty() {
            s.push_str(&format!(
                "\nClient certificate rules: {}",
                self.sources.certificates.len()
            ));
        }
        // Said at start, so a refused report for another host is no surprise.
        match self.sources.hostname_check {
            HostnameCheck::Off => {
                s.push_str("\nHostname check off: allowed senders may report any hostname")
            }
            HostnameCheck::Dns if !self.sources.networks.is_empty() => s.push_str(
                "\nEach of them may report only a hostname that resolves to its own address \
                 (trusted proxies excepted; [server.sources] hostname_check = \"off\" allows any)",
            ),
            HostnameCheck::Dns => {}
        }
        s
    }

    /// Whether `ip` is one of `[server.sources] trusted_proxies`: the only
    /// peers whose SSO user header is believed.
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.is_proxy(ip)
    }

    fn is_proxy(&self, ip: IpAddr) -> bool {
        self.sources.trusted_proxies.iter().any(|c| c.contains(ip))
    }

    /// The sender address: the peer, or the client a trusted proxy names.
    pub fn sender_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.is_proxy(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        let mut sender = peer;
        // Right to left: each trusted hop vouches for the one before it; an
        // entry that doesn't parse ends the chain at the last good hop.
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            sender = ip.to_canonical();
            if !self.is_proxy(sender) {
                break;
            }
        }
        sender
    }

    /// Decides whether the sender may report at all; cheap, so it runs
    /// before the body is parsed.
    pub fn identify(
        &self,
        peer: IpAddr,
        headers: &HeaderMap,
        cert: Option<&ClientCert>,
        token: Option<&TokenRecord>,
    ) -> Result<Identity, ApiError> {
        let address = self.sender_address(peer, headers);
        if let Some(t) = token {
            let (Some(site_id), Some(site)) = (t.site_id, t.site.clone()) else {
                return Err(ApiError::forbidden(format!(
                    "token {:?} has no site",
                    t.name
                )));
            };
            let via = Via::Token { site_id, site };
            return Ok(Identity { address, via });
        }
        if let Some(cert) = cert
            && let Some(rule) = self.rule_for(cert)
        {
            let via = Via::Certificate {
                cert: cert.clone(),
                site: rule.site.clone(),
                proxy: rule.proxy,
            };
            return Ok(Identity { address, via });
        }
        if self.is_proxy(address) {
            return Ok(Identity {
                address,
                via: Via::Proxy,
            });
        }
        if self.sources.networks.iter().any(|c| c.contains(address)) {
            return Ok(Identity {
                address,
                via: Via::Network,
            });
        }
        let cert_note = match cert {
            Some(c) => format!("; the client certificate {:?} matches no rule", c.subject),
            None => String::new(),
        };
        Err(ApiError::forbidden(format!(
            "reports without credentials are not accepted from {address}{cert_note}; this server \
             accepts them from {} ([server.sources] networks)",
            if self.sources.networks.is_empty() {
                "nowhere".to_owned()
            } else {
                self.sources
                    .networks
                    .iter()
                    .map(Cidr::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )))
    }

    fn rule_for(&self, cert: &ClientCert) -> Option<&CertificateRule> {
        self.sources
            .certificates
            .iter()
            .find(|r| subject_matches(&r.subject, cert))
    }

    /// Decides whether `who` may report for `hostname` (see the module
    /// documentation). `claims_proxy` is Pakiti 4's `proxy=1`.
    pub async fn check_host(
        &self,
        who: &Identity,
        hostname: &str,
        claims_proxy: bool,
    ) -> Result<(), ApiError> {
        let hostname = hostname.trim_end_matches('.').to_ascii_lowercase();
        let refuse = |why: String| {
            Err(ApiError::forbidden(format!(
                "{why}; only a trusted proxy may report for another host \
                 ([server.sources] trusted_proxies, or a certificate rule with proxy = true)"
            )))
        };
        match &who.via {
            Via::Token { .. } | Via::Proxy => Ok(()),
            Via::Certificate { proxy: true, .. } => Ok(()),
            Via::Certificate { cert, .. } => {
                let cn = cert.common_name.as_deref().unwrap_or_default();
                if claims_proxy {
                    refuse(format!(
                        "the report says proxy=1 but {:?} is no proxy",
                        cert.subject
                    ))
                } else if cn.trim_end_matches('.').eq_ignore_ascii_case(&hostname) {
                    Ok(())
                } else {
                    refuse(format!(
                        "the report is for {hostname} but the client certificate names {cn:?}"
                    ))
                }
            }
            Via::Network if claims_proxy => refuse(format!(
                "the report says proxy=1 but {} is not a trusted proxy",
                who.address
            )),
            Via::Network if self.sources.hostname_check == HostnameCheck::Off => Ok(()),
            Via::Network => {
                if self.names_sender(&hostname, who.address).await {
                    Ok(())
                } else {
                    refuse(format!(
                        "the report is for {hostname}, which does not resolve to the sender \
                         {}",
                        who.address
                    ))
                }
            }
        }
    }

    async fn names_sender(&self, hostname: &str, sender: IpAddr) -> bool {
        if let Ok(ip) = hostname.parse::<IpAddr>() {
            return ip.to_canonical() == sender;
        }
        if sender.is_loopback()
            && self
                .own_name
                .as_deref()
                .is_some_and(|own| first_label(hostname) == own)
        {
            return true;
        }
        let resolved = self.dns.resolve(hostname).await;
        resolved
            .iter()
            .any(|ip| *ip == sender || (sender.is_loopback() && ip.is_loopback()))
    }
}

fn first_label(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

fn subject_matches(rule: &str, cert: &ClientCert) -> bool {
    let rule = rule.trim();
    if rule == "*" {
        return true;
    }
    let parts = |dn: &str| -> Vec<String> {
        dn.split(',')
            .map(|rdn| match rdn.split_once('=') {
                Some((k, v)) => format!("{}={}", k.trim().to_ascii_uppercase(), v.trim()),
                None => rdn.trim().to_owned(),
            })
            .collect()
    };
    let wanted = parts(rule);
    match wanted.as_slice() {
        [one] if one.starts_with("CN=") => cert.common_name.as_deref() == one.get(3..),
        _ => wanted == parts(&cert.subject),
    }
}

/// Forward lookups of reported hostnames, cached so a fleet reporting
/// every few minutes costs one lookup per host per TTL.
#[derive(Default)]
struct DnsCache {
    entries: Mutex<HashMap<String, Resolved>>,
}

/// When a name was looked up, and what it resolved to.
type Resolved = (Instant, Arc<[IpAddr]>);

impl DnsCache {
    const TTL: Duration = Duration::from_secs(300);
    const TIMEOUT: Duration = Duration::from_secs(2);
    const MAX_ENTRIES: usize = 100_000;

    /// The addresses `name` resolves to; none when it doesn't resolve in
    /// time (that answer is cached too, so a slow resolver is asked once).
    async fn resolve(&self, name: &str) -> Arc<[IpAddr]> {
        if let Some((at, ips)) = self.lock().get(name)
            && at.elapsed() < Self::TTL
        {
            return ips.clone();
        }
        let lookup = tokio::net::lookup_host((name, 0));
        let ips: Arc<[IpAddr]> = match tokio::time::timeout(Self::TIMEOUT, lookup).await {
            Ok(Ok(addrs)) => addrs.map(|a| a.ip().to_canonical()).collect(),
            Ok(Err(_)) | Err(_) => Arc::from([]),
        };
        let mut entries = self.lock();
        if entries.len() >= Self::MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(name.to_owned(), (Instant::now(), ips.clone()));
        ips
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Resolved>> {
        // A poisoned cache only ever holds complete entries.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(networks: &[&str], proxies: &[&str]) -> Policy {
        Policy::new(SourcesConfig {
            networks: networks.iter().map(|s| s.parse().unwrap()).collect(),
            trusted_proxies: proxies.iter().map(|s| s.parse().unwrap()).collect(),
            ..SourcesConfig::default()
        })
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidrs() {
        let c: Cidr = "10.1.2.3/8".parse().unwrap();
        assert_eq!(c.to_string(), "10.0.0.0/8");
        assert!(c.contains(ip("10.200.0.1")));
        assert!(c.contains(ip("::ffff:10.0.0.1")), "IPv4-mapped");
        assert!(!c.contains(ip("11.0.0.1")));
        assert_eq!("::1".parse::<Cidr>().unwrap().to_string(), "::1/128");
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("example.org".parse::<Cidr>().is_err());
    }

    #[test]
    fn forwarded_for_is_believed_from_proxies_only() {
        let p = policy(&[], &["10.0.0.0/24"]);
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.4, 10.0.0.7".parse().unwrap(),
        );
        assert_eq!(p.sender_address(ip("10.0.0.1"), &h), ip("198.51.100.4"));
        assert_eq!(p.sender_address(ip("192.0.2.1"), &h), ip("192.0.2.1"));
        h.insert("x-forwarded-for", "junk, 10.0.0.9".parse().unwrap());
        assert_eq!(p.sender_address(ip("10.0.0.1"), &h), ip("10.0.0.9"));
        assert_eq!(
            p.sender_address(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn subjects() {
        let cert = ClientCert {
            subject: "CN=node1.example.org,O=Example".into(),
            common_name: Some("node1.example.org".into()),
        };
        assert!(subject_matches("CN=node1.example.org", &cert));
        assert!(subject_matches("cn=node1.example.org, O=Example", &cert));
        assert!(subject_matches("*", &cert));
        assert!(!subject_matches("CN=node1.example.org,O=Other", &cert));
        assert!(!subject_matches("CN=node2.example.org", &cert));
    }

    #[tokio::test]
    async fn another_host_needs_a_proxy() {
        let p = policy(&["192.0.2.0/24", "127.0.0.0/8"], &["198.51.100.1"]);
        let h = HeaderMap::new();
        let plain = p.identify(ip("192.0.2.7"), &h, None, None).unwrap();
        assert_eq!(plain.via, Via::Network);
        let err = p
            .check_host(&plain, "node1.invalid", false)
            .await
            .unwrap_err();
        assert!(
            err.message
                .contains("does not resolve to the sender 192.0.2.7"),
            "{}",
            err.message
        );
        assert!(p.check_host(&plain, "192.0.2.7", false).await.is_ok());
        let err = p.check_host(&plain, "192.0.2.7", true).await.unwrap_err();
        assert!(err.message.contains("proxy=1"), "{}", err.message);
        let local = p.identify(ip("127.0.0.1"), &h, None, None).unwrap();
        assert!(p.check_host(&local, "localhost", false).await.is_ok());
        let proxy = p.identify(ip("198.51.100.1"), &h, None, None).unwrap();
        assert_eq!(proxy.via, Via::Proxy);
        assert!(p.check_host(&proxy, "anything.invalid", true).await.is_ok());
        let banner = p.describe();
        assert!(
            banner.contains("may report only a hostname that resolves to its own address"),
            "{banner}"
        );
        let err = p.identify(ip("203.0.113.1"), &h, None, None).unwrap_err();
        assert_eq!(err.status, axum::http::StatusCode::FORBIDDEN);
        assert!(
            err.message.contains("not accepted from 203.0.113.1"),
            "{}",
            err.message
        );
    }
}
