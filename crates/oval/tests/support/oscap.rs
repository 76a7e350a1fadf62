//! What both OpenSCAP comparisons need: skipping (or, under CI, failing)
//! without the tool, running it, and reading its verdicts back. Included by
//! path from `patchwatch-oval`'s and `patchwatch-vulndb`'s tests.

use std::collections::BTreeMap;
use std::process::Command;

/// A missing reference tool fails under `CI=true` and skips elsewhere.
pub fn tool_missing(what: &str) -> bool {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what} is required with CI=true (see .ci/deps/oval.sh)");
    }
    eprintln!("notice: {what} not available; skipping the OpenSCAP comparison");
    true
}

/// Standard output of a command that succeeded.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `definition_id` → `result` from the `<results>` part of an OVAL results
/// document.
pub fn oscap_verdicts(xml: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let start = xml.find("<results").unwrap_or(0);
    let mut rest = &xml[start..];
    while let Some(i) = rest.find("<definition ") {
        rest = &rest[i..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            tag.find(&key).map(|p| {
                let v = &tag[p + key.len()..];
                v[..v.find('"').unwrap_or(v.len())].to_owned()
            })
        };
        if let (Some(id), Some(result)) = (attr("definition_id"), attr("result")) {
            out.insert(id, result);
        }
        rest = &rest[end..];
    }
    out
}
