//! Pakiti clients: `pakiti-client` 3.x (protocol 5, raw text body, see
//! [`parse_v5`]) and the bash `pakiti2-client` (protocol 4, form fields, see
//! [`parse_v4`]), and the plain-text reply both expect.
//!
//! Both protocols carry no repositories, so their reports have
//! `repositories: None` (the host keeps what it had). `packager`/`type` map to
//! package types as: `rpm` -> rpm, `dpkg`/`deb` -> deb, `apk` -> apk,
//! `pacman` -> pacman; `svmon` (and a missing packager) take the type from the
//! OS string (`Rocky Linux ...` -> rpm); `pkg` (FreeBSD) is refused, as
//! Patchwatch only has Linux package types.

mod form;
mod raw;
mod write;

use std::fmt::Write as _;

use crate::error::ReportError;
use crate::model::{OsInfo, PackageType};
use crate::os;

pub use form::parse_v4;
pub use raw::parse_v5;
pub use write::{to_v4_fields, to_v5};

/// Protocol assumed when the query string names none (pakiti-client 3.0.1).
pub const DEFAULT_PROTOCOL: u32 = 5;

/// What the client asked the server to do with its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Store the report; reply `OK`.
    #[default]
    StoreOnly,
    /// Store the report and reply with the host's vulnerable packages.
    StoreAndReport,
    /// Reply with the vulnerable packages without storing the host.
    ReportOnly,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::StoreOnly => "store-only",
            Mode::StoreAndReport => "store-and-report",
            Mode::ReportOnly => "report-only",
        }
    }

    /// `mode=` values of protocol 5.
    pub fn parse(s: &str) -> Option<Mode> {
        [Mode::StoreOnly, Mode::StoreAndReport, Mode::ReportOnly]
            .into_iter()
            .find(|m| m.as_str() == s)
    }

    /// The legacy `report=0|1|2` parameter (protocol 4 and old 3.x clients).
    pub fn from_legacy(s: &str) -> Option<Mode> {
        match s.trim() {
            "" | "0" => Some(Mode::StoreOnly),
            "1" => Some(Mode::StoreAndReport),
            "2" => Some(Mode::ReportOnly),
            _ => None,
        }
    }

    pub fn stores(self) -> bool {
        self != Mode::ReportOnly
    }

    /// Whether the reply lists the vulnerable packages.
    pub fn reports(self) -> bool {
        self != Mode::StoreOnly
    }
}

/// Reads `protocol`, `mode` and the legacy `report` from the query string of
/// a Pakiti request (without the leading `?`). A missing protocol is 5; when
/// both `mode` and `report` are present, `mode` wins. Other parameters are
/// ignored.
pub fn mode_from_query(query: Option<&str>) -> Result<(u32, Mode), ReportError> {
    let mut protocol = DEFAULT_PROTOCOL;
    let mut mode = None;
    let mut legacy = None;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match percent_decode(key).as_str() {
            "protocol" => {
                protocol = match value.trim() {
                    "5" => 5,
                    "4" => 4,
                    other => {
                        return Err(ReportError::invalid(
                            "protocol",
                            format!("unsupported value `{other}`; expected 4 or 5"),
                        ));
                    }
                }
            }
            "mode" => {
                mode = Some(Mode::parse(value.trim()).ok_or_else(|| {
                    ReportError::invalid(
                        "mode",
                        format!(
                            "unknown value `{value}`; expected store-only, store-and-report \
                             or report-only"
                        ),
                    )
                })?);
            }
            "report" => {
                legacy = Some(Mode::from_legacy(&value).ok_or_else(|| {
                    ReportError::invalid(
                        "report",
                        format!("unknown value `{value}`; expected 0, 1 or 2"),
                    )
                })?);
            }
            _ => {}
        }
    }
    Ok((protocol, mode.or(legacy).unwrap_or_default()))
}

