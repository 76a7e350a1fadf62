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

    // A new Release, listing a new Packages, whose download is cut short:
    // refused, recorded, and the current snapshot stays. (A Release listing
    // the same Packages would not fetch it: see below.)
    let release = String::from_utf8(data(&format!("{LISTS}_InRelease"))).unwrap();
    let listed = release
        .lines()
        .rev()
        .find(|l| l.ends_with(" main/binary-amd64/Packages.xz"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_owned();
    server.set(
        IN_RELEASE,
        document(
            release.replace(&listed, &"0".repeat(64)).into_bytes(),
            "\"r2\"",
        ),
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

const BASEOS: &str = "repos/centos-stream-9/baseos-x86_64-2022-02-07";
const BASEOS_PATH: &str = "9-stream/BaseOS/x86_64/os";

/// Serves the real CentOS Stream 9 BaseOS under `/MIRROR/9-stream/...`.
fn serve_baseos(server: &TestServer, mirror: &str, repomd: Vec<u8>) {
    let dir = shared_data_dir().join(BASEOS).join("repodata");
    server.set(
        &format!("/{mirror}/{BASEOS_PATH}/repodata/repomd.xml"),
        document(repomd, "\"m1\""),
    );
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name != "repomd.xml" {
            server.set(
                &format!("/{mirror}/{BASEOS_PATH}/repodata/{name}"),
                document(data(&format!("{BASEOS}/repodata/{name}")), "\"f1\""),
            );
        }
    }
}

fn requested(server: &TestServer, part: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.target.contains(part))
        .count()
}

#[test]
fn mirrorlists_and_metalinks_are_tried_in_order_and_unchanged_indexes_are_not_fetched() {
    use sha2::{Digest, Sha256};

    let server = TestServer::start();
    let repomd = data(&format!("{BASEOS}/repodata/repomd.xml"));
    // A mirror a push behind serves another repomd.xml: the metalink does
    // not vouch for it. Another mirror is down. The third is good.
    let mut stale = repomd.clone();
    stale.extend_from_slice(b"<!-- an older push -->\n");
    serve_baseos(&server, "stale", stale);
    server.set(
        &format!("/down/{BASEOS_PATH}/repodata/repomd.xml"),
        Route::Status(503),
    );
    serve_baseos(&server, "good", repomd.clone());
    let url = |mirror: &str| server.url(&format!("/{mirror}/{BASEOS_PATH}/repodata/repomd.xml"));
    let metalink = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<metalink version="3.0" xmlns="http://www.metalinker.org/" xmlns:mm0="http://fedorahosted.org/mirrormanager">
 <files>
  <file name="repomd.xml">
   <verification><hash type="md5">0123</hash><hash type="sha256">{}</hash></verification>
   <resources maxconnections="1">
    <url protocol="http" type="http" location="CZ" preference="100">{}</url>
    <url protocol="http" type="http" location="DE" preference="99">{}</url>
    <url protocol="http" type="http" location="AT" preference="98">{}</url>
   </resources>
  </file>
 </files>
</metalink>
"#,
        hex::encode(Sha256::digest(&repomd)),
        url("stale"),
        url("down"),
        url("good")
    );
    let metalink_path = "/metalink?repo=centos-baseos-9-stream&arch=x86_64";
    server.set(metalink_path, document(metalink.into_bytes(), "\"l1\""));
    let mirrorlist = format!(
        "# mirrors of BaseOS\n{}\n{}\n",
        server.url(&format!("/down/{BASEOS_PATH}/")),
        server.url(&format!("/good/{BASEOS_PATH}"))
    );
    server.set(
        "/mirrorlist?repo=BaseOS-9",
        document(mirrorlist.into_bytes(), "\"l2\""),
    );

    let env = Env::new();
    for (name, path) in [
        ("by-metalink", metalink_path),
        ("by-mirrorlist", "/mirrorlist?repo=BaseOS-9"),
    ] {
        env.ok(&[
            "repos",
            "add",
            name,
            "--kind",
            "rpm-md",
            "--source",
            &server.url(path),
        ]);
    }
    let out = sync(&env, &["repos", "sync", "by-metalink"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("by-metalink: imported snapshot #1"), "{text}");
    // Tried in the metalink's order, and only the good mirror's primary
    // was fetched.
    assert_eq!(
        (
            requested(&server, "/stale/"),
            requested(&server, "/down/"),
            requested(&server, "primary")
        ),
        (1, 1, 1)
    );
    let shown = env.json(&["repos", "show", "by-metalink"]);
    assert!(
        shown["current"]["packages"].as_i64().unwrap() > 1000,
        "{shown}"
    );

    let out = sync(&env, &["repos", "sync", "by-mirrorlist"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("by-mirrorlist: imported snapshot #1"),
        "{text}"
    );
    assert_eq!(requested(&server, "primary"), 2);

    // Again: the good mirror's repomd.xml lists the primary the snapshot
    // was read from, with the same checksum: it is not downloaded again.
    let out = sync(&env, &["repos", "sync", "by-metalink", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["outcome"], "indexes-unchanged", "{v}");
    assert!(
        v[0]["reason"]
            .as_str()
            .unwrap()
            .contains("with the same checksums"),
        "{v}"
    );
    assert_eq!(requested(&server, "primary"), 2);

    // No mirror serves it: every one is named in the error, the snapshot
    // stays.
    server.set(
        &format!("/good/{BASEOS_PATH}/repodata/repomd.xml"),
        Route::Status(404),
    );
    let out = sync(&env, &["repos", "sync", "by-metalink"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("none of the 3 mirrors tried")
            && text.contains("does not list")
            && text.contains("current snapshot is unchanged"),
        "{text}"
    );
    let shown = env.json(&["repos", "show", "by-metalink"]);
    assert_eq!(shown["current"]["number"], 1, "{shown}");
}

#[test]
fn a_re_signed_release_with_the_same_indexes_downloads_nothing_else() {
    let server = TestServer::start();
    server.set(
        IN_RELEASE,
        document(data(&format!("{LISTS}_InRelease")), "\"r1\""),
    );
    let packages = data(&format!("{LISTS}_main_binary-amd64_Packages.xz"));
    server.set(PACKAGES, document(packages, "\"p1\""));
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
    let out = sync(&env, &["repos", "sync"]);
    assert!(out.status.success());
    assert_eq!(requested(&server, "Packages"), 1);
    // The archive re-signs its Release (a new ETag, a new Valid-Until)
    // without touching Packages.
    server.set(
        IN_RELEASE,
        document(data(&format!("{LISTS}_InRelease")), "\"r2\""),
    );
    let out = sync(&env, &["repos", "sync"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("bookworm-security: unchanged: InRelease lists the 1 index file(s)"),
        "{text}"
    );
    assert_eq!(requested(&server, "Packages"), 1);
    let shown = env.json(&["repos", "show", "bookworm-security"]);
    assert_eq!(shown["current"]["number"], 1, "{shown}");
    assert!(shown["sync"]["error"].is_null(), "{shown}");
}
