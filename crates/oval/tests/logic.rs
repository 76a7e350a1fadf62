//! Operator, negation, check and existence semantics, and parse errors, on
//! small inline documents.

mod common;

use patchwatch_oval::{
    Document, HostInventory, InstalledPackage, PackageFormat, ParseError, Verdict, evaluate,
};

/// Tests: 1 = pkg-a installed (true), 2 = pkg-b installed (false: absent),
/// 3 = unknown_test, 4 = dangling reference (error).
fn doc(criteria: &str) -> Document {
    let xml = format!(
        r#"<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5" xmlns:l="http://oval.mitre.org/XMLSchema/oval-definitions-5#linux">
<definitions><definition class="vulnerability" id="oval:t:def:1" version="1"><metadata><title>t</title></metadata>{criteria}</definition></definitions>
<tests>
<l:dpkginfo_test id="oval:t:tst:1" version="1" check="all"><l:object object_ref="oval:t:obj:1"/></l:dpkginfo_test>
<l:dpkginfo_test id="oval:t:tst:2" version="1" check="all"><l:object object_ref="oval:t:obj:2"/></l:dpkginfo_test>
<unknown_test id="oval:t:tst:3" version="1" check="all"/>
</tests>
<objects>
<l:dpkginfo_object id="oval:t:obj:1" version="1"><l:name>pkg-a</l:name></l:dpkginfo_object>
<l:dpkginfo_object id="oval:t:obj:2" version="1"><l:name>pkg-b</l:name></l:dpkginfo_object>
</objects>
</oval_definitions>"#
    );
    Document::from_reader(xml.as_bytes()).unwrap()
}

fn host() -> HostInventory {
    let mut h = HostInventory::new(PackageFormat::Dpkg);
    h.add_package(InstalledPackage::from_evr("pkg-a", "1.0-1", "amd64"));
    h
}

fn run(criteria: &str) -> Verdict {
    evaluate(&doc(criteria), &host(), &common::orderings())[0].verdict
}

const T: &str = r#"<criterion test_ref="oval:t:tst:1"/>"#;
const F: &str = r#"<criterion test_ref="oval:t:tst:2"/>"#;
const U: &str = r#"<criterion test_ref="oval:t:tst:3"/>"#;
const E: &str = r#"<criterion test_ref="oval:t:tst:404"/>"#;

fn c(op: &str, negate: bool, children: &[&str]) -> String {
    format!(
        r#"<criteria operator="{op}" negate="{negate}">{}</criteria>"#,
        children.concat()
    )
}

#[test]
fn operators() {
    use Verdict::*;
    let cases: &[(&str, &[&str], Verdict)] = &[
        ("AND", &[T, T], True),
        ("AND", &[T, F], False),
        ("AND", &[T, U], Unknown),
        ("AND", &[F, U], False),
        ("AND", &[T, E, U], Error),
        ("OR", &[F, F], False),
        ("OR", &[F, T], True),
        ("OR", &[U, T], True),
        ("OR", &[F, U], Unknown),
        ("OR", &[F, E], Error),
        ("ONE", &[T, F], True),
        ("ONE", &[T, T], False),
        ("ONE", &[T, T, U], False),
        ("ONE", &[T, U], Unknown),
        ("ONE", &[F, F], False),
        ("XOR", &[T, T], False),
        ("XOR", &[T, T, T], True),
        ("XOR", &[T, F], True),
        ("XOR", &[T, U], Unknown),
    ];
    for (op, children, want) in cases {
        assert_eq!(run(&c(op, false, children)), *want, "{op} {children:?}");
    }
}

