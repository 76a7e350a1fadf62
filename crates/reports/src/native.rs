//! Patchwatch's own report: JSON, `format_version` 1, documented in
//! `docs/report-format.md` with the schema in `docs/report.schema.json`.

use serde::Deserialize;

use crate::error::ReportError;
use crate::model::{
    ApkPin, AptPreferences, ClientInfo, Kernel, ModuleStream, OsInfo, Package, Protocol,
    RebootHint, Report, Repository,
};
use crate::validate;

pub const FORMAT_VERSION: u64 = 1;

#[derive(Deserialize)]
struct Wire {
    // Checked by the peek in `parse`; required here so a report without it
    // is refused.
    #[serde(rename = "format_version")]
    _format_version: u64,
    hostname: String,
    #[serde(default)]
    site: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    os: OsInfo,
    #[serde(default)]
    kernel: Kernel,
    #[serde(default)]
    arch: String,
    packages: Vec<Package>,
    #[serde(default)]
    repositories: Vec<Repository>,
    #[serde(default)]
    module_streams: Vec<ModuleStream>,
    #[serde(default)]
    apk_pins: Vec<ApkPin>,
    #[serde(default)]
    apt_preferences: Vec<AptPreferences>,
    #[serde(default)]
    reboot: RebootHint,
    #[serde(default)]
    client: ClientInfo,
}

