//! OS strings and os-release fields, normalised to distro + release.
//!
//! The distro is always named by its os-release `ID` (`rhel`, `ol`,
//! `opensuse-leap`, `sles`, `amzn`...), whichever way the host described
//! itself, so a host that moves from a free-form string (Pakiti, Patchman) to
//! os-release fields (native client) keeps the same [`OsRelease`].
//!
//! Decisions, kept identical on both paths:
//! - Ubuntu releases are `YY.MM` (`Ubuntu 22.04.4 LTS` -> `ubuntu 22.04`):
//!   Ubuntu publishes security data per `22.04`, never per point release.
//! - Every other release keeps the point release the host gave (`Debian 12.5`
//!   -> `debian 12.5`, `CentOS Linux release 7.9.2009` -> `centos 7.9.2009`);
//!   [`OsRelease::major`] and [`OsRelease::major_minor`] give the prefixes.
//! - SUSE service packs become a minor version (`SUSE Linux Enterprise Server
//!   15 SP5` -> `sles 15.5`), as SLES's own os-release `VERSION_ID` does.
//! - CentOS Stream is its own distro, `centos-stream`: its os-release says
//!   `ID=centos`, but it is patched like a RHEL preview, not like CentOS Linux.
//!   An os-release `centos` is Stream when its name says so or when the major
//!   release is 9 or later (there was never a CentOS Linux 9).
//! - Rolling distros (Arch, Manjaro, Gentoo, openSUSE Tumbleweed, Kali) have
//!   the release `rolling`; an empty release means "could not tell".
//! - Debian `<codename>/sid` (testing or unstable) is `debian sid`; a bare
//!   codename is mapped to its number (`bookworm` -> `12`).

use crate::model::{OsInfo, OsRelease, PackageType};

/// Release of every rolling distro.
pub const ROLLING: &str = "rolling";

/// Free-form name prefixes (lower case, longest first where one prefixes
/// another) and the os-release ID they stand for.
const NAMES: &[(&str, &str)] = &[
    ("red hat enterprise linux", "rhel"),
    ("rhel", "rhel"),
    ("centos stream", "centos-stream"),
    ("centos linux", "centos"),
    ("centos", "centos"),
    ("rocky linux", "rocky"),
    ("rocky", "rocky"),
    ("almalinux", "almalinux"),
    ("alma linux", "almalinux"),
    ("oracle linux server", "ol"),
    ("oracle linux", "ol"),
    ("scientific linux", "scientific"),
    ("cloudlinux", "cloudlinux"),
    ("eurolinux", "eurolinux"),
    ("fedora linux", "fedora"),
    ("fedora", "fedora"),
    ("amazon linux ami", "amzn"),
    ("amazon linux", "amzn"),
    ("debian gnu/linux", "debian"),
    ("debian", "debian"),
    ("raspbian gnu/linux", "raspbian"),
    ("raspbian", "raspbian"),
    ("ubuntu", "ubuntu"),
    ("linux mint", "linuxmint"),
    ("pop!_os", "pop"),
    ("kali gnu/linux", "kali"),
    ("opensuse leap", "opensuse-leap"),
    ("opensuse tumbleweed", "opensuse-tumbleweed"),
    (
        "suse linux enterprise server for sap applications",
        "sles_sap",
    ),
    ("suse linux enterprise server", "sles"),
    ("suse linux enterprise desktop", "sled"),
    ("sles_sap", "sles_sap"),
    ("sles", "sles"),
    ("sled", "sled"),
    ("alpine linux", "alpine"),
    ("alpine", "alpine"),
    ("arch linux", "arch"),
    ("archlinux", "arch"),
    ("manjaro linux", "manjaro"),
    ("manjaro", "manjaro"),
    ("gentoo", "gentoo"),
];

/// Distros whose release is always [`ROLLING`].
const ROLLING_DISTROS: &[&str] = &["arch", "manjaro", "gentoo", "opensuse-tumbleweed", "kali"];

