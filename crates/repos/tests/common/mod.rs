//! Shared test helpers: the real repository data and external tools.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn data(rel: &str) -> PathBuf {
    let root = std::env::var("PATCHWATCH_SHARED_DATA").map_or_else(
        |_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
        PathBuf::from,
    );
    root.join(rel)
}

pub const APPSTREAM: &str = "repos/centos-stream-9/appstream-x86_64-2025-01-13";
pub const BASEOS: &str = "repos/centos-stream-9/baseos-x86_64-2022-02-07";
pub const OPENSUSE: &str = "repos/opensuse-11.0/update-2008-10-23";

/// Under `CI=true` a missing tool fails the test; elsewhere it is skipped
/// with a notice. Returns whether the test may go on.
pub fn tool_available(ok: bool, what: &str) -> bool {
    if ok {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{what} is missing (install it with .ci/deps/repos-rpm.sh)");
    }
    eprintln!("SKIPPED: {what} is missing (install it with .ci/deps/repos-rpm.sh)");
    false
}
