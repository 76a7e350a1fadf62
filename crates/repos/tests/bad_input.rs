//! Bad apt input gets a precise error naming the file, never a snapshot.

mod common;

use std::path::Path;

use patchwatch_repos::RepoError;
use patchwatch_repos::apt::{Expected, import_dist, read_packages};

use common::{apt_lists, in_lists};

const PREFIX: &str = "deb.debian.org_debian-security_dists_bookworm-security";
const INDEX: &str = "main/binary-amd64/Packages.xz";

/// A copy of the bookworm-security lists in `dir`, with `index` as the
/// Packages.xz (or none).
fn layout(dir: &Path, release: &str, index: Option<&[u8]>) {
    std::fs::write(dir.join(format!("{PREFIX}_InRelease")), release).unwrap();
    if let Some(bytes) = index {
        std::fs::write(in_lists(dir, PREFIX, INDEX), bytes).unwrap();
    }
}

fn import(dir: &Path) -> Result<patchwatch_repos::RepoSnapshot, RepoError> {
    import_dist(
        &dir.join(format!("{PREFIX}_InRelease")),
        &["main"],
        "amd64",
        |listed| in_lists(dir, PREFIX, listed),
    )
}

fn real_release() -> String {
    std::fs::read_to_string(apt_lists().join(format!("{PREFIX}_InRelease"))).unwrap()
}

fn real_index() -> Vec<u8> {
    std::fs::read(in_lists(&apt_lists(), PREFIX, INDEX)).unwrap()
}

#[test]
fn the_real_security_index_imports() {
    let dir = tempfile::tempdir().unwrap();
    layout(dir.path(), &real_release(), Some(&real_index()));
    let snapshot = import(dir.path()).unwrap();
    assert_eq!(snapshot.packages.len(), 3_003);
    assert_eq!(snapshot.meta.suite, "oldstable-security");
    assert_eq!(snapshot.meta.codename, "bookworm-security");
    assert_eq!(snapshot.meta.date, "2026-11-18T22:17:41Z");
}