/// Normalises what a host said about its OS. os-release fields win when the
/// client sent them; otherwise the free-form string (or, failing that, the
/// os-release `PRETTY_NAME`) is parsed. Never fails: a string nobody
/// recognises becomes [`OsRelease::unknown`].
pub fn normalise(info: &OsInfo, raw: &str) -> OsRelease {
    let id = unquote(&info.id).to_ascii_lowercase();
    if !id.is_empty() {
        return from_os_release(&id, info);
    }
    let text = if raw.trim().is_empty() {
        info.pretty_name.as_str()
    } else {
        raw
    };
    from_free_form(text).unwrap_or_else(|| OsRelease::unknown(unquote(text)))
}

/// The package manager a distro uses, for clients that do not say.
pub fn package_type(os: &OsRelease) -> Option<PackageType> {
    let kind = match os.distro.as_str() {
        "debian" | "ubuntu" | "raspbian" | "linuxmint" | "pop" | "kali" => PackageType::Deb,
        "rhel"
        | "centos"
        | "centos-stream"
        | "rocky"
        | "almalinux"
        | "ol"
        | "scientific"
        | "cloudlinux"
        | "eurolinux"
        | "fedora"
        | "amzn"
        | "opensuse-leap"
        | "opensuse-tumbleweed"
        | "sles"
        | "sles_sap"
        | "sled" => PackageType::Rpm,
        "alpine" => PackageType::Apk,
        "arch" | "manjaro" => PackageType::Pacman,
        "gentoo" => PackageType::Gentoo,
        _ => return None,
    };
    Some(kind)
}

fn from_os_release(id: &str, info: &OsInfo) -> OsRelease {
    let version_id = unquote(&info.version_id);
    let pretty = info.pretty_name.to_ascii_lowercase();
    let distro = match id {
        // openSUSE Leap 42 still said `opensuse`.
        "opensuse" => "opensuse-leap",
        "centos" if pretty.contains("stream") || major_at_least(version_id, 9) => "centos-stream",
        other => other,
    };
    let release = if ROLLING_DISTROS.contains(&distro) {
        ROLLING.to_owned()
    } else if distro == "ubuntu" {
        ubuntu_release(version_id)
    } else if distro == "debian" && version_id.is_empty() {
        // Testing and unstable have no VERSION_ID; the codename or the
        // pretty name (`Debian GNU/Linux trixie/sid`) tells them apart.
        if pretty.contains("/sid") {
            "sid".to_owned()
        } else {
            debian_codename(unquote(&info.version_codename)).unwrap_or_default()
        }
    } else {
        version_id.to_owned()
    };
    OsRelease {
        distro: distro.to_owned(),
        release,
    }
}

fn from_free_form(raw: &str) -> Option<OsRelease> {
    let text = strip_annotations(unquote(raw));
    let lower = text.to_ascii_lowercase();
    let (prefix, distro) = NAMES
        .iter()
        .find(|(name, _)| starts_with_word(&lower, name))?;
    let rest = lower.get(prefix.len()..).unwrap_or_default();
    let release = if ROLLING_DISTROS.contains(distro) {
        ROLLING.to_owned()
    } else {
        release_from_words(distro, rest)
    };
    Some(OsRelease {
        distro: (*distro).to_owned(),
        release,
    })
}

/// Finds the release in what follows the distro name: the first word that
/// starts with a digit (`release 9.3`, `v3.19`), plus a SUSE service pack.
fn release_from_words(distro: &str, rest: &str) -> String {
    let mut words = rest.split_whitespace();
    while let Some(word) = words.next() {
        let word = word.strip_prefix('v').unwrap_or(word);
        if word.starts_with(|c: char| c.is_ascii_digit()) {
            let number: String = word
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let number = number.trim_end_matches('.').to_owned();
            return match distro {
                "ubuntu" | "linuxmint" | "pop" => ubuntu_release(&number),
                "sles" | "sles_sap" | "sled" => match words.next().and_then(service_pack) {
                    Some(sp) if !number.contains('.') => format!("{number}.{sp}"),
                    _ => number,
                },
                _ => number,
            };
        }
        if matches!(distro, "debian" | "raspbian") {
            if word.ends_with("/sid") || word == "sid" || word == "unstable" {
                return "sid".to_owned();
            }
            if let Some(number) = debian_codename(word) {
                return number;
            }
        }
    }
    String::new()
}