/// Parses and validates a native report body.
pub fn parse(body: &[u8]) -> Result<Report, ReportError> {
    // The fast parser first; only a failing report pays for the passes
    // that say precisely what is wrong with it.
    // One UTF-8 check for the whole body is much cheaper than serde_json's
    // check of every string.
    let text = std::str::from_utf8(body).map_err(|e| {
        ReportError::Malformed(format!(
            "the report is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })?;
    let wire: Wire = match serde_json::from_str(text) {
        Ok(wire) => wire,
        Err(_) => return Err(version_error(body).unwrap_or_else(|| locate_error(body))),
    };
    if wire._format_version != FORMAT_VERSION {
        return Err(ReportError::UnsupportedVersion(wire._format_version));
    }
    let mut report = Report {
        protocol: Protocol::Native,
        hostname: wire.hostname,
        site: wire.site.filter(|s| !s.is_empty()),
        tags: wire.tags,
        os_string: String::new(),
        os: wire.os,
        kernel: wire.kernel,
        arch: wire.arch,
        packages: Some(wire.packages),
        repositories: Some(wire.repositories),
        module_streams: wire.module_streams,
        apk_pins: wire.apk_pins,
        apt_preferences: wire.apt_preferences,
        updates: Vec::new(),
        reboot: wire.reboot,
        client: wire.client,
    };
    // The fields as sent are checked against the documented limits
    // (docs/report.schema.json) before they are normalised: a padded or
    // zero epoch past the limit is refused, not shortened into one.
    validate::report(&mut report)?;
    for p in report.packages.iter_mut().flatten() {
        p.normalise();
    }
    Ok(report)
}

/// A report of another format version gets a precise error rather than a
/// confusing complaint about a field that version renamed.
fn version_error(body: &[u8]) -> Option<ReportError> {
    #[derive(Deserialize)]
    struct Version {
        format_version: Option<serde_json::Value>,
    }
    let v = serde_json::from_slice::<Version>(body)
        .ok()?
        .format_version?;
    match v.as_u64() {
        Some(FORMAT_VERSION) => None,
        Some(other) => Some(ReportError::UnsupportedVersion(other)),
        None => Some(ReportError::invalid(
            "format_version",
            format!("expected the integer 1, found {v}"),
        )),
    }
}

/// Parses again, tracking the path, to say where a report is wrong.
fn locate_error(body: &[u8]) -> ReportError {
    let de = &mut serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, Wire>(de) {
        Ok(_) => ReportError::Malformed("invalid JSON report".into()),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." || path.is_empty() {
                ReportError::Malformed(format!("invalid JSON report: {inner}"))
            } else {
                ReportError::invalid(path, inner.to_string())
            }
        }
    }
}

/// Serialises a report in the native format (what `patchwatch-client
/// --stdout` prints, and what the load generator sends).
pub fn to_json(report: &Report) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Out<'a> {
        format_version: u64,
        hostname: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        site: Option<&'a str>,
        tags: &'a [String],
        os: &'a OsInfo,
        kernel: &'a Kernel,
        arch: &'a str,
        packages: &'a [Package],
        repositories: &'a [Repository],
        #[serde(skip_serializing_if = "<[ModuleStream]>::is_empty")]
        module_streams: &'a [ModuleStream],
        #[serde(skip_serializing_if = "<[ApkPin]>::is_empty")]
        apk_pins: &'a [ApkPin],
        #[serde(skip_serializing_if = "<[AptPreferences]>::is_empty")]
        apt_preferences: &'a [AptPreferences],
        reboot: &'a RebootHint,
        client: &'a ClientInfo,
    }
    let out = Out {
        format_version: FORMAT_VERSION,
        hostname: &report.hostname,
        site: report.site.as_deref(),
        tags: &report.tags,
        os: &report.os,
        kernel: &report.kernel,
        arch: &report.arch,
        packages: report.packages.as_deref().unwrap_or_default(),
        repositories: report.repositories.as_deref().unwrap_or_default(),
        module_streams: &report.module_streams,
        apk_pins: &report.apk_pins,
        apt_preferences: &report.apt_preferences,
        reboot: &report.reboot,
        client: &report.client,
    };
    serde_json::to_vec(&out).expect("a report always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"format_version":1,"hostname":"node1.example.org","site":"CESNET",
        "tags":["prod"],"os":{"id":"debian","version_id":"12","version_codename":"bookworm",
        "pretty_name":"Debian GNU/Linux 12 (bookworm)"},"kernel":{"release":"6.1.0-18-amd64"},
        "arch":"x86_64","packages":[{"name":"libc6","version":"2.36","release":"9+deb12u4",
        "arch":"amd64","type":"deb","source_name":"glibc"}]}"#;

    #[test]
    fn parses_a_good_report() {
        let r = parse(GOOD.as_bytes()).unwrap();
        assert_eq!(r.hostname, "node1.example.org");
        assert_eq!(r.site.as_deref(), Some("CESNET"));
        let pkgs = r.packages.as_ref().unwrap();
        assert_eq!(pkgs[0].evr(), "2.36-9+deb12u4");
        assert_eq!(pkgs[0].source_name, "glibc");
        let back = parse(&to_json(&r)).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn fields_are_checked_as_sent_then_normalised() {
        // Found by schemathesis against the documented report schema: a
        // zero epoch past the length limit, or a value padded with a
        // control character, used to be normalised into an accepted one.
        let long_zero = GOOD.replace(
            r#""version":"2.36""#,
            &format!(r#""version":"2.36","epoch":"{}""#, "0".repeat(1025)),
        );
        let err = parse(long_zero.as_bytes()).unwrap_err().to_string();
        assert!(err.starts_with("packages[0].epoch: is 1025 bytes"), "{err}");
        let tab = GOOD.replace(r#""release":"9+deb12u4""#, r#""release":"\t9+deb12u4""#);
        let err = parse(tab.as_bytes()).unwrap_err().to_string();
        assert!(
            err.starts_with("packages[0].release: contains a control"),
            "{err}"
        );
        // Within the limits, normalising is unchanged: a zero epoch and
        // surrounding spaces go.
        let zero = GOOD.replace(r#""version":"2.36""#, r#""version":" 2.36 ","epoch":"0""#);
        let r = parse(zero.as_bytes()).unwrap();
        let p = &r.packages.as_ref().unwrap()[0];
        assert_eq!((p.epoch.as_str(), p.evr().as_str()), ("", "2.36-9+deb12u4"));
    }

    #[test]
    fn errors_name_the_field() {
        let bad = GOOD.replace(r#""type":"deb""#, r#""type":"msi""#);
        let err = parse(bad.as_bytes()).unwrap_err().to_string();
        assert!(
            err.starts_with("packages[0].type: unknown variant `msi`"),
            "{err}"
        );

        let bad = GOOD.replace(r#""name":"libc6""#, r#""name":"""#);
        let err = parse(bad.as_bytes()).unwrap_err().to_string();
        assert_eq!(err, "packages[0].name: is empty");

        let bad = GOOD.replace(r#""format_version":1"#, r#""format_version":2"#);
        assert_eq!(
            parse(bad.as_bytes()).unwrap_err(),
            ReportError::UnsupportedVersion(2)
        );

        let err = parse(&GOOD.as_bytes()[..40]).unwrap_err().to_string();
        assert!(err.contains("EOF"), "{err}");

        let bad = GOOD.replace(r#""hostname":"node1.example.org","#, "");
        let err = parse(bad.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("missing field `hostname`"), "{err}");
    }
}