#[test]
fn truncated_xz_is_a_corrupt_error_even_without_checksums() {
    let index = real_index();
    let cut = &index[..index.len() / 2];
    let err = read_packages("Packages.xz", cut, Expected::default()).unwrap_err();
    assert!(matches!(err, RepoError::Corrupt { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("Packages.xz: corrupt or truncated"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    layout(dir.path(), &real_release(), Some(cut));
    let err = import(dir.path()).unwrap_err();
    assert!(matches!(err, RepoError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("Packages.xz"), "{err}");
}

#[test]
fn damaged_xz_is_a_corrupt_error() {
    let mut index = real_index();
    let middle = index.len() / 2;
    for b in &mut index[middle..middle + 64] {
        *b ^= 0x5a;
    }
    let err = read_packages("Packages.xz", &index[..], Expected::default()).unwrap_err();
    assert!(matches!(err, RepoError::Corrupt { .. }), "{err}");
}

#[test]
fn truncated_gzip_is_a_corrupt_error() {
    use std::io::{Read, Write};
    let mut text = Vec::new();
    xz2::read::XzDecoder::new(&real_index()[..])
        .read_to_end(&mut text)
        .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&text).unwrap();
    let gz = gz.finish().unwrap();
    let whole = read_packages("Packages.gz", &gz[..], Expected::default()).unwrap();
    assert_eq!(whole.len(), 3_003);
    let err = read_packages("Packages.gz", &gz[..gz.len() - 100], Expected::default()).unwrap_err();
    assert!(matches!(err, RepoError::Corrupt { .. }), "{err}");
}

#[test]
fn wrong_checksum_is_a_checksum_error() {
    // The index of another suite under this suite's Release.
    let other = std::fs::read(in_lists(
        &apt_lists(),
        "deb.debian.org_debian_dists_bookworm-updates",
        INDEX,
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    layout(dir.path(), &real_release(), Some(&other));
    let err = import(dir.path()).unwrap_err();
    let RepoError::Checksum {
        expected, actual, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert!(expected.starts_with("8185a31dad942e3e"), "{err}");
    assert!(actual.contains("32757 bytes"), "{err}");
}

#[test]
fn release_naming_a_missing_file_is_a_missing_error() {
    let dir = tempfile::tempdir().unwrap();
    layout(dir.path(), &real_release(), None);
    let err = import(dir.path()).unwrap_err();
    let RepoError::Missing { file, listed_by } = &err else {
        panic!("{err}")
    };
    assert!(file.ends_with("main_binary-amd64_Packages.xz"), "{err}");
    assert!(listed_by.ends_with("_InRelease"), "{err}");
}

#[test]
fn component_the_release_does_not_list_is_named() {
    let dir = tempfile::tempdir().unwrap();
    layout(dir.path(), &real_release(), Some(&real_index()));
    let err = import_dist(
        &dir.path().join(format!("{PREFIX}_InRelease")),
        &["main", "nonexistent"],
        "amd64",
        |listed| in_lists(dir.path(), PREFIX, listed),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("lists no nonexistent/binary-amd64/Packages index"),
        "{err}"
    );
}

#[test]
fn flat_repository_without_components() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Package: tool\nVersion: 1.0\nArchitecture: all\n";
    std::fs::write(dir.path().join("Packages"), text).unwrap();
    let sum = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    };
    std::fs::write(
        dir.path().join("Release"),
        format!(
            "Origin: site\nSuite: ./\nSHA256:\n {sum} {} Packages\n",
            text.len()
        ),
    )
    .unwrap();
    let snapshot = import_dist(&dir.path().join("Release"), &[""], "amd64", |listed| {
        dir.path().join(listed)
    })
    .unwrap();
    assert_eq!(snapshot.packages.len(), 1);
    assert!(snapshot.meta.components.is_empty());
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn binary_all_index_is_read_where_the_release_has_one() {
    let dir = tempfile::tempdir().unwrap();
    let amd64 = "Package: tool\nVersion: 1.0\nArchitecture: amd64\n";
    let all = "Package: docs\nVersion: 2.0\nArchitecture: all\n";
    for (sub, text) in [("main/binary-amd64", amd64), ("main/binary-all", all)] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        std::fs::write(dir.path().join(sub).join("Packages"), text).unwrap();
    }
    let release = |extra: &str| {
        format!(
            "Suite: site\nArchitectures: all amd64\n{extra}SHA256:\n {} {} main/binary-amd64/Packages\n {} {} main/binary-all/Packages\n",
            sha256(amd64.as_bytes()),
            amd64.len(),
            sha256(all.as_bytes()),
            all.len()
        )
    };
    let names = |extra: &str| {
        std::fs::write(dir.path().join("Release"), release(extra)).unwrap();
        let s = import_dist(&dir.path().join("Release"), &["main"], "amd64", |listed| {
            dir.path().join(listed)
        })
        .unwrap();
        s.packages
            .iter()
            .map(|p| p.package.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(""), ["tool", "docs"]);
    assert_eq!(
        names("No-Support-for-Architecture-all: Packages\n"),
        ["tool"]
    );
}

/// Cut anywhere, a real index never panics the reader: it parses or it
/// names the problem.
#[test]
fn every_prefix_of_a_real_index_parses_or_errs() {
    use std::io::Read;
    let mut text = Vec::new();
    xz2::read::XzDecoder::new(&real_index()[..])
        .read_to_end(&mut text)
        .unwrap();
    let head = &text[..40_000];
    for cut in (0..head.len()).step_by(97) {
        let _ = read_packages("Packages", &head[..cut], Expected::default());
    }
    let release = real_release();
    for cut in (0..release.len()).step_by(89) {
        if release.is_char_boundary(cut) {
            let _ = patchwatch_repos::apt::Release::parse("InRelease", &release[..cut]);
        }
    }
}
