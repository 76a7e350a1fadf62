//! rpm-md reading on the real repositories: counts from the data README,
//! every updateinfo dialect, and refused input.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use common::{APPSTREAM, BASEOS, OPENSUSE, data};
use patchwatch_repos::rpmmd::{self, decompress, parse_primary, parse_updateinfo};
use patchwatch_repos::{RepoAdvisory, RepoError, UpdateKind};

fn kinds(advisories: &[RepoAdvisory]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for a in advisories {
        *m.entry(format!("{:?}", a.kind)).or_default() += 1;
    }
    m
}

fn updateinfo(rel: &str) -> Vec<RepoAdvisory> {
    let bytes = std::fs::read(data(rel)).unwrap();
    parse_updateinfo(decompress(&bytes, rel).unwrap(), rel).unwrap()
}

#[test]
fn centos_stream_9_appstream_reads_whole_with_its_modules() {
    let snap = rpmmd::read_dir(&data(APPSTREAM)).unwrap();
    assert_eq!(snap.packages.len(), 17_649);
    let names: HashSet<&str> = snap
        .packages
        .iter()
        .map(|p| p.package.name.as_str())
        .collect();
    assert_eq!(names.len(), 4_848);
    let mut arches = BTreeMap::new();
    for p in &snap.packages {
        *arches.entry(p.package.arch.as_str()).or_insert(0) += 1;
    }
    assert_eq!(
        arches.into_iter().collect::<Vec<_>>(),
        [("i686", 2_689), ("noarch", 5_697), ("x86_64", 9_263)]
    );
    assert_eq!(snap.meta.suite, "9-stream");
    assert_eq!(snap.meta.cpes, ["cpe:/o:centos-stream:centos-stream:9"]);
    assert!(snap.advisories.is_empty());

    assert_eq!(snap.modules.len(), 31);
    assert!(
        snap.modules.iter().all(|m| !m.is_default),
        "CentOS Stream 9 has no default streams"
    );
    let streams: HashSet<String> = snap
        .modules
        .iter()
        .map(|m| format!("{}:{}", m.name, m.stream))
        .collect();
    for s in [
        "mariadb:10.11",
        "nodejs:22",
        "php:8.3",
        "postgresql:16",
        "ruby:3.1",
    ] {
        assert!(streams.contains(s), "{s}");
    }
    let first = &snap.modules[0];
    assert_eq!(
        (
            first.name.as_str(),
            first.stream.as_str(),
            first.version,
            first.context.as_str()
        ),
        ("mariadb", "10.11", 920240126110506, "rhel9")
    );

    // 1,044 distinct artifacts in modules.yaml; the packages of the primary
    // they name are marked (the source rpms among them are not in primary).
    let modular: Vec<_> = snap
        .packages
        .iter()
        .filter(|p| p.module.is_some())
        .collect();
    assert_eq!(modular.len(), 516);
    let galera = snap
        .packages
        .iter()
        .find(|p| p.package.name == "galera" && p.package.version == "26.4.16")
        .unwrap();
    assert_eq!(galera.module.as_deref(), Some("mariadb:10.11"));
    let ds = snap
        .packages
        .iter()
        .find(|p| p.package.name == "389-ds-base")
        .unwrap();
    assert_eq!(ds.module, None);
    assert_eq!(ds.package.source_name, "389-ds-base");
    assert_eq!(ds.package.epoch, "", "epoch 0 is normalised away");
    // Every package names its source rpm (read before the rest of
    // <format> is jumped over).
    assert!(
        snap.packages
            .iter()
            .all(|p| !p.package.source_name.is_empty() && !p.package.source_version.is_empty())
    );
    let sources: HashSet<&str> = snap
        .packages
        .iter()
        .map(|p| p.package.source_name.as_str())
        .collect();
    assert_eq!(sources.len(), 1_930);
}

#[test]
fn centos_stream_9_baseos_reads_whole() {
    let snap = rpmmd::read_dir(&data(BASEOS)).unwrap();
    assert_eq!(snap.packages.len(), 1_125);
    let names: HashSet<&str> = snap
        .packages
        .iter()
        .map(|p| p.package.name.as_str())
        .collect();
    assert_eq!(names.len(), 883);
}

