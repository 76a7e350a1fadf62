//! `patchwatch feeds sync | catalogue | enable | disable` against a local
//! HTTP server serving the real vendor documents in `../shared/data`, and
//! through an HTTP proxy taken from the environment.

mod common;
#[path = "../../vulndb/tests/common/http.rs"]
mod http;

use std::process::Output;

use common::Env;
use http::{Route, TestServer};
use patchwatch_fleet::shared_data_dir;
use serde_json::Value;

const ALMA_ZIP: &str = "osv/almalinux/vuls-data-update_alma-osv-all.zip";
const ALMA_TAR_XZ: &str = "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz";

const PROXY_VARS: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

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

/// Runs the CLI with no proxy settings but `proxy` (name, value) pairs.
fn run(env: &Env, args: &[&str], proxy: &[(&str, &str)]) -> Output {
    let mut cmd = env.cmd(args);
    for v in PROXY_VARS {
        cmd.env_remove(v);
    }
    for (k, v) in proxy {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn feed_json(env: &Env, name: &str) -> Value {
    let list = env.json(&["feeds", "list"]);
    list.as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("feed {name} listed: {list}"))
        .clone()
}

#[test]
fn catalogue_enable_and_disable() {
    let env = Env::new();
    let cat = env.json(&["feeds", "catalogue"]);
    let alma = cat
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "almalinux-osv")
        .expect("AlmaLinux in the catalogue")
        .clone();
    assert_eq!(
        alma["url"],
        "https://osv-vulnerabilities.storage.googleapis.com/AlmaLinux/all.zip"
    );
    assert_eq!(alma["kind"], "osv");
    assert_eq!(alma["feed"], Value::Null, "nothing is added until enabled");
    assert!(env.json(&["feeds", "list"]).as_array().unwrap().is_empty());

    let out = env.ok(&["feeds", "enable", "almalinux-osv"]);
    assert!(out.contains("Added feed almalinux-osv (osv)"), "{out}");
    let out = env.ok(&["feeds", "enable", "debian-tracker", "--name", "debian"]);
    assert!(out.contains("Added feed debian (debian-tracker)"), "{out}");
    let err = env.fails(&["feeds", "enable", "debian-tracker", "--name", "again"]);
    assert!(err.contains("already feed \"debian\""), "{err}");
    let err = env.fails(&["feeds", "enable", "no-such-entry"]);
    assert!(err.contains("no feed or catalogue entry"), "{err}");

    let table = env.ok(&["feeds", "catalogue"]);
    let line = table
        .lines()
        .find(|l| l.starts_with("debian-tracker "))
        .unwrap();
    assert!(line.contains(" debian "), "{line}");
    let feed = feed_json(&env, "almalinux-osv");
    assert_eq!(feed["enabled"], true);
    assert_eq!(feed["sync"]["synced_at"], Value::Null);

    // Disabled feeds are neither synced nor assessed; enabling by name
    // brings one back.
    env.ok(&["feeds", "disable", "almalinux-osv"]);
    env.ok(&["feeds", "disable", "debian"]);
    assert_eq!(feed_json(&env, "almalinux-osv")["enabled"], false);
    let out = run(&env, &["feeds", "sync", "--json"], &[]);
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim(), "[]", "nothing enabled to sync");
    assert!(
        env.ok(&["feeds", "list"])
            .lines()
            .any(|l| l.starts_with("debian ") && l.contains("disabled"))
    );
    let out = env.ok(&["feeds", "enable", "debian"]);
    assert!(out.contains("Enabled feed debian."), "{out}");
    assert_eq!(feed_json(&env, "debian")["enabled"], true);
    env.fails(&["feeds", "disable", "nope"]);
}

