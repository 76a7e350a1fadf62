//! Shared by the integration tests: the real bookworm indexes of the shared
//! data set, read through the library.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use patchwatch_repos::RepoSnapshot;
use patchwatch_repos::apt::import_dist;

pub fn data() -> PathBuf {
    patchwatch_fleet::shared_data_dir()
}

pub fn apt_lists() -> PathBuf {
    data().join("debian/apt-lists")
}

/// The three bookworm suites as `(apt lists prefix, suite)`, in
/// sources.list order.
pub const SUITES: [(&str, &str); 3] = [
    ("deb.debian.org_debian_dists_bookworm", "bookworm"),
    (
        "deb.debian.org_debian_dists_bookworm-updates",
        "bookworm-updates",
    ),
    (
        "deb.debian.org_debian-security_dists_bookworm-security",
        "bookworm-security",
    ),
];

/// apt's `lists/` naming: the path under `dists/SUITE` with `/` as `_`.
pub fn in_lists(dir: &Path, prefix: &str, listed: &str) -> PathBuf {
    dir.join(format!("{prefix}_{}", listed.replace('/', "_")))
}

/// One suite read from the shared apt lists (main, amd64).
pub fn suite(prefix: &str) -> RepoSnapshot {
    let dir = apt_lists();
    import_dist(
        &dir.join(format!("{prefix}_InRelease")),
        &["main"],
        "amd64",
        |listed| in_lists(&dir, prefix, listed),
    )
    .unwrap_or_else(|e| panic!("{prefix}: {e}"))
}

/// A required external tool: missing fails under CI=true, else skips with a
/// notice (returns false).
pub fn require_tool(tool: &str) -> bool {
    let found = std::process::Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{tool} is required under CI=true (see .ci/deps/repos.sh)");
        }
        eprintln!("SKIPPED: {tool} not installed");
    }
    found
}
