//! Format sniffing and decompression on the real compressed downloads.

use std::fs::File;
use std::io::{BufReader, Read};

use patchwatch_advisories::compression::{SNIFF_LEN, sniff_reader};
use patchwatch_advisories::{Compression, decompressed, sniff};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn head(rel: &str) -> Vec<u8> {
    let mut buf = vec![0; SNIFF_LEN];
    let n = File::open(format!("{DATA}/{rel}"))
        .unwrap()
        .read(&mut buf)
        .unwrap();
    buf.truncate(n);
    buf
}

fn inflate(rel: &str) -> Vec<u8> {
    let mut out = Vec::new();
    decompressed(BufReader::new(File::open(format!("{DATA}/{rel}")).unwrap()))
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn sniffs_real_files() {
    let cases = [
        (
            "debian/oval/vuls-data-update_oval-definitions-bullseye.truncated.xml.bz2",
            Some(Compression::Bzip2),
        ),
        (
            "redhat/oval-v1/vuls-data-update_oval_v1_20230706.tar.gz",
            Some(Compression::Gzip),
        ),
        ("redhat/repository-to-cpe.json.xz", Some(Compression::Xz)),
        (
            "redhat/vex/vuls-data-update_csaf_vex_2024-08-04.subset.tar.zst",
            Some(Compression::Zstd),
        ),
        (
            "osv/rocky/vuls-data-update_rocky-osv-all.zip",
            Some(Compression::Zip),
        ),
        ("osv/rocky/vunnel_RLSA-2021_3891.json", None),
        ("alpine/alpine-secdb-yaml-2020-06/v3.9_main.yaml", None),
    ];
    for (rel, want) in cases {
        assert_eq!(sniff(&head(rel)), want, "{rel}");
    }
    assert_eq!(sniff(b""), None);
    assert_eq!(sniff(b"BZh"), None);
}

#[test]
fn decompresses_real_files() {
    // xz: Red Hat's repository-to-CPE map, 2 MB raw.
    let json = inflate("redhat/repository-to-cpe.json.xz");
    assert!(json.len() > 1_000_000);
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert!(v["data"].as_object().unwrap().len() > 1000);

    // bzip2 and gzip.
    let xml = inflate("debian/oval/vuls-data-update_oval-definitions-bullseye.truncated.xml.bz2");
    assert!(xml.starts_with(b"<?xml"));
    let usn = inflate("ubuntu/usn/vuls-data-update_usndb-database-all.truncated.json.bz2");
    assert!(
        serde_json::from_slice::<serde_json::Value>(&usn)
            .unwrap()
            .is_object()
    );

    // zstd / gzip tar: the inner stream is a tar.
    for rel in [
        "redhat/vex/vuls-data-update_csaf_vex_2024-08-04.subset.tar.zst",
        "debian/security-tracker-excerpts/vuls-data-update_security-tracker-master.truncated.tar.gz",
    ] {
        let mut r = decompressed(File::open(format!("{DATA}/{rel}")).unwrap()).unwrap();
        let (kind, _) = sniff_reader(&mut r).unwrap();
        assert_eq!(kind, Some(Compression::Tar), "{rel}");
    }
    let mut tar = tar::Archive::new(
        decompressed(
            File::open(format!(
                "{DATA}/redhat/vex/vuls-data-update_csaf_vex_2024-08-04.subset.tar.zst"
            ))
            .unwrap(),
        )
        .unwrap(),
    );
    let json_entries = tar
        .entries()
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .unwrap()
                .to_string_lossy()
                .ends_with(".json")
        })
        .count();
    assert_eq!(json_entries, 5);

    // Plain input passes through unchanged; zip is refused.
    let plain = inflate("osv/rocky/vunnel_RLSA-2024_3671.json");
    assert_eq!(
        plain,
        std::fs::read(format!("{DATA}/osv/rocky/vunnel_RLSA-2024_3671.json")).unwrap()
    );
    assert!(
        decompressed(
            File::open(format!(
                "{DATA}/osv/rocky/vuls-data-update_rocky-osv-all.zip"
            ))
            .unwrap()
        )
        .is_err()
    );
}