/// One line of the report-mode reply: an installed package, a CVE affecting
/// it and the CVE's tag (the severity or list the site tags CVEs with).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaggedFinding {
    pub name: String,
    /// The installed version as the client printed it (`1:3.0.7-25.el9_3`).
    pub version: String,
    pub arch: String,
    pub cve: String,
    pub tag: String,
}

/// A security update pending for a reported package, from the host's
/// repositories: the report-back lists it after the tagged CVEs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecurityUpdate {
    pub name: String,
    /// The installed version as the client printed it.
    pub version: String,
    pub arch: String,
    /// The version the package manager would install.
    pub candidate: String,
    /// The configured repository it comes from.
    pub repository: String,
    /// CVEs it closes; when none is known, the advisories shipping it.
    pub cves: Vec<String>,
    pub advisories: Vec<String>,
}

/// The reply body: `OK\n`, then `name<TAB>version<TAB>arch<TAB>CVE<TAB>tag`
/// lines. With no findings (and always in store-only mode) it is exactly
/// `OK\n`, which the 3.0.4 curl fallback checks for.
pub fn reply(findings: &[TaggedFinding]) -> String {
    reply_with_updates(findings, &[])
}

/// [`reply`], followed by the host's security updates in the same five
/// columns, so `pakiti-client` prints them as it prints findings: one line
/// per CVE the update closes (its advisory, or `-`, when it names none),
/// the last column saying what to install:
/// `openssl<TAB>1:3.0.7-25.el9_3<TAB>x86_64<TAB>CVE-2024-0727<TAB>security update: 1:3.0.7-27.el9_4 (baseos)`.
pub fn reply_with_updates(findings: &[TaggedFinding], updates: &[SecurityUpdate]) -> String {
    let mut out = String::with_capacity(3 + (findings.len() + updates.len()) * 64);
    out.push_str("OK\n");
    let mut line = |fields: [&str; 5]| {
        // A tab or newline inside a field would shift the client's columns.
        let fields = fields.map(one_field);
        let _ = writeln!(out, "{}", fields.join("\t"));
    };
    for f in findings {
        line([&f.name, &f.version, &f.arch, &f.cve, &f.tag]);
    }
    for u in updates {
        let what = format!("security update: {} ({})", u.candidate, u.repository);
        let ids: Vec<&str> = if !u.cves.is_empty() {
            u.cves.iter().map(String::as_str).collect()
        } else if !u.advisories.is_empty() {
            u.advisories.iter().map(String::as_str).collect()
        } else {
            vec!["-"]
        };
        for id in ids {
            line([&u.name, &u.version, &u.arch, id, &what]);
        }
    }
    out
}

