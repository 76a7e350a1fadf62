//! Distribution release names: codename <-> os-release `VERSION_ID`, shared
//! by the host side (OS normalisation) and the feed parsers.
//!
//! The tables are copied from `distro-info-data` (`debian.csv`,
//! `ubuntu.csv`, version 0.58+deb12u7); a test checks them against those CSV
//! files so a new release shows up as a failing test, not a silent miss.
//! Releases are what a host reports in `/etc/os-release` `VERSION_ID`:
//! Debian `12` (`6.0` and older kept as `x.y` as Debian numbered them),
//! Ubuntu `22.04` (without `LTS`). Debian unstable is `sid`, experimental is
//! `experimental`.

/// (codename, VERSION_ID) for every Debian release.
pub const DEBIAN: &[(&str, &str)] = &[
    ("buzz", "1.1"),
    ("rex", "1.2"),
    ("bo", "1.3"),
    ("hamm", "2.0"),
    ("slink", "2.1"),
    ("potato", "2.2"),
    ("woody", "3.0"),
    ("sarge", "3.1"),
    ("etch", "4.0"),
    ("lenny", "5.0"),
    ("squeeze", "6.0"),
    ("wheezy", "7"),
    ("jessie", "8"),
    ("stretch", "9"),
    ("buster", "10"),
    ("bullseye", "11"),
    ("bookworm", "12"),
    ("trixie", "13"),
    ("forky", "14"),
    ("duke", "15"),
    ("sid", "sid"),
    ("experimental", "experimental"),
];

/// (codename, VERSION_ID) for every Ubuntu release.
pub const UBUNTU: &[(&str, &str)] = &[
    ("warty", "4.10"),
    ("hoary", "5.04"),
    ("breezy", "5.10"),
    ("dapper", "6.06"),
    ("edgy", "6.10"),
    ("feisty", "7.04"),
    ("gutsy", "7.10"),
    ("hardy", "8.04"),
    ("intrepid", "8.10"),
    ("jaunty", "9.04"),
    ("karmic", "9.10"),
    ("lucid", "10.04"),
    ("maverick", "10.10"),
    ("natty", "11.04"),
    ("oneiric", "11.10"),
    ("precise", "12.04"),
    ("quantal", "12.10"),
    ("raring", "13.04"),
    ("saucy", "13.10"),
    ("trusty", "14.04"),
    ("utopic", "14.10"),
    ("vivid", "15.04"),
    ("wily", "15.10"),
    ("xenial", "16.04"),
    ("yakkety", "16.10"),
    ("zesty", "17.04"),
    ("artful", "17.10"),
    ("bionic", "18.04"),
    ("cosmic", "18.10"),
    ("disco", "19.04"),
    ("eoan", "19.10"),
    ("focal", "20.04"),
    ("groovy", "20.10"),
    ("hirsute", "21.04"),
    ("impish", "21.10"),
    ("jammy", "22.04"),
    ("kinetic", "22.10"),
    ("lunar", "23.04"),
    ("mantic", "23.10"),
    ("noble", "24.04"),
    ("oracular", "24.10"),
    ("plucky", "25.04"),
    ("questing", "25.10"),
    ("resolute", "26.04"),
    ("stonking", "26.10"),
];

fn lookup(table: &'static [(&'static str, &'static str)], codename: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(codename))
        .map(|(_, v)| *v)
}

fn reverse(table: &'static [(&'static str, &'static str)], release: &str) -> Option<&'static str> {
    table.iter().find(|(_, v)| *v == release).map(|(c, _)| *c)
}

/// `bookworm` -> `12`, `sid` -> `sid`.
pub fn debian_release(codename: &str) -> Option<&'static str> {
    lookup(DEBIAN, codename)
}

/// `12` -> `bookworm`; OSV writes old releases as `3.0`, accepted as is.
pub fn debian_codename(release: &str) -> Option<&'static str> {
    reverse(DEBIAN, release)
}

/// `jammy` -> `22.04`.
pub fn ubuntu_release(codename: &str) -> Option<&'static str> {
    lookup(UBUNTU, codename)
}

/// `22.04` -> `jammy`.
pub fn ubuntu_codename(release: &str) -> Option<&'static str> {
    reverse(UBUNTU, release)
}

/// Alpine `distroversion` / OSV ecosystem suffix `v3.19` -> `3.19` (the
/// os-release `VERSION_ID` has three parts, `3.19.1`; the matcher cuts it to
/// two). `edge` stays `edge`.
pub fn alpine_release(v: &str) -> String {
    v.strip_prefix('v').unwrap_or(v).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/debian/support-data"
    );

    /// Every row of distro-info-data's CSV is in our table with the same
    /// version, so the tables cannot drift silently.
    fn check(csv: &str, table: &[(&str, &str)]) -> usize {
        let text = std::fs::read_to_string(format!("{DATA}/{csv}")).unwrap();
        let mut n = 0;
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let version = f[0].trim_end_matches(" LTS");
            let want = if version.is_empty() { f[2] } else { version };
            let got = table.iter().find(|(c, _)| *c == f[2]).map(|(_, v)| *v);
            assert_eq!(got, Some(want), "{csv}: {line}");
            n += 1;
        }
        n
    }

    #[test]
    fn tables_match_distro_info_data() {
        assert_eq!(check("debian.csv", DEBIAN), 22);
        assert_eq!(check("ubuntu.csv", UBUNTU), 45);
        assert_eq!(debian_release("Bookworm"), Some("12"));
        assert_eq!(debian_codename("11"), Some("bullseye"));
        assert_eq!(ubuntu_codename("22.04"), Some("jammy"));
        assert_eq!(alpine_release("v3.19"), "3.19");
    }
}
