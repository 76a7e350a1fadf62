//! Protocol 4: the form post of the bash `pakiti2-client`.

use super::Mode;
use crate::error::ReportError;
use crate::model::{ClientInfo, Kernel, Package, PackageType, Protocol, Report};
use crate::patchman::quoted;
use crate::validate;

/// Parses and validates a protocol 4 form (fields already decoded by the
/// server). Returns the report, the mode from the legacy `report` field and
/// whether the sender claims to be a proxy (`proxy=1`): the caller decides
/// whether that sender may report for another host.
///
/// As PHP's `$_POST` did for Pakiti, a repeated field keeps its last value.
pub fn parse_v4(fields: &[(String, String)]) -> Result<(Report, Mode, bool), ReportError> {
    let get = |name: &str| crate::form::field(fields, name);
    let host = crate::form::host(fields)?;
    let mode_field = get("report").unwrap_or_default();
    let mode = Mode::from_legacy(mode_field).ok_or_else(|| {
        ReportError::invalid(
            "report",
            format!("unknown value `{mode_field}`; expected 0, 1 or 2"),
        )
    })?;
    let proxy = match get("proxy").map(str::trim).unwrap_or_default() {
        "" | "0" | "false" => false,
        "1" | "true" => true,
        other => {
            return Err(ReportError::invalid(
                "proxy",
                format!("unknown value `{other}`; expected 0 or 1"),
            ));
        }
    };
    let system = get("os").map(str::trim).unwrap_or_default();
    let kind = super::package_type(get("type").unwrap_or_default(), system, "type")?;
    let Some(pkgs) = get("pkgs") else {
        return Err(ReportError::invalid("pkgs", "is missing"));
    };
    let mut packages = Vec::new();
    for (i, line) in pkgs.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(p) = package(i + 1, line, kind)? {
            packages.push(p);
        }
    }

    let mut report = Report::new(Protocol::Pakiti4, host);
    let site = get("site").map(str::trim).unwrap_or_default();
    report.site = (!site.is_empty()).then(|| site.to_owned());
    report.tags = get("tag")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .into_iter()
        .collect();
    report.os_string = system.to_owned();
    report.kernel = Kernel {
        release: get("kernel").map(str::trim).unwrap_or_default().to_owned(),
        version: String::new(),
    };
    report.arch = get("arch").map(str::trim).unwrap_or_default().to_owned();
    report.packages = Some(packages);
    report.repositories = None;
    report.client = ClientInfo {
        name: "pakiti2-client".into(),
        version: String::new(),
    };
    validate::report(&mut report)?;
    Ok((report, mode, proxy))
}

/// `'name' 'version' 'release' 'arch'`; rpm splits the version there, dpkg
/// puts everything in `version` and leaves `release` empty.
fn package(n: usize, line: &str, kind: PackageType) -> Result<Option<Package>, ReportError> {
    let at = |problem: String| ReportError::Malformed(format!("pkgs line {n}: {problem}"));
    let fields = quoted::split(line).map_err(at)?;
    let [name, version, release, arch] = fields[..] else {
        return Err(at(format!(
            "{} fields, expected 'name' 'version' 'release' 'arch'",
            fields.len()
        )));
    };
    let (name, version, release) = (name.trim(), version.trim(), release.trim());
    if name.is_empty() {
        return Err(at("package name is empty".into()));
    }
    if version.is_empty() {
        return Err(at(format!("version of package `{name}` is empty")));
    }
    if name == "gpg-pubkey" {
        return Ok(None);
    }
    let full = if release.is_empty() {
        version.to_owned()
    } else {
        format!("{version}-{release}")
    };
    let (epoch, version, release) = Package::split_evr(kind, &full);
    if version.is_empty() {
        return Err(at(format!(
            "version `{full}` of package `{name}` has no version part"
        )));
    }
    let mut p = Package {
        name: name.to_owned(),
        epoch,
        version,
        release,
        arch: arch.trim().to_owned(),
        kind,
        source_name: String::new(),
        source_version: String::new(),
    };
    p.normalise();
    Ok(Some(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn parses_rpm_and_dpkg_forms() {
        let f = form(&[
            ("type", "rpm"),
            ("host", "wn01.example.org"),
            ("os", "CentOS Linux release 7.9.2009 (Core)"),
            ("report", "1"),
            ("proxy", "1"),
            (
                "pkgs",
                "'bash' '0:4.2.46' '34.el7' 'x86_64'\n'openssl' '1:1.0.2k' '26.el7_9' 'x86_64'\n",
            ),
        ]);
        let (r, mode, proxy) = parse_v4(&f).unwrap();
        assert_eq!((mode, proxy), (Mode::StoreAndReport, true));
        let p = r.packages.unwrap();
        assert_eq!(p[0].evr(), "4.2.46-34.el7");
        assert_eq!(p[1].evr(), "1:1.0.2k-26.el7_9");

        let f = form(&[
            ("type", "dpkg"),
            ("host", "h"),
            ("pkgs", "'libc6' '2.36-9+deb12u4' '' 'amd64'"),
        ]);
        let (r, mode, proxy) = parse_v4(&f).unwrap();
        assert_eq!((mode, proxy), (Mode::StoreOnly, false));
        let p = &r.packages.unwrap()[0];
        assert_eq!(
            (p.version.as_str(), p.release.as_str()),
            ("2.36", "9+deb12u4")
        );
    }

    #[test]
    fn errors_name_the_field_and_line() {
        let err = |pairs: &[(&str, &str)]| parse_v4(&form(pairs)).unwrap_err().to_string();
        assert_eq!(err(&[("type", "rpm")]), "host: is missing");
        assert_eq!(
            err(&[
                ("host", "h"),
                ("type", "rpm"),
                ("pkgs", "'a' '1' '2' 'x'\n'b' '1' 'x'")
            ]),
            "pkgs line 2: 3 fields, expected 'name' 'version' 'release' 'arch'"
        );
        assert_eq!(
            err(&[("host", "h"), ("type", "rpm"), ("pkgs", "'a' 1 '2' 'x'")]),
            "pkgs line 1: field 2 at column 5 is not single-quoted: `1`"
        );
        assert_eq!(err(&[("host", "h"), ("type", "rpm")]), "pkgs: is missing");
    }
}
