//! `/etc/apt/preferences` (and `preferences.d/*`) into [`Pin`]s, as apt's
//! `ReadPinFile` reads them: stanzas of `Package`, `Pin`, `Pin-Priority`
//! (`Explanation` and `#` comment lines ignored); a stanza without a
//! priority, or with priority 0, is skipped as apt skips it.

use super::policy::{Pin, PinTarget, ReleaseMatch};
use crate::error::RepoError;

/// Parses a preferences file; `file` names it in errors. Pins keep their
/// file order (the first matching pin wins).
pub fn parse_preferences(file: &str, text: &str) -> Result<Vec<Pin>, RepoError> {
    let mut pins = Vec::new();
    let mut stanza: Vec<(usize, &str, String)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim_start().starts_with('#') {
            continue;
        }
        if line.trim().is_empty() {
            if let Some(pin) = stanza_pin(file, &stanza)? {
                pins.push(pin);
            }
            stanza.clear();
            continue;
        }
        if line.starts_with([' ', '\t']) {
            // Continuation of the previous field (a long Explanation).
            if let Some(last) = stanza.last_mut() {
                last.2.push(' ');
                last.2.push_str(line.trim());
            }
            continue;
        }
        let Some((field, value)) = line.split_once(':') else {
            return Err(at(
                file,
                n + 1,
                format!("not a `Field: value` line: {line:?}"),
            ));
        };
        stanza.push((n + 1, field.trim(), value.trim().to_owned()));
    }
    if let Some(pin) = stanza_pin(file, &stanza)? {
        pins.push(pin);
    }
    Ok(pins)
}

fn at(file: &str, line: usize, message: String) -> RepoError {
    RepoError::malformed(file, format!("line {line}: {message}"))
}

fn stanza_pin(file: &str, stanza: &[(usize, &str, String)]) -> Result<Option<Pin>, RepoError> {
    let Some(&(first_line, _, _)) = stanza.first() else {
        return Ok(None);
    };
    let field = |name: &str| {
        stanza
            .iter()
            .find(|(_, f, _)| f.eq_ignore_ascii_case(name))
            .map(|(n, _, v)| (*n, v.as_str()))
    };
    let Some((_, package)) = field("Package") else {
        return Err(at(file, first_line, "pin without a Package field".into()));
    };
    let Some((pin_line, pin)) = field("Pin") else {
        return Ok(None);
    };
    let priority = match field("Pin-Priority") {
        None => return Ok(None),
        Some((n, p)) => p
            .parse::<i32>()
            .map_err(|_| at(file, n, format!("Pin-Priority {p:?} is not a number")))?,
    };
    if priority == 0 {
        return Ok(None);
    }
    let packages: Vec<String> = if package == "*" {
        Vec::new()
    } else {
        package.split_whitespace().map(str::to_owned).collect()
    };
    if let Some(p) = packages
        .iter()
        .find(|p| p.starts_with('/') || p.starts_with("src:"))
    {
        return Err(at(
            file,
            first_line,
            format!("Package {p:?}: regular expressions and src: pins are not supported"),
        ));
    }
    let (kind, data) = pin.split_once(char::is_whitespace).unwrap_or((pin, ""));
    let data = data.trim();
    let target = match kind.to_ascii_lowercase().as_str() {
        "version" if !packages.is_empty() => PinTarget::Version(data.to_owned()),
        "version" => {
            return Err(at(
                file,
                pin_line,
                "`Pin: version` needs package names".into(),
            ));
        }
        "release" => PinTarget::Release(release_match(file, pin_line, data)?),
        "origin" => {
            return Err(at(
                file,
                pin_line,
                "`Pin: origin` (the repository's host) is not supported".into(),
            ));
        }
        other => {
            return Err(at(file, pin_line, format!("unknown pin type {other:?}")));
        }
    };
    Ok(Some(Pin {
        packages,
        target,
        priority,
    }))
}

/// `a=bookworm-security, o=Debian` or apt's short forms: a bare word
/// starting with a digit is a version, any other bare word an archive or
/// codename.
fn release_match(file: &str, line: usize, data: &str) -> Result<ReleaseMatch, RepoError> {
    let mut m = ReleaseMatch::default();
    if !data.contains('=') {
        if data.starts_with(|c: char| c.is_ascii_digit()) {
            m.version = Some(data.to_owned());
        } else if !data.is_empty() {
            m.archive_or_codename = Some(data.to_owned());
        }
        return Ok(m);
    }
    for part in data.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            return Err(at(
                file,
                line,
                format!("release term {part:?} is not key=value"),
            ));
        };
        let value = Some(value.trim().to_owned());
        match key.trim() {
            "a" => m.archive = value,
            "n" => m.codename = value,
            "o" => m.origin = value,
            "l" => m.label = value,
            "v" => m.version = value,
            "c" => m.component = value,
            // The architecture: a snapshot holds one, always the host's.
            "b" => {}
            other => {
                return Err(at(file, line, format!("unknown release key {other:?}")));
            }
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apt_preferences_become_pins() {
        let text = "# backports on request\nExplanation: keep it\nPackage: *\nPin: release a=stable-backports, o=Debian\nPin-Priority: 100\n\n\
                    Package: nginx nginx-*\nPin: version 1.22*\nPin-Priority: 1001\n\n\
                    Package: foo\nPin: release bookworm\nPin-Priority: 0\n\n\
                    Package: bar\nPin: release 12\nPin-Priority: -1\n";
        let pins = parse_preferences("preferences", text).unwrap();
        assert_eq!(pins.len(), 3, "{pins:?}");
        assert!(pins[0].packages.is_empty());
        assert_eq!(
            pins[0].target,
            PinTarget::Release(ReleaseMatch {
                archive: Some("stable-backports".into()),
                origin: Some("Debian".into()),
                ..ReleaseMatch::default()
            })
        );
        assert_eq!(pins[1].packages, ["nginx", "nginx-*"]);
        assert_eq!(pins[1].target, PinTarget::Version("1.22*".into()));
        assert_eq!(pins[1].priority, 1001);
        assert_eq!(
            pins[2].target,
            PinTarget::Release(ReleaseMatch {
                version: Some("12".into()),
                ..ReleaseMatch::default()
            })
        );
    }

    #[test]
    fn unsupported_pins_are_named() {
        let err = parse_preferences(
            "p",
            "Package: *\nPin: origin example.org\nPin-Priority: 1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 2") && err.contains("origin"), "{err}");
        let err = parse_preferences("p", "Pin: release a=x\nPin-Priority: 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("without a Package"), "{err}");
    }
}