/// `sp5` -> `5`.
fn service_pack(word: &str) -> Option<&str> {
    let n = word.strip_prefix("sp")?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some(n)
}

fn debian_codename(word: &str) -> Option<String> {
    let word = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    crate::release::debian_release(word).map(str::to_owned)
}

/// Ubuntu's `22.04.4` is `22.04`: security data is per `YY.MM`.
fn ubuntu_release(version: &str) -> String {
    let mut parts = version.split('.');
    match (parts.next(), parts.next()) {
        (Some(year), Some(month)) => format!("{year}.{month}"),
        _ => version.to_owned(),
    }
}

fn major_at_least(version: &str, min: u32) -> bool {
    version
        .split('.')
        .next()
        .and_then(|major| major.parse::<u32>().ok())
        .is_some_and(|major| major >= min)
}

/// Drops a trailing ` [cpe:/o:...]` (Patchman appends the CPE name) and
/// trailing parenthesised codenames (`(Blue Onyx)`), which may contain
/// digits that are not the release.
fn strip_annotations(s: &str) -> &str {
    let mut s = s.trim();
    if let Some(i) = s.find(" [") {
        s = s.get(..i).unwrap_or(s).trim_end();
    }
    if let Some(i) = s.find(" (") {
        s = s.get(..i).unwrap_or(s).trim_end();
    }
    s
}

/// os-release values may keep their shell quotes when a client copies them.
fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .or_else(|| s.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')))
        .unwrap_or(s)
        .trim()
}

/// `haystack` starts with `word` and the next character does not continue
/// the word (`rhel` must not match `rhelix`).
fn starts_with_word(haystack: &str, word: &str) -> bool {
    haystack.starts_with(word)
        && !haystack
            .get(word.len()..)
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(id: &str, version_id: &str, pretty: &str) -> OsRelease {
        let info = OsInfo {
            id: id.into(),
            version_id: version_id.into(),
            pretty_name: pretty.into(),
            ..OsInfo::default()
        };
        normalise(&info, "")
    }

    #[test]
    fn os_release_fields_win() {
        let info = OsInfo {
            id: "debian".into(),
            version_id: "12".into(),
            ..OsInfo::default()
        };
        assert_eq!(normalise(&info, "Ubuntu 22.04").to_string(), "debian 12");
        assert_eq!(os("\"rhel\"", "\"9.4\"", "").to_string(), "rhel 9.4");
        assert_eq!(os("centos", "9", "CentOS Stream 9").distro, "centos-stream");
        assert_eq!(os("centos", "8", "CentOS Linux 8").distro, "centos");
        assert_eq!(os("centos", "9", "").distro, "centos-stream");
        assert_eq!(os("arch", "", "Arch Linux").to_string(), "arch rolling");
        assert_eq!(os("ubuntu", "22.04", "").release, "22.04");
        assert_eq!(
            os("debian", "", "Debian GNU/Linux trixie/sid").release,
            "sid"
        );
    }

    #[test]
    fn unknown_never_fails() {
        assert_eq!(normalise(&OsInfo::default(), "  ").to_string(), "unknown: ");
        assert_eq!(
            normalise(&OsInfo::default(), "Plan 9 from Bell Labs").to_string(),
            "unknown: Plan 9 from Bell Labs"
        );
        assert!(normalise(&OsInfo::default(), "rhelix 3").is_unknown());
    }
}