#[test]
fn negation() {
    assert_eq!(run(&c("AND", true, &[T, T])), Verdict::False);
    assert_eq!(run(&c("AND", true, &[T, F])), Verdict::True);
    assert_eq!(
        run(&c("AND", true, &[T, U])),
        Verdict::Unknown,
        "negate leaves unknown alone"
    );
    assert_eq!(
        run(&c(
            "AND",
            false,
            &[r#"<criterion test_ref="oval:t:tst:2" negate="true"/>"#, T]
        )),
        Verdict::True
    );
    assert_eq!(
        run(&c(
            "OR",
            true,
            &[r#"<criterion test_ref="oval:t:tst:1" negate="true"/>"#]
        )),
        Verdict::True
    );
}

#[test]
fn extend_definition_cycle_is_an_error() {
    let v = run(&c(
        "AND",
        false,
        &[T, r#"<extend_definition definition_ref="oval:t:def:1"/>"#],
    ));
    assert_eq!(v, Verdict::Error);
}

fn existence_doc(existence: &str, check: &str, evr_op: &str, evr: &str) -> Document {
    let xml = format!(
        r#"<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5">
<definitions><definition class="patch" id="oval:t:def:1" version="1"><metadata><title>t</title></metadata><criteria><criterion test_ref="oval:t:tst:1"/></criteria></definition></definitions>
<tests><rpminfo_test xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5#linux" id="oval:t:tst:1" version="1" check="{check}" check_existence="{existence}"><object object_ref="oval:t:obj:1"/><state state_ref="oval:t:ste:1"/></rpminfo_test></tests>
<objects><rpminfo_object xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5#linux" id="oval:t:obj:1" version="1"><name>kernel</name></rpminfo_object></objects>
<states><rpminfo_state xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5#linux" id="oval:t:ste:1" version="1"><arch operation="pattern match">^(x86_64|aarch64)$</arch><evr datatype="evr_string" operation="{evr_op}">{evr}</evr></rpminfo_state></states>
</oval_definitions>"#
    );
    Document::from_reader(xml.as_bytes()).unwrap()
}

#[test]
fn checks_and_existence_over_several_items() {
    // Two kernels installed (install-only package), one older than the fix.
    let mut h = HostInventory::new(PackageFormat::Rpm);
    h.add_package(InstalledPackage::from_evr(
        "kernel",
        "5.14.0-362.8.1.el9_3",
        "x86_64",
    ));
    h.add_package(InstalledPackage::from_evr(
        "kernel",
        "5.14.0-427.13.1.el9_4",
        "x86_64",
    ));
    let ord = common::orderings();
    let v = |e: &str, c: &str, op: &str, evr: &str| {
        evaluate(&existence_doc(e, c, op, evr), &h, &ord)[0].verdict
    };
    let fix = "0:5.14.0-400.el9";
    assert_eq!(
        v("at_least_one_exists", "at least one", "less than", fix),
        Verdict::True
    );
    assert_eq!(
        v("at_least_one_exists", "all", "less than", fix),
        Verdict::False
    );
    assert_eq!(
        v("at_least_one_exists", "only one", "less than", fix),
        Verdict::True
    );
    assert_eq!(
        v("at_least_one_exists", "none satisfy", "less than", fix),
        Verdict::False
    );
    assert_eq!(
        v(
            "at_least_one_exists",
            "none satisfy",
            "less than",
            "0:5.14.0-1.el9"
        ),
        Verdict::True
    );
    assert_eq!(
        v("only_one_exists", "at least one", "less than", fix),
        Verdict::False
    );
    assert_eq!(
        v("none_exist", "at least one", "less than", fix),
        Verdict::False
    );
    assert_eq!(
        v(
            "any_exist",
            "all",
            "greater than or equal",
            "0:5.14.0-1.el9"
        ),
        Verdict::True
    );
    assert_eq!(
        v(
            "at_least_one_exists",
            "at least one",
            "equals",
            "0:5.14.0-427.13.1.el9_4"
        ),
        Verdict::True
    );
    // The arch pattern rejects an i686 kernel.
    let mut i686 = HostInventory::new(PackageFormat::Rpm);
    i686.add_package(InstalledPackage::from_evr(
        "kernel",
        "5.14.0-362.8.1.el9_3",
        "i686",
    ));
    assert_eq!(
        evaluate(
            &existence_doc("at_least_one_exists", "all", "less than", fix),
            &i686,
            &ord
        )[0]
        .verdict,
        Verdict::False
    );
    // An rpm test on a dpkg host does not apply.
    let deb = HostInventory::new(PackageFormat::Dpkg);
    assert_eq!(
        evaluate(
            &existence_doc("at_least_one_exists", "all", "less than", fix),
            &deb,
            &ord
        )[0]
        .verdict,
        Verdict::NotApplicable
    );
}

#[test]
fn parse_errors_name_the_place() {
    let err = Document::from_reader(&b"<html><body/></html>"[..]).unwrap_err();
    assert!(
        matches!(err, ParseError::NotOval { ref element } if element == "html"),
        "{err}"
    );

    let bad_op = r#"<oval_definitions><definitions><definition class="patch" id="oval:x:def:1" version="1"><criteria operator="MAYBE"/></definition></definitions></oval_definitions>"#;
    let err = Document::from_reader(bad_op.as_bytes()).unwrap_err();
    // Byte 87 is where the `<criteria` tag starts.
    assert_eq!(bad_op.find("<criteria"), Some(87));
    assert_eq!(
        err.to_string(),
        "<criteria> oval:x:def:1 at byte 87: invalid operator=\"MAYBE\""
    );

    let dup = r#"<oval_definitions><definitions><definition class="patch" id="oval:x:def:1"/><definition class="patch" id="oval:x:def:1"/></definitions></oval_definitions>"#;
    assert!(matches!(
        Document::from_reader(dup.as_bytes()),
        Err(ParseError::DuplicateId { .. })
    ));

    let truncated =
        r#"<oval_definitions><definitions><definition class="patch" id="oval:x:def:1">"#;
    assert!(matches!(
        Document::from_reader(truncated.as_bytes()),
        Err(ParseError::Xml { .. })
    ));

    let no_class = r#"<oval_definitions><definitions><definition id="oval:x:def:1"/></definitions></oval_definitions>"#;
    let err = Document::from_reader(no_class.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            ParseError::MissingAttribute {
                attribute: "class",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn deeply_nested_criteria_are_refused() {
    let xml = format!(
        r#"<oval_definitions><definitions><definition class="patch" id="oval:x:def:1">{}{}</definition></definitions></oval_definitions>"#,
        "<criteria>".repeat(500),
        "</criteria>".repeat(500)
    );
    assert!(matches!(
        Document::from_reader(xml.as_bytes()),
        Err(ParseError::TooDeep { .. })
    ));
}
