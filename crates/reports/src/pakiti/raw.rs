//! Protocol 5: the raw text body of `pakiti-client` 3.x.
//!
//! ```text
//! #
//! host: node1.example.org
//! packager: dpkg
//! #
//! libc6<TAB>2.36-9+deb12u4<TAB>amd64
//! #
//! ```

use crate::error::ReportError;
use crate::model::{ClientInfo, Kernel, Package, PackageType, Protocol, Report};
use crate::validate;

/// Header values Patchwatch keeps; unknown keys (`cpu`, `ts`, `ip`...) are
/// read and dropped.
#[derive(Default)]
struct Header<'a> {
    host: Option<&'a str>,
    arch: &'a str,
    kernel: &'a str,
    packager: Option<(usize, &'a str)>,
    site: &'a str,
    system: &'a str,
    tags: Vec<&'a str>,
}

/// Parses and validates a protocol 5 body (already decrypted). Errors name
/// the line: `line 12: package line has 2 fields, expected name, version,
/// arch`.
pub fn parse_v5(body: &[u8]) -> Result<Report, ReportError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        let valid = body.get(..e.valid_up_to()).unwrap_or_default();
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        ReportError::Malformed(format!("line {line}: not valid UTF-8"))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));

    match lines.by_ref().find(|(_, l)| !l.trim().is_empty()) {
        Some((_, l)) if l.trim() == "#" => {}
        Some((n, other)) => {
            return Err(ReportError::Malformed(format!(
                "line {n}: expected `#` to open the header, found `{}`",
                excerpt(other.trim())
            )));
        }
        None => return Err(ReportError::Malformed("the report is empty".into())),
    }

    let mut header = Header::default();
    let mut closed = false;
    let mut last = 1;
    for (n, line) in lines.by_ref() {
        let line = line.trim();
        last = n;
        if line == "#" {
            closed = true;
            break;
        }
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(ReportError::Malformed(format!(
                "line {n}: header line `{}` has no `:`, expected `key: value`",
                excerpt(line)
            )));
        };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "host" => header.host = Some(value),
            "arch" => header.arch = value,
            "kernel" => header.kernel = value,
            "packager" => header.packager = Some((n, value)),
            "site" => header.site = value,
            "system" => header.system = value,
            "tag" if !value.is_empty() => header.tags.push(value),
            _ => {}
        }
    }
    if !closed {
        return Err(ReportError::Malformed(format!(
            "line {last}: the header is not closed by a `#` line (truncated report?)"
        )));
    }

    let host = match header.host {
        Some(h) if !h.is_empty() => h,
        Some(_) => return Err(ReportError::Malformed("header: `host` is empty".into())),
        None => return Err(ReportError::Malformed("header: `host` is missing".into())),
    };
    let kind = match header.packager {
        Some((n, p)) => super::package_type(p, header.system, &format!("line {n}: packager"))?,
        None => super::package_type("", header.system, "header")?,
    };

    let mut packages = Vec::new();
    let mut ended = false;
    for (n, raw) in lines {
        let line = raw.trim();
        if ended {
            if !line.is_empty() {
                return Err(ReportError::Malformed(format!(
                    "line {n}: unexpected text `{}` after the closing `#`",
                    excerpt(line)
                )));
            }
            continue;
        }
        // svmon bodies wrap extra data in `{`, `[...]`, `}` lines.
        if line.is_empty() || line.starts_with(['{', '}', '[']) {
            continue;
        }
        if line == "#" {
            ended = true;
            continue;
        }
        // Leading tabs matter: they mean an empty name.
        if let Some(p) = package(n, raw.trim_matches(' '), kind)? {
            packages.push(p);
        }
    }

    let mut report = Report::new(Protocol::Pakiti5, host);
    report.site = (!header.site.is_empty()).then(|| header.site.to_owned());
    report.tags = header.tags.into_iter().map(str::to_owned).collect();
    report.os_string = header.system.to_owned();
    report.kernel = Kernel {
        release: header.kernel.to_owned(),
        version: String::new(),
    };
    report.arch = header.arch.to_owned();
    report.packages = Some(packages);
    report.repositories = None;
    report.client = ClientInfo {
        name: "pakiti-client".into(),
        version: String::new(),
    };
    validate::report(&mut report)?;
    Ok(report)
}

