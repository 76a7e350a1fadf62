//! `patchwatch repos sync` against a local HTTP server serving the real
//! bookworm-security and Alpine v3.21 indexes of `../shared/data`:
//! conditional requests, and a truncated download that keeps the snapshot.

mod common;
#[path = "../../vulndb/tests/common/http.rs"]
mod http;

use common::Env;
use http::{Route, TestServer};
use patchwatch_fleet::shared_data_dir;

const LISTS: &str = "debian/apt-lists/deb.debian.org_debian-security_dists_bookworm-security";
const PACKAGES: &str = "/debian-security/dists/bookworm-security/main/binary-amd64/Packages.xz";
const IN_RELEASE: &str = "/debian-security/dists/bookworm-security/InRelease";

fn data(rel: &str) -> Vec<u8> {
    std::fs::read(shared_data_dir().join(rel)).unwrap()
}

fn document(body: Vec<u8>, etag: &str) -> Route {
    Route::Document {
        body,
        etag: Some(etag.into()),
        last_modified: None,
    }
}

fn sync(env: &Env, args: &[&str]) -> std::process::Output {
    let mut cmd = env.cmd(args);
    for v in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        cmd.env_remove(v);
    }
    cmd.output().unwrap()
}

#[test]
fn sync_downloads_conditionally_and_keeps_the_snapshot_on_a_bad_download() {
    let server = TestServer::start();
    server.set(
        IN_RELEASE,
        document(data(&format!("{LISTS}_InRelease")), "\"r1\""),
    );
    let packages = data(&format!("{LISTS}_main_binary-amd64_Packages.xz"));
    server.set(PACKAGES, document(packages.clone(), "\"p1\""));
    server.set(
        "/alpine/v3.21/main/x86_64/APKINDEX.tar.gz",
        document(
            data("repos/alpine/v3.21/main/x86_64/APKINDEX.tar.gz"),
            "\"a1\"",
        ),
    );

    let env = Env::new();
    env.ok(&[
        "repos",
        "add",
        "bookworm-security",
        "--kind",
        "apt",
        "--source",
        &server.url("/debian-security"),
        "--suite",
        "bookworm-security",
    ]);
    env.ok(&[
        "repos",
        "add",
        "alpine-main",
        "--kind",
        "apk",
        "--source",
        &server.url("/alpine/v3.21/main"),
    ]);
    let out = sync(&env, &["repos", "sync"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("bookworm-security: imported snapshot #1"),
        "{text}"
    );
    assert!(text.contains("alpine-main: imported snapshot #1"), "{text}");

    // Nothing changed: the server answers 304 to the conditional request.
    let out = sync(&env, &["repos", "sync", "bookworm-security"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("bookworm-security: not modified"), "{text}");
    assert_eq!(
        server.last_request().header("if-none-match"),
        Some("\"r1\"")
    );

    // A new Release whose index download is cut short: refused, recorded,
    // and the current snapshot stays.
    server.set(
        IN_RELEASE,
        document(data(&format!("{LISTS}_InRelease")), "\"r2\""),
    );
    server.set(
        PACKAGES,
        Route::Truncated {
            body: packages[..packages.len() / 2].to_vec(),
            claimed: packages.len(),
        },
    );
    let out = sync(&env, &["repos", "sync", "bookworm-security"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAILED") && text.contains("current snapshot is unchanged"),
        "{text}"
    );
    let shown = env.json(&["repos", "show", "bookworm-security"]);
    assert_eq!(shown["current"]["number"], 1, "{shown}");
    assert!(
        shown["sync"]["error"]
            .as_str()
            .unwrap()
            .contains("Packages.xz"),
        "{shown}"
    );
}
