//! What the reports crate's tests share.

#![allow(dead_code)]

pub mod mutate;

/// A test that needs `tool` found it missing: under `CI=true` (where
/// `.ci/deps/tools.sh` installs it) that is a failure; elsewhere the test
/// prints a notice and is skipped (the caller returns).
pub fn tool_missing(tool: &str, what_is_skipped: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{tool} is required with CI=true (see .ci/deps/tools.sh); {what_is_skipped} can't run"
        );
    }
    eprintln!("notice: {tool} is not installed; {what_is_skipped} is skipped");
}
