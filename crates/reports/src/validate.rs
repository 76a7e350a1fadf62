//! Checks every format's parsed report must pass before it is stored, so
//! every protocol gets the same bounds: each list has a most-entries limit
//! and each string a length limit, and no string may carry a control
//! character (an ESC or BEL in `os.pretty_name` would reach an operator's
//! terminal). The hostname is brought to its one normal form here too.

use crate::error::ReportError;
use crate::hostname;
use crate::model::{Report, Repository};

/// Longest name, version or other short field we keep.
pub const MAX_FIELD: usize = 1024;
/// Longest repository URL.
pub const MAX_URL: usize = 4096;
/// Most host tags (`tags`) one report may carry.
pub const MAX_TAGS: usize = 64;
/// Most repositories one report may list.
pub const MAX_REPOSITORIES: usize = 1024;
/// Most URLs one repository may list.
pub const MAX_REPOSITORY_URLS: usize = 64;
/// Most values in one repository's `suites`, `components` or
/// `architectures`.
pub const MAX_REPOSITORY_VALUES: usize = 64;
/// Most enabled module streams one report may list.
pub const MAX_MODULE_STREAMS: usize = 1024;
/// Most apk world pins one report may list.
pub const MAX_APK_PINS: usize = 10_000;
/// Most apt preferences files one report may carry.
pub const MAX_APT_PREFERENCES: usize = 64;
/// Largest apt preferences file.
pub const MAX_APT_PREFERENCES_BYTES: usize = 64 * 1024;
/// Most bytes of all apt preferences files of one report together.
pub const MAX_APT_PREFERENCES_TOTAL: usize = 512 * 1024;
/// Most client-computed updates (Patchman) one report may list.
pub const MAX_UPDATES: usize = 50_000;
/// Most `reboot.reasons` one report may give.
pub const MAX_REBOOT_REASONS: usize = 64;

/// Normalises the hostname (see [`hostname::normalise`]) and checks every
/// field of the report; the first problem found is the error.
pub fn report(r: &mut Report) -> Result<(), ReportError> {
    r.hostname = hostname::normalise(&r.hostname)?;
    if let Some(site) = &r.site {
        short("site", site)?;
    }
    bounded("tags", r.tags.len(), MAX_TAGS)?;
    for (i, tag) in r.tags.iter().enumerate() {
        short(&format!("tags[{i}]"), tag)?;
    }
    for (field, value) in [
        ("os.id", &r.os.id),
        ("os.version_id", &r.os.version_id),
        ("os.version_codename", &r.os.version_codename),
        ("os.pretty_name", &r.os.pretty_name),
        ("os.id_like", &r.os.id_like),
        ("os", &r.os_string),
        ("kernel.release", &r.kernel.release),
        ("kernel.version", &r.kernel.version),
        ("arch", &r.arch),
        ("client.name", &r.client.name),
        ("client.version", &r.client.version),
    ] {
        short(field, value)?;
    }
    bounded("reboot.reasons", r.reboot.reasons.len(), MAX_REBOOT_REASONS)?;
    for (i, reason) in r.reboot.reasons.iter().enumerate() {
        short(&format!("reboot.reasons[{i}]"), reason)?;
    }
    if let Some(repositories) = &r.repositories {
        bounded("repositories", repositories.len(), MAX_REPOSITORIES)?;
        for (i, repo) in repositories.iter().enumerate() {
            repository(i, repo)?;
        }
    }
    bounded("module_streams", r.module_streams.len(), MAX_MODULE_STREAMS)?;
    for (i, m) in r.module_streams.iter().enumerate() {
        for (field, value) in [("name", &m.name), ("stream", &m.stream)] {
            let problem = required_problem(value).or_else(|| {
                value
                    .contains([':', ' '])
                    .then(|| "contains ':' or a space".to_owned())
            });
            if let Some(problem) = problem {
                return Err(ReportError::invalid(
                    format!("module_streams[{i}].{field}"),
                    problem,
                ));
            }
        }
    }
    bounded("apk_pins", r.apk_pins.len(), MAX_APK_PINS)?;
    for (i, pin) in r.apk_pins.iter().enumerate() {
        for (field, value) in [("name", &pin.name), ("tag", &pin.tag)] {
            if let Some(problem) = required_problem(value) {
                return Err(ReportError::invalid(
                    format!("apk_pins[{i}].{field}"),
                    problem,
                ));
            }
        }
    }
    apt_preferences(r)?;
    bounded("updates", r.updates.len(), MAX_UPDATES)?;
    for (i, update) in r.updates.iter().enumerate() {
        for (field, value) in [
            ("name", &update.name),
            ("version", &update.version),
            ("arch", &update.arch),
            ("repo", &update.repo),
        ] {
            if let Some(problem) = short_problem(value) {
                return Err(ReportError::invalid(
                    format!("updates[{i}].{field}"),
                    problem,
                ));
            }
        }
    }
    if let Some(packages) = &r.packages {
        for (i, p) in packages.iter().enumerate() {
            // The field name is only formatted when there is something to
            // say: this loop runs for every package of every report.
            let at = |field: &str| format!("packages[{i}].{field}");
            if let Some(problem) = required_problem(&p.name) {
                return Err(ReportError::invalid(at("name"), problem));
            }
            if let Some(problem) = required_problem(&p.version) {
                return Err(ReportError::invalid(at("version"), problem));
            }
            for (field, value) in [
                ("epoch", &p.epoch),
                ("release", &p.release),
                ("arch", &p.arch),
                ("source_name", &p.source_name),
                ("source_version", &p.source_version),
            ] {
                if let Some(problem) = short_problem(value) {
                    return Err(ReportError::invalid(at(field), problem));
                }
            }
        }
    }
    Ok(())
}

