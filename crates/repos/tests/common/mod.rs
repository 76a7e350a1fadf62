//! Shared by the integration tests: the real repository data (the bookworm
//! indexes read through the library, the rpm-md and apk files) and the
//! external reference tools.
#![allow(dead_code)]

use std::path::PathBuf;

use patchwatch_repos::RepoSnapshot;
use patchwatch_repos::apt::import_dist;

/// A file or directory of the shared data set, by its path inside it.
pub fn data(rel: &str) -> PathBuf {
    patchwatch_fleet::shared_data_dir().join(rel)
}

pub const APPSTREAM: &str = "repos/centos-stream-9/appstream-x86_64-2025-01-13";
pub const BASEOS: &str = "repos/centos-stream-9/baseos-x86_64-2022-02-07";
pub const OPENSUSE: &str = "repos/opensuse-11.0/update-2008-10-23";

#[allow(unused_imports)]
pub use patchwatch_fleet::apt::{SUITES, apt_lists, in_lists};

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
    tool_available(found, tool)
}

/// Under `CI=true` a missing tool fails the test; elsewhere it is skipped
/// with a notice. Returns whether the test may go on.
pub fn tool_available(ok: bool, what: &str) -> bool {
    if ok {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{what} is missing (.ci/deps/repos*.sh install it)");
    }
    eprintln!("SKIPPED: {what} is missing (.ci/deps/repos*.sh install it)");
    false
}
