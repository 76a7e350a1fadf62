//! Reference check on real Debian OVAL: Debian's bullseye OVAL (cut down,
//! from the shared data set), read through the feed path, is evaluated by
//! `oscap oval eval` against this machine and by Patchwatch's OVAL host
//! adapter against this machine's dpkg database (`/var/lib/dpkg/status`),
//! OS release and kernel; every definition must get the same verdict.
//!
//! With `CI=true` a missing `oscap` (or dpkg database) fails the test
//! (`.ci/deps/oval.sh` installs it); elsewhere the test prints a notice and
//! passes.

#[path = "../../oval/tests/support/oscap.rs"]
mod oscap;
use oscap::{oscap_verdicts, output, tool_missing};

use std::collections::BTreeMap;
use std::io::Read;
use std::process::Command;

use patchwatch_assess::{OvalHost, orderings};
use patchwatch_fleet::{inventory, shared_data_dir};
use patchwatch_oval::{Evaluator, Options, Verdict};
use patchwatch_reports::OsRelease;
use patchwatch_store::FeedKind;
use patchwatch_vulndb::oval_feeds::parse_oval;

const BULLSEYE: &str = "debian/oval/vuls-data-update_oval-definitions-bullseye.truncated.xml.bz2";

#[test]
fn debian_oval_verdicts_match_openscap() {
    let Some(oscap_version) = output(Command::new("oscap").arg("--version")) else {
        tool_missing("oscap");
        return;
    };
    let Ok(status) = std::fs::read_to_string("/var/lib/dpkg/status") else {
        tool_missing("/var/lib/dpkg/status");
        return;
    };
    let Ok(debian_version) = std::fs::read_to_string("/etc/debian_version") else {
        tool_missing("/etc/debian_version");
        return;
    };
    let packages = inventory::dpkg_status(&status).expect("this machine's dpkg status");

    // The feed path: the stored (compressed) document as an import sees it.
    let compressed = std::fs::read(shared_data_dir().join(BULLSEYE)).unwrap();
    let count = patchwatch_vulndb::parse_document(FeedKind::Oval, BULLSEYE, &compressed, |_| {})
        .expect("the bullseye OVAL imports");
    let doc = parse_oval(BULLSEYE, &compressed).unwrap();
    assert_eq!(count, doc.definition_count());

    let mut xml = Vec::new();
    patchwatch_advisories::compression::decompressed(std::io::Cursor::new(&compressed))
        .unwrap()
        .read_to_end(&mut xml)
        .unwrap();
    let xml = String::from_utf8(xml).unwrap();
    let kernel = output(Command::new("uname").arg("-r"))
        .unwrap_or_default()
        .trim()
        .to_owned();
    let os = OsRelease {
        distro: "debian".into(),
        release: debian_version.trim().to_owned(),
    };
    let host = OvalHost::new(&os, &kernel, &packages);
    let dir = std::env::temp_dir().join(format!("patchwatch-vulndb-oscap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let version = oscap_version.lines().next().unwrap_or("").to_owned();

    // The document as published: on a machine that is not bullseye (or has
    // neither package) every definition is false.
    let (agree, total) = compare(&dir, "as published", &xml, &host, &version);
    assert_eq!(total, count);
    // The same document made to apply here: its release test asks for this
    // machine's major release and its two packages are renamed to two
    // installed ones, so the version comparisons decide (true and false).
    let major = debian_version
        .trim()
        .split('.')
        .next()
        .unwrap_or("")
        .to_owned();
    let names: Vec<&str> = ["bash", "dpkg"]
        .into_iter()
        .filter(|n| packages.iter().any(|p| p.name == *n))
        .collect();
    if names.len() == 2 && !major.is_empty() {
        let here = xml
            .replace(
                r#"<subexpression operation="equals">11</subexpression>"#,
                &format!(r#"<subexpression operation="equals">{major}</subexpression>"#),
            )
            .replace("<name>php7.4</name>", "<name>bash</name>")
            .replace("<name>389-ds-base</name>", "<name>dpkg</name>");
        let (a, t) = compare(&dir, "applied to this machine", &here, &host, &version);
        eprintln!(
            "agreement with oscap: {} of {} definitions",
            agree + a,
            total + t
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Evaluates `xml` with oscap and with the host adapter; panics on any
/// disagreement and returns (agreeing, total).
fn compare(
    dir: &std::path::Path,
    label: &str,
    xml: &str,
    host: &OvalHost,
    oscap_version: &str,
) -> (usize, usize) {
    let xml_path = dir.join("oval.xml");
    let results_path = dir.join("results.xml");
    std::fs::write(&xml_path, xml).unwrap();
    let run = Command::new("oscap")
        .args(["oval", "eval", "--results"])
        .arg(&results_path)
        .arg(&xml_path)
        .output()
        .expect("run oscap");
    assert!(
        matches!(run.status.code(), Some(0) | Some(2)),
        "oscap failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let theirs = oscap_verdicts(&std::fs::read_to_string(&results_path).unwrap());
    let doc = parse_oval(label, xml.as_bytes()).unwrap();
    let ours = Evaluator::new(&doc, orderings())
        .with_options(Options {
            missing_signature_keyid: Verdict::True,
            filter_by_cpe: false,
        })
        .evaluate(host);
    assert_eq!(
        theirs.len(),
        ours.len(),
        "{label}: oscap verdicts for every definition"
    );

    let mut agree = 0;
    let mut disagreements = Vec::new();
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for r in &ours {
        let want = theirs
            .get(&r.definition_id)
            .map_or("(missing)", String::as_str);
        *tally.entry(want.to_owned()).or_default() += 1;
        if r.verdict.as_str() == want {
            agree += 1;
        } else {
            disagreements.push(format!(
                "{}: oscap {want}, ours {}",
                r.definition_id, r.verdict
            ));
        }
    }
    eprintln!(
        "{label}: {agree} of {} definitions agree with {oscap_version}: {tally:?}",
        ours.len()
    );
    assert!(disagreements.is_empty(), "{label}: {disagreements:#?}");
    (agree, ours.len())
}
