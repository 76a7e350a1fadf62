//! Hostnames in their one normal form. Hosts are keyed on (site, hostname),
//! so `Web1.Example.org.` and `web1.example.org` must be the same host, and
//! a name that only looks like another (a Cyrillic `е`, a zero-width space,
//! a right-to-left override) must never be accepted as a second host that
//! an operator cannot tell apart from the first.

use crate::error::ReportError;

/// Longest hostname DNS allows.
pub const MAX_HOSTNAME: usize = 253;
/// Longest DNS label.
pub const MAX_LABEL: usize = 63;

/// The normal form of a hostname as a host reports it: ASCII lower case,
/// without the root's trailing dot. Refused: an empty name or label, a name
/// over 253 bytes or a label over 63, and any character other than ASCII
/// letters, digits, `-`, `_` and `.` (internationalised names travel in
/// their `xn--` form, so no DNS name needs anything else).
pub fn normalise(raw: &str) -> Result<String, ReportError> {
    let invalid = |problem: String| ReportError::invalid("hostname", problem);
    if raw.is_empty() {
        return Err(invalid("is empty".into()));
    }
    if raw.len() > MAX_HOSTNAME + 1 {
        return Err(invalid(format!(
            "is {} bytes long; at most {MAX_HOSTNAME} allowed",
            raw.len()
        )));
    }
    if let Some(c) = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(invalid(if c.is_ascii_graphic() || c == ' ' {
            format!("contains the character {c:?}")
        } else {
            format!(
                "contains the character U+{:04X}, which no DNS name contains \
                 (internationalised names are sent in their xn-- form)",
                u32::from(c)
            )
        }));
    }
    let name = raw.strip_suffix('.').unwrap_or(raw);
    if name.len() > MAX_HOSTNAME {
        return Err(invalid(format!(
            "is {} bytes long; at most {MAX_HOSTNAME} allowed",
            name.len()
        )));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(invalid(format!("{raw:?} has an empty label")));
        }
        if label.len() > MAX_LABEL {
            return Err(invalid(format!(
                "label {label:?} is {} bytes long; at most {MAX_LABEL} allowed",
                label.len()
            )));
        }
    }
    Ok(name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_the_trailing_dot_do_not_make_another_host() {
        for raw in ["web1.example.org", "Web1.Example.ORG", "web1.example.org."] {
            assert_eq!(normalise(raw).unwrap(), "web1.example.org", "{raw}");
        }
        assert_eq!(
            normalise("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(normalise("1").unwrap(), "1");
        assert_eq!(normalise("_dmarc.x").unwrap(), "_dmarc.x");
    }

    #[test]
    fn look_alikes_and_invisible_characters_are_refused() {
        for (raw, code) in [
            ("web1.ex\u{0430}mple.org", "U+0430"),  // Cyrillic a
            ("web1\u{200b}.example.org", "U+200B"), // zero-width space
            ("web1.\u{202e}gro.elpmaxe", "U+202E"), // right-to-left override
            ("web1.example.org\u{1b}[2J", "U+001B"),
            ("wеb1", "U+0435"),
        ] {
            let e = normalise(raw).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("hostname: contains the character {code}")),
                "{raw:?}: {e}"
            );
        }
        assert_eq!(
            normalise("a b").unwrap_err().to_string(),
            "hostname: contains the character ' '"
        );
        for raw in ["", ".", "a..b", ".a", "a.."] {
            assert!(normalise(raw).is_err(), "{raw:?}");
        }
        assert!(
            normalise(&"a".repeat(64))
                .unwrap_err()
                .to_string()
                .contains("at most 63")
        );
        let long = vec!["a".repeat(63); 4].join(".");
        assert!(
            normalise(&long)
                .unwrap_err()
                .to_string()
                .contains("at most 253")
        );
    }
}