/// One `name<TAB>version<TAB>arch` line (single spaces accepted instead of
/// tabs). `None` for lines that are not packages of the host (`gpg-pubkey`).
fn package(n: usize, line: &str, kind: PackageType) -> Result<Option<Package>, ReportError> {
    let mut fields = [""; 3];
    let mut count = 0;
    let parts: &mut dyn Iterator<Item = &str> = if line.contains('\t') {
        &mut line.split('\t').map(str::trim)
    } else {
        &mut line.split(' ').filter(|f| !f.is_empty())
    };
    for field in parts {
        if let Some(slot) = fields.get_mut(count) {
            *slot = field;
        }
        count += 1;
    }
    if count != 3 {
        return Err(ReportError::Malformed(format!(
            "line {n}: package line has {count} field{}, expected name, version, arch",
            if count == 1 { "" } else { "s" }
        )));
    }
    let [name, full_version, arch] = fields;
    if name.is_empty() {
        return Err(ReportError::Malformed(format!(
            "line {n}: package name is empty"
        )));
    }
    if full_version.is_empty() {
        return Err(ReportError::Malformed(format!(
            "line {n}: version of package `{name}` is empty"
        )));
    }
    if name == "gpg-pubkey" {
        return Ok(None);
    }
    let (epoch, version, release) = Package::split_evr(kind, full_version);
    if version.is_empty() {
        return Err(ReportError::Malformed(format!(
            "line {n}: version `{full_version}` of package `{name}` has no version part"
        )));
    }
    let mut p = Package {
        name: name.to_owned(),
        epoch,
        version,
        release,
        arch: arch.to_owned(),
        kind,
        source_name: String::new(),
        source_version: String::new(),
    };
    p.normalise();
    Ok(Some(p))
}

/// A line shortened for an error message: clients may send megabytes on one
/// line, and the message goes back to them.
pub(super) fn excerpt(line: &str) -> String {
    const MAX: usize = 60;
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", line.get(..cut).unwrap_or_default()),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DPKG: &str = "#\narch: x86_64\ncpu: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz\n\
        host: node1.example.org\nkernel: 6.1.0-18-amd64\npackager: dpkg\nsite: MYSITE\n\
        system: Debian GNU/Linux 12\ntag: prod\nversion: 1\n#\nadduser\t3.134\tall\n\
        bind9-libs\t1:9.18.24-1\tamd64\nlibc6 2.36-9+deb12u4 amd64\n\
        linux-image-6.1.0-18-amd64\t6.1.76-1\tamd64\n#\n";

    #[test]
    fn parses_the_documented_dpkg_example() {
        let r = parse_v5(DPKG.as_bytes()).unwrap();
        assert_eq!(r.hostname, "node1.example.org");
        assert_eq!(r.site.as_deref(), Some("MYSITE"));
        assert_eq!(r.tags, ["prod"]);
        assert_eq!(r.os_string, "Debian GNU/Linux 12");
        assert_eq!(r.kernel.release, "6.1.0-18-amd64");
        assert_eq!(r.arch, "x86_64");
        assert_eq!(r.repositories, None);
        let p = r.packages.unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(
            (p[1].epoch.as_str(), p[1].version.as_str()),
            ("1", "9.18.24")
        );
        assert_eq!(p[2].evr(), "2.36-9+deb12u4");
        assert!(p.iter().all(|p| p.kind == PackageType::Deb));
    }

    #[test]
    fn rpm_zero_epoch_is_dropped_and_final_hash_is_optional() {
        let body = "#\nhost: wn01\npackager: rpm\n#\nbash\t0:5.1.8-6.el9_1\tx86_64\n\
            openssl\t1:3.0.7-25.el9_3\tx86_64\ngpg-pubkey\t0:fd431d51-4ae0493b\t(none)\n";
        let p = parse_v5(body.as_bytes()).unwrap().packages.unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].evr(), "5.1.8-6.el9_1");
        assert_eq!(p[1].evr(), "1:3.0.7-25.el9_3");
    }

    #[test]
    fn svmon_lines_are_ignored() {
        let body = "#\nhost: h\npackager: svmon\nsystem: CentOS Linux release 7.9.2009 (Core)\n\
            #\n{\n[service data]\nbash\t0:4.2.46-34.el7\tx86_64\n}\n#\n";
        let p = parse_v5(body.as_bytes()).unwrap().packages.unwrap();
        assert_eq!((p.len(), p[0].kind), (1, PackageType::Rpm));
        // No packager at all: the OS string decides too.
        let body = "#\nhost: h\nsystem: Ubuntu 22.04\n#\nbash 5.1-6ubuntu1 amd64\n";
        let p = parse_v5(body.as_bytes()).unwrap().packages.unwrap();
        assert_eq!(p[0].kind, PackageType::Deb);
    }

    #[test]
    fn errors_name_the_line() {
        let err = |b: &str| parse_v5(b.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            err("#\nhost: h\npackager: dpkg\n#\nbash\t5.2\n"),
            "line 5: package line has 2 fields, expected name, version, arch"
        );
        assert_eq!(err("#\npackager: dpkg\n#\n"), "header: `host` is missing");
        assert_eq!(
            err("#\nhost: h\npackager: dpkg\n"),
            "line 3: the header is not closed by a `#` line (truncated report?)"
        );
        assert_eq!(
            err("#\nhost: h\n\u{1}\n#\n").split(':').next(),
            Some("line 3")
        );
        assert_eq!(
            parse_v5(b"#\nhost: h\npackager: dpkg\n#\na\t1\t\xff\n")
                .unwrap_err()
                .to_string(),
            "line 5: not valid UTF-8"
        );
        assert_eq!(
            err("#\nhost: h\npackager: dpkg\n#\n\t1.0\tall\n"),
            "line 5: package name is empty"
        );
    }
}
