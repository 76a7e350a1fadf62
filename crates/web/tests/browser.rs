//! The web UI in a real browser: Debian's headless Chromium driven over
//! WebDriver (chromedriver on a free loopback port) with fantoccini. Logs
//! in, filters hosts, opens a host, excepts a finding, sees it listed
//! apart, visits the dashboard and fleet pages, logs out; screenshots go
//! to target/screenshots/, and axe-core
//! (from npm, see .ci/deps/web.sh) checks every page for serious or
//! critical accessibility violations.
//!
//! Without chromium/chromedriver (or axe-core) the test skips with a
//! notice, except under CI=true, where it fails.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use patchwatch_store::FeedKind;
use serde_json::{Value, json};

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// `Some(path)` when present; a missing tool fails under CI.
fn required(what: &str, found: Option<PathBuf>) -> Option<PathBuf> {
    if found.is_none() {
        assert!(
            !in_ci(),
            "{what} is missing (install it with .ci/deps/web.sh)"
        );
        eprintln!("notice: skipping the browser test: {what} is missing (.ci/deps/web.sh)");
    }
    found
}

fn on_path(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
    })
}

fn axe_path() -> PathBuf {
    let dir = std::env::var_os("PATCHWATCH_WEB_DEPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/local/share/patchwatch-web"));
    dir.join("node_modules/axe-core/axe.min.js")
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// chromedriver, ended when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn browser(chromedriver: &PathBuf) -> (Driver, Client) {
    let port = free_port();
    let driver = Driver(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,1000"] }),
    );
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                // axe-core on a long page (a host's packages) takes more
                // than chromedriver's default 30 s on a loaded machine.
                let long = TimeoutConfiguration::new(Some(Duration::from_secs(300)), None, None);
                client.update_timeouts(long).await.expect("set timeouts");
                return (driver, client);
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("chromedriver did not answer on {url}");
}

/// Serious and critical axe-core violations on the current page.
async fn axe_violations(c: &Client, axe: &str) -> Vec<String> {
    c.execute(axe, vec![]).await.expect("inject axe-core");
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then(r => done(
               r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ': ' + v.help + ' at ' +
                      v.nodes.map(n => n.target.join(' ')).join(', '))));",
            vec![],
        )
        .await
        .expect("run axe-core");
    match found {
        Value::Array(list) => list.iter().map(|v| v.to_string()).collect(),
        other => panic!("axe-core answered {other}"),
    }
}

async fn check_page(c: &Client, axe: Option<&str>, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshots_dir().join(format!("{name}.png")), png).unwrap();
    if let Some(axe) = axe {
        let violations = axe_violations(c, axe).await;
        assert!(violations.is_empty(), "{name}: {violations:#?}");
    }
}

/// Waits for a navigation (a click does not wait for the next page).
async fn wait_for_path(c: &Client, path: &str) {
    for _ in 0..100 {
        let url = c.current_url().await.unwrap();
        if url.path() == path
            && c.execute("return document.readyState", vec![])
                .await
                .unwrap()
                == "complete"
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "never reached {path}; at {}",
        c.current_url().await.unwrap()
    );
}