#[test]
fn opensuse_11_0_update_repository_reads_primary_and_suse_updateinfo() {
    let snap = rpmmd::read_dir(&data(OPENSUSE)).unwrap();
    assert_eq!(snap.packages.len(), 2_430);
    assert_eq!(
        snap.packages
            .iter()
            .filter(|p| p.package.arch == "src")
            .count(),
        164
    );
    assert_eq!(snap.advisories.len(), 164);
    assert_eq!(
        kinds(&snap.advisories).into_iter().collect::<Vec<_>>(),
        [
            ("Optional".to_owned(), 2),
            ("Recommended".to_owned(), 86),
            ("Security".to_owned(), 76)
        ]
    );
    let refs: usize = snap.advisories.iter().map(|a| a.packages.len()).sum();
    assert_eq!(refs, 2_287);
    let xvnc = &snap.advisories[0];
    assert_eq!(xvnc.id, "xorg-x11-Xvnc");
    assert_eq!(xvnc.kind, UpdateKind::Security);
    assert_eq!(xvnc.issued, "2008-06-16T15:33:52Z");
    assert_eq!(
        xvnc.title,
        "Multiple Xorg vulnerabilities reported by iDefense"
    );
}

#[test]
fn fedora_19_bodhi_updateinfo_counts_and_cves() {
    let advisories = updateinfo("repos/fedora-19/updates-x86_64-2013-09-10/updateinfo.xml.gz");
    assert_eq!(advisories.len(), 2_494);
    assert_eq!(
        kinds(&advisories).into_iter().collect::<Vec<_>>(),
        [
            ("Bugfix".to_owned(), 1_413),
            ("Enhancement".to_owned(), 499),
            ("Newpackage".to_owned(), 398),
            ("Security".to_owned(), 184)
        ]
    );
    let refs: usize = advisories.iter().map(|a| a.packages.len()).sum();
    assert_eq!(refs, 28_717);
    // CVEs are in the titles of the Bugzilla references.
    let with_cves: Vec<_> = advisories.iter().filter(|a| !a.cves.is_empty()).collect();
    assert_eq!(with_cves.len(), 135);
    assert!(with_cves.iter().all(|a| a.kind == UpdateKind::Security));
    let distinct: HashSet<&String> = with_cves.iter().flat_map(|a| &a.cves).collect();
    assert_eq!(distinct.len(), 118);
    let haproxy = advisories
        .iter()
        .find(|a| a.cves.iter().any(|c| c == "CVE-2013-2175"))
        .unwrap();
    assert!(haproxy.packages.iter().any(|p| p.name == "haproxy"));
    assert!(haproxy.id.starts_with("FEDORA-2013-"));
    let first = &advisories[0];
    assert_eq!(first.id, "FEDORA-2013-14429");
    assert_eq!(first.issued, "2013-08-07T21:43:00Z");
    assert_eq!(first.kind, UpdateKind::Enhancement);
}

#[test]
fn rocky_8_updateinfo_excerpt() {
    let advisories =
        updateinfo("repos/updateinfo-excerpts/vuln-list-update_rocky-8_updateinfo.excerpt.xml");
    let ids: Vec<&str> = advisories.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "RLBA-2021:2580",
            "RLSA-2021:2575",
            "RLSA-2021:3057",
            "RLSA-2019:1972"
        ]
    );
    let lz4 = &advisories[1];
    assert_eq!(lz4.kind, UpdateKind::Security);
    assert_eq!(lz4.severity, "Moderate");
    assert_eq!(lz4.cves, ["CVE-2021-3520"]);
    let firewalld = &advisories[0];
    assert_eq!(firewalld.kind, UpdateKind::Bugfix);
    assert!(firewalld.cves.is_empty());
    assert_eq!(firewalld.packages.len(), 3);
    assert_eq!(firewalld.packages[0].source_name, "firewalld");
    assert_eq!(firewalld.packages[0].source_version, "0.8.2-7.el8_4");
    assert_eq!(firewalld.issued, "2021-07-22T18:25:24Z");
}