#[test]
fn sync_imports_then_not_modified_and_failures_exit_non_zero() {
    let env = Env::new();
    let server = TestServer::start();
    server.set("/AlmaLinux/all.zip", document(data(ALMA_ZIP), "\"a1\""));
    server.set("/broken.zip", Route::Status(500));
    env.ok(&[
        "feeds",
        "add",
        "alma",
        "--kind",
        "osv",
        "--source",
        &server.url("/AlmaLinux/all.zip"),
    ]);

    let out = run(&env, &["feeds", "sync", "--json"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results[0]["feed"], "alma");
    assert_eq!(results[0]["outcome"], "imported");
    let generation = results[0]["generation"]["id"].clone();
    assert!(results[0]["generation"]["advisories"].as_i64().unwrap() > 0);

    let out = run(&env, &["feeds", "sync"], &[]);
    assert!(out.status.success());
    assert_eq!(
        stdout(&out).trim(),
        "Feed alma: not modified since the last sync."
    );
    assert_eq!(
        server.last_request().header("If-None-Match"),
        Some("\"a1\"")
    );
    let feed = feed_json(&env, "alma");
    assert_eq!(feed["sync"]["etag"], "\"a1\"");
    assert!(feed["sync"]["synced_at"].is_string());

    // One failing feed: its line says so, the others still sync, and the
    // exit code is non-zero.
    env.ok(&[
        "feeds",
        "add",
        "broken",
        "--kind",
        "osv",
        "--source",
        &server.url("/broken.zip"),
    ]);
    let out = run(&env, &["feeds", "sync"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("Feed alma: not modified"), "{text}");
    assert!(
        text.contains("Feed broken: FAILED: GET http://") && text.contains("HTTP 500"),
        "{text}"
    );
    assert_eq!(
        feed_json(&env, "broken")["sync"]["error"]
            .as_str()
            .map(|e| e.contains("HTTP 500")),
        Some(true)
    );
    assert!(
        env.ok(&["feeds", "list"])
            .lines()
            .any(|l| l.trim_start().starts_with("broken: ") && l.contains("HTTP 500"))
    );

    // Named feeds only; a truncated download keeps the generation.
    let whole = data(ALMA_TAR_XZ);
    server.set(
        "/AlmaLinux/all.zip",
        Route::Truncated {
            body: whole[..whole.len() / 3].to_vec(),
            claimed: whole.len(),
        },
    );
    // (This route ignores the validators, as a server that changed the
    // document would, and cuts the body short.)
    let out = run(&env, &["feeds", "sync", "alma"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.starts_with("Feed alma: FAILED:") && text.contains("stays current"),
        "{text}"
    );
    assert!(!text.contains("broken"), "only the named feed: {text}");
    let feed = feed_json(&env, "alma");
    assert_eq!(feed["current"]["id"], generation);
    assert_eq!(feed["generations"], 1);
    assert!(feed["sync"]["error"].is_string());
    assert_eq!(feed["sync"]["etag"], "\"a1\"");
    let err =
        String::from_utf8_lossy(&run(&env, &["feeds", "sync", "nope"], &[]).stderr).into_owned();
    assert!(err.contains("no feed named \"nope\""), "{err}");
}

#[test]
fn sync_goes_through_the_proxy_from_the_environment() {
    let env = Env::new();
    // The proxy answers absolute-form requests itself.
    let proxy = TestServer::start();
    proxy.set("/AlmaLinux/all.zip", document(data(ALMA_ZIP), "\"p1\""));
    let vendor = "http://feeds.example.invalid/AlmaLinux/all.zip";
    env.ok(&["feeds", "add", "alma", "--kind", "osv", "--source", vendor]);
    let proxy_url = format!("http://{}", proxy.addr);

    // Without the proxy the name does not even resolve.
    let out = run(&env, &["feeds", "sync"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(proxy.requests().is_empty());

    let out = run(&env, &["feeds", "sync"], &[("HTTP_PROXY", &proxy_url)]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("Feed alma: imported generation"));
    let req = proxy.last_request();
    assert_eq!(req.method, "GET");
    assert_eq!(req.target, vendor, "absolute-form request to the proxy");
    assert_eq!(req.header("Host"), Some("feeds.example.invalid"));

    // The lowercase spelling works too, and NO_PROXY bypasses it.
    let out = run(&env, &["feeds", "sync"], &[("http_proxy", &proxy_url)]);
    assert!(stdout(&out).contains("not modified"), "{}", stdout(&out));
    assert_eq!(proxy.requests().len(), 2);
    let direct = TestServer::start();
    direct.set("/all.zip", document(data(ALMA_ZIP), "\"d1\""));
    env.ok(&[
        "feeds",
        "add",
        "direct",
        "--kind",
        "osv",
        "--source",
        &direct.url("/all.zip"),
    ]);
    let out = run(
        &env,
        &["feeds", "sync", "direct"],
        &[("HTTP_PROXY", &proxy_url), ("NO_PROXY", "127.0.0.1")],
    );
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(proxy.requests().len(), 2, "NO_PROXY host not proxied");
    assert_eq!(direct.last_request().target, "/all.zip");
}