fn one_field(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Maps Pakiti's `packager`/`type` to a package type. `what` names the
/// header or field for the error message; `system` is the OS string, used
/// when the packager does not decide.
fn package_type(packager: &str, system: &str, what: &str) -> Result<PackageType, ReportError> {
    let from_system = || {
        os::package_type(&os::normalise(&OsInfo::default(), system)).ok_or_else(|| {
            let packager = packager.trim();
            let given = if packager.is_empty() {
                "no packager given".to_owned()
            } else {
                format!("`{packager}` does not say which package manager the host uses")
            };
            ReportError::Malformed(format!(
                "{what}: {given}, and the OS string `{system}` does not tell either"
            ))
        })
    };
    match packager.trim().to_ascii_lowercase().as_str() {
        "rpm" => Ok(PackageType::Rpm),
        "dpkg" | "deb" => Ok(PackageType::Deb),
        "apk" => Ok(PackageType::Apk),
        "pacman" => Ok(PackageType::Pacman),
        "" | "svmon" => from_system(),
        "pkg" => Err(ReportError::Malformed(format!(
            "{what}: packager `pkg` (FreeBSD) is not supported; Patchwatch tracks rpm, dpkg, apk \
             and pacman hosts"
        ))),
        other => Err(ReportError::Malformed(format!(
            "{what}: unknown packager `{other}`; expected rpm or dpkg"
        ))),
    }
}

/// `%XX` and `+` decoding for query strings; invalid escapes stay as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = (b == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (b, escaped) {
            (_, Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (other, None) => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings() {
        assert_eq!(mode_from_query(None), Ok((5, Mode::StoreOnly)));
        assert_eq!(mode_from_query(Some("")), Ok((5, Mode::StoreOnly)));
        assert_eq!(
            mode_from_query(Some("mode=store-and-report&protocol=5")),
            Ok((5, Mode::StoreAndReport))
        );
        assert_eq!(
            mode_from_query(Some("protocol=4&report=2")),
            Ok((4, Mode::ReportOnly))
        );
        assert_eq!(
            mode_from_query(Some("report=1&mode=report%2Donly&x=y")),
            Ok((5, Mode::ReportOnly))
        );
        let err = mode_from_query(Some("protocol=3")).unwrap_err().to_string();
        assert!(err.starts_with("protocol: unsupported value `3`"), "{err}");
        let err = mode_from_query(Some("mode=loud")).unwrap_err().to_string();
        assert!(err.starts_with("mode: unknown value `loud`"), "{err}");
        let err = mode_from_query(Some("report=9")).unwrap_err().to_string();
        assert!(err.starts_with("report: unknown value `9`"), "{err}");
        assert_eq!(percent_decode("a%2b+b%zz%"), "a+ b%zz%");
    }

    #[test]
    fn reply_lines() {
        assert_eq!(reply(&[]), "OK\n");
        let f = TaggedFinding {
            name: "openssl".into(),
            version: "1:3.0.7-25.el9_3".into(),
            arch: "x86_64".into(),
            cve: "CVE-2024-0727".into(),
            tag: "High\tx".into(),
        };
        assert_eq!(
            reply(&[f]),
            "OK\nopenssl\t1:3.0.7-25.el9_3\tx86_64\tCVE-2024-0727\tHigh x\n"
        );
    }

    #[test]
    fn reply_lines_with_security_updates() {
        let update = |cves: &[&str], advisories: &[&str]| SecurityUpdate {
            name: "openssl".into(),
            version: "1:3.0.7-25.el9_3".into(),
            arch: "x86_64".into(),
            candidate: "1:3.0.7-27.el9".into(),
            repository: "baseos\n".into(),
            cves: cves.iter().map(|c| (*c).to_owned()).collect(),
            advisories: advisories.iter().map(|c| (*c).to_owned()).collect(),
        };
        assert_eq!(reply_with_updates(&[], &[]), "OK\n");
        assert_eq!(
            reply_with_updates(
                &[],
                &[
                    update(&["CVE-2024-0727", "CVE-2024-2511"], &["RLSA-2024:2447"]),
                    update(&[], &["RLSA-2024:2447"]),
                    update(&[], &[]),
                ]
            ),
            "OK\n\
             openssl\t1:3.0.7-25.el9_3\tx86_64\tCVE-2024-0727\tsecurity update: 1:3.0.7-27.el9 (baseos )\n\
             openssl\t1:3.0.7-25.el9_3\tx86_64\tCVE-2024-2511\tsecurity update: 1:3.0.7-27.el9 (baseos )\n\
             openssl\t1:3.0.7-25.el9_3\tx86_64\tRLSA-2024:2447\tsecurity update: 1:3.0.7-27.el9 (baseos )\n\
             openssl\t1:3.0.7-25.el9_3\tx86_64\t-\tsecurity update: 1:3.0.7-27.el9 (baseos )\n"
        );
    }

    #[test]
    fn packagers() {
        assert_eq!(package_type("dpkg", "", "packager"), Ok(PackageType::Deb));
        assert_eq!(
            package_type("svmon", "Rocky Linux release 9.3", "packager"),
            Ok(PackageType::Rpm)
        );
        assert!(
            package_type("pkg", "", "packager")
                .unwrap_err()
                .to_string()
                .contains("FreeBSD")
        );
        assert!(package_type("", "Haiku", "type").is_err());
    }
}
