//! Every compression apt repositories ship gives the same packages, and the
//! content checksum of the real InRelease holds for each.

mod common;

use std::io::{Read, Write};

use patchwatch_repos::apt::{Expected, Release, read_packages};

use common::{apt_lists, in_lists};

const PREFIX: &str = "deb.debian.org_debian_dists_bookworm-updates";

#[test]
fn plain_gzip_bzip2_xz_zstd_read_alike_and_verify() {
    let release_path = apt_lists().join(format!("{PREFIX}_InRelease"));
    let release = Release::parse(
        "InRelease",
        &std::fs::read_to_string(&release_path).unwrap(),
    )
    .unwrap();
    let content = release.file("main/binary-amd64/Packages").unwrap();
    let mut text = Vec::new();
    xz2::read::XzDecoder::new(
        std::fs::File::open(in_lists(
            &apt_lists(),
            PREFIX,
            "main/binary-amd64/Packages.xz",
        ))
        .unwrap(),
    )
    .read_to_end(&mut text)
    .unwrap();

    let gzip = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&text).unwrap();
        e.finish().unwrap()
    };
    let bzip2 = {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        e.write_all(&text).unwrap();
        e.finish().unwrap()
    };
    let xz = {
        let mut e = xz2::write::XzEncoder::new(Vec::new(), 6);
        e.write_all(&text).unwrap();
        e.finish().unwrap()
    };
    let zstd = zstd::encode_all(&text[..], 3).unwrap();

    let expected = Expected {
        stored: None,
        content: Some(content),
    };
    let plain = read_packages("Packages", &text[..], expected).unwrap();
    assert_eq!(plain.len(), 38);
    for (name, bytes) in [
        ("Packages.gz", gzip),
        ("Packages.bz2", bzip2),
        ("Packages.xz", xz),
        ("Packages.zst", zstd),
    ] {
        let got = read_packages(name, &bytes[..], expected).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got, plain, "{name}");
    }
}
