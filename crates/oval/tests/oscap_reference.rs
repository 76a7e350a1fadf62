//! Reference check against OpenSCAP: a Debian-structured OVAL document about
//! packages installed on this machine is evaluated by `oscap oval eval` and
//! by this crate (fed with this machine's `dpkg-query` output and files);
//! every definition must get the same verdict.
//!
//! With `CI=true` a missing `oscap` (or dpkg) fails the test
//! (`.ci/deps/oval.sh` installs it); elsewhere the test prints a notice and
//! passes.

mod common;

#[path = "support/oscap.rs"]
mod oscap;
use oscap::{oscap_verdicts, output, tool_missing};

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

use patchwatch_oval::{Document, HostInventory, InstalledPackage, PackageFormat, Uname, evaluate};

struct Pkg {
    name: String,
    version: String,
    arch: String,
}

fn installed() -> Option<Vec<Pkg>> {
    let text = output(Command::new("dpkg-query").args([
        "-W",
        "-f",
        "${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n",
    ]))?;
    Some(
        text.lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f.len() == 4 && f[0].starts_with("ii")).then(|| Pkg {
                    name: f[1].into(),
                    version: f[2].into(),
                    arch: f[3].into(),
                })
            })
            .collect(),
    )
}

/// Builds the document: (definition id, xml criteria) pairs plus the
/// tests/objects/states they use.
struct Builder {
    defs: String,
    tests: String,
    objects: String,
    states: String,
    n: usize,
}

impl Builder {
    fn next(&mut self) -> usize {
        self.n += 1;
        self.n
    }

    /// A dpkginfo test: `name` with evr `op` `evr` (no state when `op` is None).
    fn dpkg(&mut self, name: &str, state: Option<(&str, &str)>, existence: &str) -> String {
        let n = self.next();
        let _ = writeln!(
            self.objects,
            r#"<dpkginfo_object xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5#linux" id="oval:pw.test:obj:{n}" version="1"><name>{name}</name></dpkginfo_object>"#
        );
        let state_ref = match state {
            Some((op, evr)) => {
                let _ = writeln!(
                    self.states,
                    r#"<dpkginfo_state xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5#linux" id="oval:pw.test:ste:{n}" version="1"><evr datatype="debian_evr_string" operation="{op}">{evr}</evr></dpkginfo_state>"#
                );
                format!(r#"<state state_ref="oval:pw.test:ste:{n}"/>"#)
            }
            None => String::new(),
        };
        let _ = writeln!(
            self.tests,
            r#"<dpkginfo_test xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5#linux" id="oval:pw.test:tst:{n}" version="1" check="all" check_existence="{existence}" comment="t{n}"><object object_ref="oval:pw.test:obj:{n}"/>{state_ref}</dpkginfo_test>"#
        );
        format!("oval:pw.test:tst:{n}")
    }

    fn text(&mut self, filepath: &str, pattern: &str, expect: &str) -> String {
        let n = self.next();
        let _ = writeln!(
            self.objects,
            r#"<textfilecontent54_object xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5#independent" id="oval:pw.test:obj:{n}" version="1"><filepath>{filepath}</filepath><pattern operation="pattern match">{pattern}</pattern><instance datatype="int">1</instance></textfilecontent54_object>"#
        );
        let _ = writeln!(
            self.states,
            r#"<textfilecontent54_state xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5#independent" id="oval:pw.test:ste:{n}" version="1"><subexpression operation="equals">{expect}</subexpression></textfilecontent54_state>"#
        );
        let _ = writeln!(
            self.tests,
            r#"<textfilecontent54_test xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5#independent" id="oval:pw.test:tst:{n}" version="1" check="all" check_existence="at_least_one_exists" comment="t{n}"><object object_ref="oval:pw.test:obj:{n}"/><state state_ref="oval:pw.test:ste:{n}"/></textfilecontent54_test>"#
        );
        format!("oval:pw.test:tst:{n}")
    }

    fn uname(&mut self) -> String {
        let n = self.next();
        let _ = writeln!(
            self.objects,
            r#"<uname_object xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5#unix" id="oval:pw.test:obj:{n}" version="1"/>"#
        );
        let _ = writeln!(
            self.tests,
            r#"<uname_test xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5#unix" id="oval:pw.test:tst:{n}" version="1" check="all" check_existence="at_least_one_exists" comment="arch"><object object_ref="oval:pw.test:obj:{n}"/></uname_test>"#
        );
        format!("oval:pw.test:tst:{n}")
    }

    fn definition(&mut self, id: usize, title: &str, criteria: &str) {
        let _ = writeln!(
            self.defs,
            r#"<definition class="vulnerability" id="oval:pw.test:def:{id}" version="1"><metadata><title>{title}</title><affected family="unix"><platform>Debian GNU/Linux 12</platform></affected><reference ref_id="CVE-2099-{id:04}" ref_url="https://example.invalid" source="CVE"/><description>synthetic</description></metadata>{criteria}</definition>"#
        );
    }

    fn finish(self) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5" xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5">
<generator><oval:product_name>patchwatch-oval test</oval:product_name><oval:schema_version>5.11.2</oval:schema_version><oval:timestamp>2024-01-01T00:00:00</oval:timestamp></generator>
<definitions>
{}</definitions>
<tests>
{}</tests>
<objects>
{}</objects>
<states>
{}</states>
</oval_definitions>
"#,
            self.defs, self.tests, self.objects, self.states
        )
    }
}