async fn source(c: &Client) -> String {
    c.source().await.expect("page source")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_triager_excepts_a_finding_in_a_real_browser() {
    let Some(chromedriver) = required("chromedriver (chromium-driver)", on_path("chromedriver"))
    else {
        return;
    };
    if required("chromium", on_path("chromium")).is_none() {
        return;
    }
    let axe_file = axe_path();
    let axe = match std::fs::read_to_string(&axe_file) {
        Ok(js) => Some(js),
        Err(e) => {
            assert!(!in_ci(), "axe-core: {}: {e}", axe_file.display());
            eprintln!(
                "notice: no accessibility checks: {}: {e}",
                axe_file.display()
            );
            None
        }
    };
    let axe = axe.as_deref();

    let s = common::start().await;
    let id = s.report(&s.ingest, &common::alma_report("SITE", 6)).await;
    let other = s
        .report(&s.other_ingest, &common::alma_report("OTHER", 7))
        .await;
    s.import(
        "alma",
        FeedKind::Osv,
        "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz",
    )
    .await;
    let (_driver, c) = browser(&chromedriver).await;

    // Log in.
    c.goto(&format!("{}/hosts", s.base)).await.unwrap();
    assert!(c.current_url().await.unwrap().path() == "/login");
    check_page(&c, axe, "login").await;
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys("site")
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(common::PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("form.login button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(&c, "/hosts").await;
    check_page(&c, axe, "hosts").await;

    // Filter by site and CVE with the form: the URL holds the filters.
    c.find(Locator::Id("f-site"))
        .await
        .unwrap()
        .send_keys("SITE")
        .await
        .unwrap();
    c.find(Locator::Id("f-cve"))
        .await
        .unwrap()
        .send_keys("CVE-2024-12797")
        .await
        .unwrap();
    c.find(Locator::Css("form.filters button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for _ in 0..100 {
        if c.current_url().await.unwrap().query().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for_path(&c, "/hosts").await;
    let url = c.current_url().await.unwrap();
    assert!(url.query().unwrap().contains("cve=CVE-2024-12797"), "{url}");
    let list = source(&c).await;
    assert!(list.contains(&format!("href=\"/hosts/{id}\"")), "{list}");
    assert!(!list.contains(&format!("href=\"/hosts/{other}\"")));

    // Open the host; its finding has an explanation.
    c.find(Locator::Css(&format!("a[href='/hosts/{id}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(&c, &format!("/hosts/{id}")).await;
    check_page(&c, axe, "host").await;
    let row = c
        .find(Locator::XPath(
            "//tr[td[1][starts-with(normalize-space(.), 'CVE-2024-12797')] and td[3] = 'openssl-libs']",
        ))
        .await
        .expect("the openssl-libs finding");
    row.find(Locator::Css("td:nth-child(6) summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let why = row
        .find(Locator::Css("td:nth-child(6) details"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(why.contains("rpm ordering"), "{why}");

    // Except it; it is listed apart.
    row.find(Locator::Css("td:last-child summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    row.find(Locator::Css("input[name=reason]"))
        .await
        .unwrap()
        .send_keys("mitigated by configuration")
        .await
        .unwrap();
    row.find(Locator::Css("td:last-child button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let mut host = String::new();
    for _ in 0..100 {
        host = source(&c).await;
        if host.contains("Excepted (1)") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(host.contains("Excepted (1)"), "listed apart");
    assert!(host.contains("mitigated by configuration (by user:site"));
    check_page(&c, axe, "host-excepted").await;

    c.goto(&format!("{}/exceptions", s.base)).await.unwrap();
    assert!(source(&c).await.contains("mitigated by configuration"));
    check_page(&c, axe, "exceptions").await;

    c.goto(&format!("{}/cves", s.base)).await.unwrap();
    assert!(source(&c).await.contains("CVE-2024-12797"));
    check_page(&c, axe, "cves").await;
    c.goto(&format!("{}/cves/CVE-2024-12797", s.base))
        .await
        .unwrap();
    assert!(source(&c).await.contains("Excepted (1)"));
    check_page(&c, axe, "cve").await;

    // The dashboard and the fleet pages.
    for (path, name, shows) in [
        ("/", "dashboard", "Exposed hosts per day"),
        ("/sites", "sites", "/sites/SITE"),
        ("/sites/SITE", "site", "Hosts by state"),
        ("/groups", "groups", "Site groups"),
        ("/os", "os", "almalinux"),
        ("/feeds", "feeds", "alma"),
        ("/repos", "repos", "No repository is configured"),
        ("/packages", "packages", "Package name"),
        ("/packages/openssl-libs", "package", "Installed versions"),
    ] {
        c.goto(&format!("{}{path}", s.base)).await.unwrap();
        let page = source(&c).await;
        assert!(page.contains(shows), "{path}: {page}");
        check_page(&c, axe, name).await;
    }

    // A bad filter is a readable page, not a crash.
    c.goto(&format!("{}/hosts?page=0", s.base)).await.unwrap();
    assert!(source(&c).await.contains("400 Bad Request"));
    check_page(&c, axe, "bad-request").await;

    // Log out: back to the login page, and the session is gone.
    c.goto(&format!("{}/hosts", s.base)).await.unwrap();
    c.find(Locator::Css("header form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(&c, "/login").await;
    c.goto(&format!("{}/hosts/{id}", s.base)).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/login");
    c.close().await.unwrap();
}

/// chromedriver and axe-core, or None (skip) outside CI when missing.
fn browser_tools() -> Option<(PathBuf, Option<String>)> {
    let chromedriver = required("chromedriver (chromium-driver)", on_path("chromedriver"))?;
    required("chromium", on_path("chromium"))?;
    let axe_file = axe_path();
    let axe = match std::fs::read_to_string(&axe_file) {
        Ok(js) => Some(js),
        Err(e) => {
            assert!(!in_ci(), "axe-core: {}: {e}", axe_file.display());
            eprintln!(
                "notice: no accessibility checks: {}: {e}",
                axe_file.display()
            );
            None
        }
    };
    Some((chromedriver, axe))
}

/// Logs in through the form and waits for the hosts list.
async fn log_in(c: &Client, base: &str, user: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    for (id, value) in [("username", user), ("password", common::PASSWORD)] {
        c.find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    c.find(Locator::Css("form.login button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(c, "/hosts").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sorts_hosts_tags_cves_and_makes_a_token_in_a_real_browser() {
    let Some((chromedriver, axe)) = browser_tools() else {
        return;
    };
    let axe = axe.as_deref();
    let s = common::start().await;
    for i in 10..13 {
        s.report(&s.ingest, &common::alma_report("SITE", i)).await;
    }
    s.import(
        "alma",
        FeedKind::Osv,
        "osv/almalinux/AlmaLinux-osv-database-advisories.tar.xz",
    )
    .await;
    let (_driver, c) = browser(&chromedriver).await;
    log_in(&c, &s.base, "admin").await;

    // Sort by clicking the column header, twice for the other direction.
    c.find(Locator::LinkText("Host"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for _ in 0..2 {
        for _ in 0..100 {
            if c.current_url().await.unwrap().query().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        wait_for_path(&c, "/hosts").await;
        if source(&c).await.contains("aria-sort=\"descending\"") {
            break;
        }
        c.find(Locator::LinkText("Host"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let url = c.current_url().await.unwrap();
    assert_eq!(url.query(), Some("sort=hostname&order=desc"), "{url}");
    let list = source(&c).await;
    let first = list.find("node000012").expect("node000012 listed");
    assert!(first < list.find("node000010").unwrap(), "descending");
    check_page(&c, axe, "hosts-sorted").await;

    // Tag a CVE on the tags page; the hosts list filters by the tag.
    c.goto(&format!("{}/tags", s.base)).await.unwrap();
    c.find(Locator::Id("n-name"))
        .await
        .unwrap()
        .send_keys("urgent")
        .await
        .unwrap();
    c.find(Locator::Css("form[aria-label='Create a tag'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    wait_for_path(&c, "/tags").await;
    c.find(Locator::XPath(
        "//select[@id='a-tag']/option[text()='urgent']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.find(Locator::Id("a-cve"))
        .await
        .unwrap()
        .send_keys("CVE-2024-12797")
        .await
        .unwrap();
    c.find(Locator::Css("form[aria-label='Tag a CVE'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let mut tags = String::new();
    for _ in 0..100 {
        tags = source(&c).await;
        if tags.contains("href=\"/cves/CVE-2024-12797\"") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(tags.contains("href=\"/cves/CVE-2024-12797\""), "{tags}");
    check_page(&c, axe, "tags").await;
    c.goto(&format!("{}/hosts?cve_tag=urgent", s.base))
        .await
        .unwrap();
    let tagged = source(&c).await;
    assert!(tagged.contains("Hosts 1 to 3 of 3."), "{tagged}");

    // Administration: users, then a token whose secret shows once.
    c.goto(&format!("{}/admin/users", s.base)).await.unwrap();
    assert!(source(&c).await.contains("admin everywhere"));
    check_page(&c, axe, "admin-users").await;
    c.goto(&format!("{}/admin/tokens", s.base)).await.unwrap();
    c.find(Locator::Id("t-name"))
        .await
        .unwrap()
        .send_keys("monitoring")
        .await
        .unwrap();
    c.find(Locator::Css(
        "form[aria-label='Create an API token'] button",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let mut created = String::new();
    for _ in 0..100 {
        created = source(&c).await;
        if created.contains("class=\"secret\"") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(created.contains("shown only this once"), "{created}");
    check_page(&c, axe, "admin-token-created").await;
    c.goto(&format!("{}/admin/tokens", s.base)).await.unwrap();
    let listed = source(&c).await;
    assert!(listed.contains("monitoring") && !listed.contains("class=\"secret\""));
    check_page(&c, axe, "admin-tokens").await;
    c.close().await.unwrap();
}