#[test]
fn amazon_linux_updateinfo_excerpts() {
    let al2023 = updateinfo(
        "repos/updateinfo-excerpts/vuln-list-update_amazon-linux-2023_updateinfo.excerpt.xml.gz",
    );
    assert_eq!(al2023.len(), 1);
    let a = &al2023[0];
    assert_eq!(a.id, "ALAS2023-2023-001");
    assert_eq!(a.kind, UpdateKind::Security);
    assert_eq!(a.severity, "Important");
    assert_eq!(a.cves, ["CVE-2014-3634", "CVE-2022-24903"]);
    assert_eq!(a.issued, "2023-02-17T20:41:00Z");
    assert_eq!(a.packages.len(), 61);
    assert!(
        a.packages
            .iter()
            .any(|p| p.name == "rsyslog" && p.arch == "aarch64")
    );

    let al2 = updateinfo(
        "repos/updateinfo-excerpts/vuln-list-update_amazon-linux-2_updateinfo.excerpt.xml.gz",
    );
    let ids: Vec<&str> = al2.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["ALAS2-2018-942", "ALAS2-2018-949"]);
    assert!(al2[0].cves.iter().any(|c| c == "CVE-2017-5715"));
}

/// A copy of the AppStream repodata the test may damage.
fn scratch_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = data(APPSTREAM).join("repodata");
    std::fs::create_dir(dir.path().join("repodata")).unwrap();
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(
            entry.path(),
            dir.path().join("repodata").join(entry.file_name()),
        )
        .unwrap();
    }
    dir
}

fn primary_path(root: &Path) -> std::path::PathBuf {
    std::fs::read_dir(root.join("repodata"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-primary.xml.gz"))
        .unwrap()
}

#[test]
fn a_truncated_primary_is_refused_before_and_after_decompression() {
    let dir = scratch_repo();
    let path = primary_path(dir.path());
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 1000]).unwrap();
    let err = rpmmd::read_dir(dir.path()).unwrap_err();
    assert!(matches!(err, RepoError::Malformed { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("3596627 bytes, but repodata/repomd.xml says 3597627"),
        "{err}"
    );

    // The parser itself refuses a cut stream, whatever the checksums said.
    let cut = &bytes[..bytes.len() / 2];
    let err =
        parse_primary(decompress(cut, "primary.xml.gz").unwrap(), "primary.xml.gz").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("primary.xml.gz: truncated or corrupt"),
        "{err}"
    );

    // Cut at an element boundary of the plain XML: the count and the end
    // tag are missing.
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut decompress(&bytes, "p").unwrap(), &mut xml).unwrap();
    let cut = &xml[..xml
        .find("<package type=\"rpm\">\n  <name>bash-color-prompt")
        .unwrap_or(xml.len() / 2)];
    let cut = &cut[..cut.rfind("</package>").unwrap() + "</package>".len()];
    let err = parse_primary(cut.as_bytes(), "primary.xml").unwrap_err();
    assert!(
        err.to_string()
            .contains("truncated: the document ends after"),
        "{err}"
    );
}

#[test]
fn a_corrupt_primary_is_refused() {
    let bytes = std::fs::read(primary_path(&data(APPSTREAM))).unwrap();
    let mut corrupt = bytes.clone();
    let mid = corrupt.len() / 3;
    for b in &mut corrupt[mid..mid + 256] {
        *b = !*b;
    }
    let err = parse_primary(
        decompress(&corrupt, "primary.xml.gz").unwrap(),
        "primary.xml.gz",
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("primary.xml.gz: "), "{err}");
    let err = parse_primary(
        &b"<metadata packages=\"1\"><package><name>x</name>"[..],
        "p.xml",
    )
    .unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    let err = parse_primary(
        &b"<metadata><package><name>x</nam></package></metadata>"[..],
        "p.xml",
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("p.xml: invalid XML in package #1"),
        "{err}"
    );
}

#[test]
fn a_wrong_checksum_in_repomd_is_a_checksum_error() {
    let dir = scratch_repo();
    let repomd = dir.path().join("repodata/repomd.xml");
    let text = std::fs::read_to_string(&repomd).unwrap();
    let good = "c03bb2ebc33bbee3046da091b45d90717273a43d3641a9d84e6eede05637bc8a</checksum>";
    assert!(text.contains(good));
    std::fs::write(
        &repomd,
        text.replace(
            good,
            "d03bb2ebc33bbee3046da091b45d90717273a43d3641a9d84e6eede05637bc8a</checksum>",
        ),
    )
    .unwrap();
    match rpmmd::read_dir(dir.path()).unwrap_err() {
        RepoError::Checksum {
            file,
            algorithm,
            expected,
            actual,
        } => {
            assert!(file.ends_with("-primary.xml.gz"), "{file}");
            assert_eq!(algorithm, "sha256");
            assert!(expected.starts_with("d03bb2eb"));
            assert!(actual.starts_with("c03bb2eb"));
        }
        other => panic!("expected a checksum error, got {other}"),
    }
}