fn crit(test: &str, negate: bool) -> String {
    format!(r#"<criterion test_ref="{test}" negate="{negate}" comment="c"/>"#)
}

/// The same structure Debian's feed uses: release AND (arch AND package).
fn debian_shape(release: &str, arch: &str, pkg: &str) -> String {
    format!(
        r#"<criteria comment="Release section" operator="AND">{}<criteria comment="Architecture section" operator="OR"><criteria operator="AND">{}{}</criteria></criteria></criteria>"#,
        crit(release, false),
        crit(arch, false),
        crit(pkg, false)
    )
}

#[test]
fn verdicts_match_openscap() {
    let Some(oscap_version) = output(Command::new("oscap").arg("--version")) else {
        tool_missing("oscap");
        return;
    };
    let Some(pkgs) = installed() else {
        tool_missing("dpkg-query");
        return;
    };
    assert!(
        pkgs.len() >= 20,
        "need 20+ installed packages, found {}",
        pkgs.len()
    );
    let Ok(debian_version) = std::fs::read_to_string("/etc/debian_version") else {
        tool_missing("/etc/debian_version");
        return;
    };
    let major = debian_version
        .split('.')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();

    // 24 packages spread over the sorted list, single-arch names only (a
    // name installed for two architectures would give two items).
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    pkgs.iter()
        .for_each(|p| *counts.entry(&p.name).or_default() += 1);
    let single: Vec<&Pkg> = pkgs
        .iter()
        .filter(|p| counts[p.name.as_str()] == 1)
        .collect();
    let step = (single.len() / 24).max(1);
    let chosen: Vec<&Pkg> = single.iter().step_by(step).take(24).copied().collect();
    assert!(chosen.len() >= 20);

    let mut b = Builder {
        defs: String::new(),
        tests: String::new(),
        objects: String::new(),
        states: String::new(),
        n: 0,
    };
    let release = b.text("/etc/debian_version", r"(\d+)\.\d", &major);
    let wrong_release = b.text("/etc/debian_version", r"(\d+)\.\d", "11");
    let os_release = b.text("/etc/os-release", r#"^VERSION_ID="(\d+)""#, &major);
    let arch = b.uname();
    let mut id = 0;
    for (i, p) in chosen.iter().enumerate() {
        let evr = if p.version.contains(':') {
            p.version.clone()
        } else {
            format!("0:{}", p.version)
        };
        // Fixed version above the installed one: vulnerable (true).
        let above = b.dpkg(
            &p.name,
            Some(("less than", &format!("{evr}+pw1"))),
            "at_least_one_exists",
        );
        id += 1;
        b.definition(
            id,
            &format!("{} below fix", p.name),
            &debian_shape(&release, &arch, &above),
        );
        // Fixed at the installed version: not vulnerable (false).
        let at = b.dpkg(&p.name, Some(("less than", &evr)), "at_least_one_exists");
        id += 1;
        b.definition(
            id,
            &format!("{} at fix", p.name),
            &debian_shape(&release, &arch, &at),
        );
        // Variations on operators, negation and existence, rotating.
        id += 1;
        let crit_xml = match i % 6 {
            0 => {
                let ge = b.dpkg(
                    &p.name,
                    Some(("greater than or equal", &evr)),
                    "at_least_one_exists",
                );
                format!(
                    r#"<criteria operator="AND">{}{}</criteria>"#,
                    crit(&os_release, false),
                    crit(&ge, false)
                )
            }
            1 => {
                let eq = b.dpkg(&p.name, Some(("equals", &evr)), "at_least_one_exists");
                format!(
                    r#"<criteria operator="AND" negate="true">{}{}</criteria>"#,
                    crit(&release, false),
                    crit(&eq, false)
                )
            }
            2 => {
                let missing = b.dpkg(&format!("{}-pw-not-installed", p.name), None, "none_exist");
                let below = b.dpkg(&p.name, Some(("less than", &evr)), "at_least_one_exists");
                format!(
                    r#"<criteria operator="OR">{}{}</criteria>"#,
                    crit(&below, false),
                    crit(&missing, true)
                )
            }
            3 => {
                let gt = b.dpkg(
                    &p.name,
                    Some(("greater than", "0:0")),
                    "at_least_one_exists",
                );
                format!(
                    r#"<criteria operator="XOR">{}{}{}</criteria>"#,
                    crit(&gt, false),
                    crit(&release, false),
                    crit(&wrong_release, false)
                )
            }
            4 => {
                let never = b.dpkg(&p.name, Some(("less than", "0:0")), "at_least_one_exists");
                format!(
                    r#"<criteria operator="ONE">{}{}</criteria>"#,
                    crit(&never, false),
                    crit(&wrong_release, true)
                )
            }
            _ => {
                let absent = b.dpkg(
                    &format!("{}-pw-not-installed", p.name),
                    Some(("less than", "0:99")),
                    "at_least_one_exists",
                );
                debian_shape(&release, &arch, &absent)
            }
        };
        b.definition(id, &format!("{} variation {}", p.name, i % 6), &crit_xml);
    }
    let xml = b.finish();

    let dir = std::env::temp_dir().join(format!("patchwatch-oval-oscap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let doc_path = dir.join("doc.xml");
    let results_path = dir.join("results.xml");
    std::fs::write(&doc_path, &xml).unwrap();
    let status = Command::new("oscap")
        .args(["oval", "eval", "--results"])
        .arg(&results_path)
        .arg(&doc_path)
        .output()
        .expect("run oscap");
    // oscap exits 0 (or 2 when some definition is true in older versions).
    assert!(
        matches!(status.status.code(), Some(0) | Some(2)),
        "oscap failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let results = std::fs::read_to_string(&results_path).unwrap();
    let theirs = oscap_verdicts(&results);
    assert_eq!(theirs.len(), id, "oscap verdicts for every definition");

    // Our side: this machine's dpkg database and files.
    let mut host = HostInventory::new(PackageFormat::Dpkg);
    for p in &pkgs {
        host.add_package(InstalledPackage::from_evr(&p.name, &p.version, &p.arch));
    }
    host.set_file("/etc/debian_version", &debian_version);
    if let Ok(osr) = std::fs::read_to_string("/etc/os-release") {
        host.set_file("/etc/os-release", &osr);
    }
    let uname = |flag: &str| {
        output(Command::new("uname").arg(flag))
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    host.set_uname(Uname {
        os_name: uname("-s"),
        node_name: uname("-n"),
        os_release: uname("-r"),
        os_version: uname("-v"),
        machine_class: uname("-m"),
        processor_type: uname("-p"),
    });
    let doc = Document::from_reader(xml.as_bytes()).unwrap();
    let ours = evaluate(&doc, &host, &common::orderings());
    assert_eq!(ours.len(), id);

    let mut disagreements = Vec::new();
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for r in &ours {
        let want = theirs
            .get(&r.definition_id)
            .map(String::as_str)
            .unwrap_or("(missing)");
        *tally.entry(want.to_owned()).or_default() += 1;
        if r.verdict.as_str() != want {
            disagreements.push(format!(
                "{}: oscap {want}, ours {}",
                r.definition_id, r.verdict
            ));
        }
    }
    eprintln!(
        "{} definitions compared with {}: {tally:?}",
        ours.len(),
        oscap_version.lines().next().unwrap_or("")
    );
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    // Both verdicts must occur, or the comparison proves little.
    assert!(tally.get("true").copied().unwrap_or(0) >= 20, "{tally:?}");
    assert!(tally.get("false").copied().unwrap_or(0) >= 20, "{tally:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