fn repository(i: usize, repo: &Repository) -> Result<(), ReportError> {
    for (field, value) in [("name", &repo.name), ("id", &repo.id), ("tag", &repo.tag)] {
        short(&format!("repositories[{i}].{field}"), value)?;
    }
    for (field, value) in [
        ("mirrorlist", &repo.mirrorlist),
        ("metalink", &repo.metalink),
    ] {
        if let Some(problem) = problem(value, MAX_URL) {
            return Err(ReportError::invalid(
                format!("repositories[{i}].{field}"),
                problem,
            ));
        }
    }
    let urls = format!("repositories[{i}].urls");
    bounded(&urls, repo.urls.len(), MAX_REPOSITORY_URLS)?;
    for (j, url) in repo.urls.iter().enumerate() {
        if let Some(problem) = problem(url, MAX_URL) {
            return Err(ReportError::invalid(format!("{urls}[{j}]"), problem));
        }
    }
    for (field, values) in [
        ("suites", &repo.suites),
        ("components", &repo.components),
        ("architectures", &repo.architectures),
    ] {
        let at = format!("repositories[{i}].{field}");
        bounded(&at, values.len(), MAX_REPOSITORY_VALUES)?;
        for (j, value) in values.iter().enumerate() {
            if let Some(problem) = required_problem(value) {
                return Err(ReportError::invalid(format!("{at}[{j}]"), problem));
            }
        }
    }
    Ok(())
}

/// Bounded in number, size and total size; the content may hold newlines
/// and tabs (it is a file), no other control character.
fn apt_preferences(r: &Report) -> Result<(), ReportError> {
    bounded(
        "apt_preferences",
        r.apt_preferences.len(),
        MAX_APT_PREFERENCES,
    )?;
    let mut total = 0;
    for (i, p) in r.apt_preferences.iter().enumerate() {
        if let Some(problem) = required_problem(&p.file) {
            return Err(ReportError::invalid(
                format!("apt_preferences[{i}].file"),
                problem,
            ));
        }
        let content = &p.content;
        let problem = if content.len() > MAX_APT_PREFERENCES_BYTES {
            Some(format!(
                "is {} bytes long; at most {MAX_APT_PREFERENCES_BYTES} allowed",
                content.len()
            ))
        } else {
            content
                .chars()
                .find(|&c| c.is_control() && c != '\n' && c != '\t')
                .map(|c| format!("contains a control character (U+{:04X})", u32::from(c)))
        };
        if let Some(problem) = problem {
            return Err(ReportError::invalid(
                format!("apt_preferences[{i}].content"),
                problem,
            ));
        }
        total += content.len();
        if total > MAX_APT_PREFERENCES_TOTAL {
            return Err(ReportError::invalid(
                "apt_preferences",
                format!("holds more than {MAX_APT_PREFERENCES_TOTAL} bytes of content"),
            ));
        }
    }
    Ok(())
}