#[test]
fn a_repomd_naming_a_missing_primary_or_modules_is_refused() {
    let dir = scratch_repo();
    let path = primary_path(dir.path());
    std::fs::remove_file(&path).unwrap();
    let err = rpmmd::read_dir(dir.path()).unwrap_err();
    match &err {
        RepoError::Missing { file, listed_by } => {
            assert!(file.starts_with("repodata/c03bb2eb") && file.ends_with("-primary.xml.gz"));
            assert_eq!(listed_by, "repodata/repomd.xml");
        }
        other => panic!("expected a missing-file error, got {other}"),
    }
    assert!(
        err.to_string()
            .ends_with("listed by repodata/repomd.xml but missing")
    );

    let dir = scratch_repo();
    for e in std::fs::read_dir(dir.path().join("repodata")).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with("modules.yaml.xz") {
            std::fs::remove_file(p).unwrap();
        }
    }
    assert!(matches!(
        rpmmd::read_dir(dir.path()).unwrap_err(),
        RepoError::Missing { .. }
    ));

    // Escaping the repository through a location is refused.
    let dir = scratch_repo();
    let repomd = dir.path().join("repodata/repomd.xml");
    let text = std::fs::read_to_string(&repomd).unwrap();
    std::fs::write(
        &repomd,
        text.replace("href=\"repodata/c03bb2eb", "href=\"../../etc/c03bb2eb"),
    )
    .unwrap();
    let err = rpmmd::read_dir(dir.path()).unwrap_err();
    assert!(
        err.to_string().contains("is outside the repository"),
        "{err}"
    );

    let err = rpmmd::read_dir(&data("repos/alpine")).unwrap_err();
    assert!(
        err.to_string().contains("not an rpm-md repository"),
        "{err}"
    );
}

#[test]
fn primary_reads_in_every_compression_rpm_md_allows() {
    use std::io::{Read, Write};
    let rel = format!("{BASEOS}/repodata");
    let path = std::fs::read_dir(data(&rel))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-primary.xml.gz"))
        .unwrap();
    let gz = std::fs::read(path).unwrap();
    let mut xml = Vec::new();
    decompress(&gz, "gz")
        .unwrap()
        .read_to_end(&mut xml)
        .unwrap();

    let mut xz = xz2::write::XzEncoder::new(Vec::new(), 0);
    xz.write_all(&xml).unwrap();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(&xml).unwrap();
    let encoded = [
        ("gz", gz.clone()),
        ("xz", xz.finish().unwrap()),
        ("zst", zstd::encode_all(&xml[..], 1).unwrap()),
        ("bz2", bz.finish().unwrap()),
        ("plain", xml.clone()),
    ];
    for (kind, bytes) in encoded {
        let packages = parse_primary(decompress(&bytes, kind).unwrap(), kind).unwrap();
        assert_eq!(packages.len(), 1_125, "{kind}");
    }
}

#[test]
fn documents_cut_anywhere_are_refused_not_half_read() {
    use std::io::Read;
    let rel = format!("{OPENSUSE}/repodata/updateinfo.xml.gz");
    let gz = std::fs::read(data(&rel)).unwrap();
    let mut xml = Vec::new();
    decompress(&gz, &rel)
        .unwrap()
        .read_to_end(&mut xml)
        .unwrap();
    for i in 1..40 {
        let cut = &xml[..xml.len() * i / 40];
        assert!(
            parse_updateinfo(cut, "updateinfo.xml").is_err(),
            "cut at {}",
            cut.len()
        );
    }
    let rel = format!("{OPENSUSE}/repodata/primary.xml.gz");
    let gz = std::fs::read(data(&rel)).unwrap();
    xml.clear();
    decompress(&gz, &rel)
        .unwrap()
        .read_to_end(&mut xml)
        .unwrap();
    for i in 1..40 {
        let cut = &xml[..xml.len() * i / 40];
        assert!(
            parse_primary(cut, "primary.xml").is_err(),
            "cut at {}",
            cut.len()
        );
    }
    let repomd = std::fs::read(data(&format!("{APPSTREAM}/repodata/repomd.xml"))).unwrap();
    for i in 1..40 {
        let cut = &repomd[..repomd.len() * i / 40];
        let err = rpmmd::parse_repomd(cut, "repomd.xml").unwrap_err();
        assert!(err.to_string().starts_with("repomd.xml: "), "{err}");
    }
}