fn bounded(field: &str, count: usize, limit: usize) -> Result<(), ReportError> {
    if count > limit {
        return Err(ReportError::invalid(
            field,
            format!("has {count} entries; at most {limit} allowed"),
        ));
    }
    Ok(())
}

fn short(field: &str, value: &str) -> Result<(), ReportError> {
    match short_problem(value) {
        Some(problem) => Err(ReportError::invalid(field, problem)),
        None => Ok(()),
    }
}

fn required_problem(value: &str) -> Option<String> {
    if value.trim().is_empty() {
        return Some("is empty".into());
    }
    short_problem(value)
}

fn short_problem(value: &str) -> Option<String> {
    problem(value, MAX_FIELD)
}

fn problem(value: &str, limit: usize) -> Option<String> {
    if value.len() > limit {
        return Some(format!(
            "is {} bytes long; at most {limit} allowed",
            value.len()
        ));
    }
    // Control characters are ASCII or in the C1 block: a byte scan finds
    // the candidates without decoding UTF-8 for the common clean case.
    // A fold rather than `any`: without the early exit the compiler
    // vectorises it, and almost every value is clean.
    let suspicious = value.bytes().fold(false, |seen, b| {
        seen | (b < 0x20) | (b == 0x7f) | (b == 0xc2)
    });
    if suspicious && let Some(c) = value.chars().find(|c| c.is_control()) {
        return Some(format!(
            "contains a control character (U+{:04X})",
            u32::from(c)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ModuleStream, Protocol};

    fn base() -> Report {
        Report::new(Protocol::Native, "web1.example.org")
    }

    fn refused(r: &mut Report) -> String {
        report(r).unwrap_err().to_string()
    }

    #[test]
    fn every_list_is_bounded() {
        let mut r = base();
        r.tags = vec!["t".into(); MAX_TAGS + 1];
        assert_eq!(refused(&mut r), "tags: has 65 entries; at most 64 allowed");
        let mut r = base();
        r.reboot.reasons = vec!["kernel".into(); MAX_REBOOT_REASONS + 1];
        assert!(refused(&mut r).starts_with("reboot.reasons: has 65 entries"));
        let mut r = base();
        let repo = Repository {
            name: "main".into(),
            urls: vec!["http://deb.debian.org/debian".into(); MAX_REPOSITORY_URLS + 1],
            ..Repository::new(crate::PackageType::Deb)
        };
        r.repositories = Some(vec![repo.clone()]);
        assert!(refused(&mut r).starts_with("repositories[0].urls: has 65 entries"));
        r.repositories = Some(vec![
            Repository {
                urls: Vec::new(),
                ..repo
            };
            MAX_REPOSITORIES + 1
        ]);
        assert!(refused(&mut r).starts_with("repositories: has 1025 entries"));
        let mut r = base();
        r.repositories = Some(vec![Repository {
            suites: vec!["bookworm".into(); MAX_REPOSITORY_VALUES + 1],
            ..Repository::new(crate::PackageType::Deb)
        }]);
        assert_eq!(
            refused(&mut r),
            "repositories[0].suites: has 65 entries; at most 64 allowed"
        );
        let mut r = base();
        let stream = ModuleStream {
            name: "nodejs".into(),
            stream: "18".into(),
        };
        r.module_streams = vec![stream.clone(); MAX_MODULE_STREAMS + 1];
        assert!(refused(&mut r).starts_with("module_streams: has 1025 entries"));
    }

    #[test]
    fn repository_and_module_members_are_checked() {
        let mut r = base();
        r.repositories = Some(vec![Repository {
            components: vec!["main".into(), " ".into()],
            ..Repository::new(crate::PackageType::Deb)
        }]);
        assert_eq!(refused(&mut r), "repositories[0].components[1]: is empty");
        let mut r = base();
        r.repositories = Some(vec![Repository {
            metalink: "https://mirrors.example/metalink?repo=x\n".into(),
            ..Repository::new(crate::PackageType::Rpm)
        }]);
        assert!(
            refused(&mut r).starts_with("repositories[0].metalink: contains a control character"),
        );
        let mut r = base();
        r.repositories = Some(vec![Repository {
            tag: "x".repeat(MAX_FIELD + 1),
            ..Repository::new(crate::PackageType::Apk)
        }]);
        assert!(refused(&mut r).starts_with("repositories[0].tag: is 1025 bytes"));
        let mut r = base();
        r.module_streams = vec![ModuleStream {
            name: "nodejs".into(),
            stream: "18:x".into(),
        }];
        assert_eq!(
            refused(&mut r),
            "module_streams[0].stream: contains ':' or a space"
        );
        r.module_streams[0].stream = "18".into();
        assert_eq!(report(&mut r), Ok(()));
        r.apk_pins = vec![crate::model::ApkPin {
            name: "nodejs".into(),
            tag: "".into(),
        }];
        assert_eq!(refused(&mut r), "apk_pins[0].tag: is empty");
    }

    #[test]
    fn apt_preferences_are_bounded_and_keep_only_newlines_and_tabs() {
        let file = |content: &str| crate::model::AptPreferences {
            file: "/etc/apt/preferences.d/updates".into(),
            content: content.into(),
        };
        let mut r = base();
        r.apt_preferences = vec![file("Package: *\nPin: release a=x\n\tPin-Priority: 100\n")];
        assert_eq!(report(&mut r), Ok(()));
        r.apt_preferences = vec![file("Package: *\r\n")];
        assert_eq!(
            refused(&mut r),
            "apt_preferences[0].content: contains a control character (U+000D)"
        );
        r.apt_preferences = vec![file(&"x".repeat(MAX_APT_PREFERENCES_BYTES + 1))];
        assert!(refused(&mut r).starts_with("apt_preferences[0].content: is 65537 bytes"));
        r.apt_preferences = vec![file(&"x".repeat(MAX_APT_PREFERENCES_BYTES)); 9];
        assert!(refused(&mut r).starts_with("apt_preferences: holds more than 524288"));
        r.apt_preferences = vec![file(""); MAX_APT_PREFERENCES + 1];
        assert!(refused(&mut r).starts_with("apt_preferences: has 65 entries"));
        r.apt_preferences = vec![file("")];
        r.apt_preferences[0].file = "a\u{1b}b".into();
        assert_eq!(
            refused(&mut r),
            "apt_preferences[0].file: contains a control character (U+001B)"
        );
    }

    #[test]
    fn every_string_is_bounded_and_free_of_control_characters() {
        let long = "x".repeat(MAX_FIELD + 1);
        let mut r = base();
        r.os.pretty_name = long.clone();
        assert_eq!(
            refused(&mut r),
            "os.pretty_name: is 1025 bytes long; at most 1024 allowed"
        );
        for (field, set) in [
            (
                "os.pretty_name",
                (|r, v| r.os.pretty_name = v) as fn(&mut Report, String),
            ),
            ("kernel.version", |r, v| r.kernel.version = v),
            ("client.name", |r, v| r.client.name = v),
            ("os", |r, v| r.os_string = v),
            ("reboot.reasons[0]", |r, v| r.reboot.reasons = vec![v]),
        ] {
            for evil in ["Debian\u{1b}]0;owned\u{7}", "a\u{9b}31m", "line\nbreak"] {
                let mut r = base();
                set(&mut r, evil.to_owned());
                let message = refused(&mut r);
                assert!(
                    message.starts_with(&format!("{field}: contains a control character (U+")),
                    "{field} {evil:?}: {message}"
                );
            }
        }
    }
}
