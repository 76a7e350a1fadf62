//! The updates endpoints on the real data: the real Debian 12 host in two
//! sites, the three real bookworm indexes stored as repository snapshots,
//! and a site viewer token that must not see the other site's updates.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestServer, open_config, start};
use patchwatch_auth::{TokenAccess, TokenScope};
use patchwatch_fleet::{Fleet, Image, hosts};
use patchwatch_reports::native;
use patchwatch_store::NewToken;
use patchwatch_updates::testing::BOOKWORM_SUITES;

async fn add_bookworm(s: &TestServer) {
    patchwatch_updates::testing::add_bookworm(s.db.as_ref(), &BOOKWORM_SUITES)
        .await
        .unwrap();
}

async fn get_as(s: &TestServer, token: &str, path: &str) -> common::Reply {
    let req = Request::get(path)
        .header("Authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    s.send(req).await
}

#[tokio::test]
async fn host_and_fleet_updates_within_the_callers_scope() {
    let s = start(open_config()).await;
    let mut ids = Vec::new();
    for (site, token) in [("SITE", &s.ingest), ("OTHER", &s.other_ingest)] {
        let r = s
            .post(token, None, native::to_json(&hosts::debian12(site, 0)))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        ids.push(r.json["host_id"].as_i64().unwrap());
    }

    // No repository yet: an empty list, and it says none applies.
    let none = s.get(&format!("/api/v1/hosts/{}/updates", ids[0])).await;
    assert_eq!(none.status, StatusCode::OK, "{}", none.json);
    assert_eq!(none.json["repositories"], serde_json::json!([]));

    add_bookworm(&s).await;
    let v = s.get(&format!("/api/v1/hosts/{}/updates", ids[0])).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.json);
    assert_eq!(
        (v.json["total"].as_u64(), v.json["security"].as_u64()),
        (Some(132), Some(82))
    );
    assert_eq!(v.json["updates"].as_array().unwrap().len(), 132);
    let sec = s
        .get(&format!("/api/v1/hosts/{}/updates?security=true", ids[0]))
        .await;
    assert_eq!(sec.json["updates"].as_array().unwrap().len(), 82);
    let bad = s
        .get(&format!("/api/v1/hosts/{}/updates?securty=1", ids[0]))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.json);

    let all = s.get("/api/v1/updates").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.json);
    assert_eq!(all.json["hosts_total"], 2);
    assert_eq!(all.json["hosts_with_security_updates"], 2);
    let repos = s.get("/api/v1/repos").await;
    assert_eq!(repos.json["repositories"].as_array().unwrap().len(), 3);

    // A viewer of SITE sees SITE's host only; OTHER's is "not found".
    let site = s.db.site("SITE").await.unwrap().unwrap();
    let t = NewToken::api("viewer", TokenAccess::Read, TokenScope::Site(site.id));
    s.db.add_token(&t).await.unwrap();
    let mine = get_as(&s, &t.secret, &format!("/api/v1/hosts/{}/updates", ids[0])).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.json);
    let theirs = get_as(&s, &t.secret, &format!("/api/v1/hosts/{}/updates", ids[1])).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.json);
    let fleet = get_as(&s, &t.secret, "/api/v1/updates").await;
    assert_eq!(fleet.json["hosts_total"], 1, "{}", fleet.json);
    let hosts = fleet.json["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0]["site"], "SITE");
    assert!(!fleet.json.to_string().contains("other.example"));
}

/// Patchman's `report=true` answer lists the security updates, computed
/// from the repositories the report names (Patchman's repos lines,
/// `BASE/dists/SUITE/...`): here bookworm and bookworm-security, not
/// bookworm-updates.
#[tokio::test]
async fn patchman_report_back_lists_security_updates() {
    let mut config = open_config();
    config.patchman_site = "LAB".into();
    let s = common::start_from(config, "192.0.2.7:5000").await;
    add_bookworm(&s).await;
    let fields = common::fixture_fields("patchman1.json");
    let r = s
        .post_to(
            "/reports/upload/",
            &[("Content-Type", &common::multipart_type())],
            common::multipart(&fields),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let hosts = s.get("/api/v1/hosts").await;
    let id = hosts.json["items"][0]["id"].as_i64().unwrap();
    let v = s
        .get(&format!("/api/v1/hosts/{id}/updates?security=true"))
        .await;
    assert_eq!(
        v.json["repositories"],
        serde_json::json!(["bookworm", "bookworm-security"]),
        "{}",
        v.json
    );
    let security = v.json["updates"].as_array().unwrap();
    assert!(!security.is_empty(), "{}", v.json);
    assert!(
        r.text
            .contains(&format!("Security updates: {}\n", security.len())),
        "{}",
        r.text
    );
    for u in security {
        let line = format!(
            "  {} {} -> {} ({})\n",
            u["name"].as_str().unwrap(),
            u["installed"].as_str().unwrap(),
            u["candidate"].as_str().unwrap(),
            u["repository"].as_str().unwrap()
        );
        assert!(r.text.contains(&line), "{line:?} not in {}", r.text);
    }
}

/// Pakiti's report-back (the text pakiti-client prints) lists the host's
/// security updates after the tagged CVEs, in Pakiti's own five columns:
/// the real Debian 12 host through protocol 5, which names no repository,
/// so its OS group's defaults (the three bookworm suites) apply.
#[tokio::test]
async fn pakiti_report_back_lists_security_updates() {
    let s = common::start_from(open_config(), "192.0.2.7:5000").await;
    let report = Fleet::new(vec![Image::debian12().unwrap()], 1)
        .with_drift(0)
        .report(0);
    let body = patchwatch_reports::pakiti::to_v5(&report).into_bytes();
    let post = |query: &'static str, body: Vec<u8>| {
        s.post_to(
            query,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body,
        )
    };
    // No repository yet: nothing to say beyond `OK`.
    let r = post("/feed/?protocol=5&mode=report-only", body.clone()).await;
    assert_eq!((r.status, r.text.as_str()), (StatusCode::OK, "OK\n"));

    add_bookworm(&s).await;
    let r = post("/feed/?protocol=5&mode=store-and-report", body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let hosts = s.get("/api/v1/hosts").await;
    let id = hosts.json["items"][0]["id"].as_i64().unwrap();
    let v = s
        .get(&format!("/api/v1/hosts/{id}/updates?security=true"))
        .await;
    let security = v.json["updates"].as_array().unwrap();
    assert_eq!(security.len(), 82, "{}", v.json);
    // No feed imported and apt indexes name no CVE: one line per update.
    let mut want: Vec<String> = security
        .iter()
        .map(|u| {
            format!(
                "{}\t{}\t{}\t-\tsecurity update: {} ({})",
                u["name"].as_str().unwrap(),
                u["installed"].as_str().unwrap(),
                u["arch"].as_str().unwrap(),
                u["candidate"].as_str().unwrap(),
                u["repository"].as_str().unwrap()
            )
        })
        .collect();
    want.sort();
    let mut lines = r.text.lines();
    assert_eq!(lines.next(), Some("OK"));
    let mut got: Vec<String> = lines.map(str::to_owned).collect();
    got.sort();
    assert_eq!(got, want);
    assert!(
        got.iter()
            .any(|l| l.starts_with("openssl\t") && l.ends_with("(bookworm-security)")),
        "{got:#?}"
    );
    // Report-only answers the same without storing.
    let r = post("/feed/?protocol=5&mode=report-only", body).await;
    let mut again: Vec<String> = r.text.lines().skip(1).map(str::to_owned).collect();
    again.sort();
    assert_eq!(again, got);
    // Store-only stays exactly `OK`.
    let r = post(
        "/feed/?protocol=5",
        patchwatch_reports::pakiti::to_v5(&report).into_bytes(),
    )
    .await;
    assert_eq!(r.text, "OK\n");
}

/// `GET /api/v1/packages/{name}`: the fleet view of one package (who runs
/// which version, who is outdated, who lacks it), cut to the caller's
/// scope like every endpoint.
#[tokio::test]
async fn package_view_within_the_callers_scope() {
    let s = start(open_config()).await;
    let mut openssl_version = String::new();
    for (site, token, without_openssl) in [
        ("SITE", &s.ingest, false),
        ("SITE", &s.ingest, true),
        ("OTHER", &s.other_ingest, false),
    ] {
        let mut report = hosts::debian12(site, usize::from(without_openssl));
        let packages = report.packages.as_mut().unwrap();
        let openssl = packages.iter().find(|p| p.name == "openssl").unwrap();
        openssl_version = openssl.evr();
        if without_openssl {
            packages.retain(|p| p.name != "openssl");
        }
        let r = s.post(token, None, native::to_json(&report)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    }
    // No repository: the installed ones are `unknown`, the other missing.
    let v = s.get("/api/v1/packages/openssl").await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.json);
    assert_eq!(
        (v.json["unknown"].as_u64(), v.json["missing"].as_u64()),
        (Some(2), Some(1))
    );

    add_bookworm(&s).await;
    let v = s.get("/api/v1/packages/openssl").await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.json);
    assert_eq!(v.json["hosts_total"], 3, "{}", v.json);
    assert_eq!(
        (v.json["outdated"].as_u64(), v.json["missing"].as_u64()),
        (Some(2), Some(1)),
        "{}",
        v.json
    );
    let hosts = v.json["hosts"].as_array().unwrap();
    let outdated: Vec<&serde_json::Value> =
        hosts.iter().filter(|h| h["state"] == "outdated").collect();
    for h in &outdated {
        assert_eq!(
            h["installed"][0]["version"],
            openssl_version.as_str(),
            "{h}"
        );
        assert_eq!(h["repository"], "bookworm-security", "{h}");
        assert_eq!(h["security"], true, "{h}");
    }
    // The same as the host's own update list says.
    let id = outdated[0]["host_id"].as_i64().unwrap();
    let host = s.get(&format!("/api/v1/hosts/{id}/updates")).await;
    let update = host.json["updates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "openssl")
        .unwrap()
        .clone();
    assert_eq!(outdated[0]["candidate"], update["candidate"]);
    let missing = hosts.iter().find(|h| h["state"] == "missing").unwrap();
    assert_eq!(missing["installed"], serde_json::json!([]));
    let installed = s.get("/api/v1/packages/openssl?installed=true").await;
    assert_eq!(installed.json["hosts_total"], 2, "{}", installed.json);
    let nobody = s.get("/api/v1/packages/no-such-package").await;
    assert_eq!(nobody.json["missing"], 3, "{}", nobody.json);

    // Bad input: 400 naming the problem.
    let bad = s.get("/api/v1/packages/open%20ssl").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.json);
    assert!(bad.json.to_string().contains("whitespace"), "{}", bad.json);
    let bad = s.get("/api/v1/packages/openssl?instaled=1").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.json);
    let long = "a".repeat(201);
    let bad = s.get(&format!("/api/v1/packages/{long}")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.json);

    // A viewer of SITE: SITE's two hosts only, nothing of OTHER's.
    let site = s.db.site("SITE").await.unwrap().unwrap();
    let t = NewToken::api("viewer", TokenAccess::Read, TokenScope::Site(site.id));
    s.db.add_token(&t).await.unwrap();
    let mine = get_as(&s, &t.secret, "/api/v1/packages/openssl").await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.json);
    assert_eq!(mine.json["hosts_total"], 2, "{}", mine.json);
    assert!(
        mine.json["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["site"] == "SITE")
    );
    assert!(!mine.json.to_string().contains("other.example"));
}

/// The host endpoint's kernel block: the fleet's Debian host runs
/// 6.1.0-27-amd64 with no kernel package installed (a container
/// inventory); the newest 6.1 image the suites offer is named, and the
/// client's reboot flag is honoured.
#[tokio::test]
async fn host_updates_name_the_kernels() {
    let s = start(open_config()).await;
    let mut report = Fleet::exact(Image::debian12().unwrap(), "SITE").report(0);
    report.reboot.required = Some(true);
    let r = s.post(&s.ingest, None, native::to_json(&report)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let id = r.json["host_id"].as_i64().unwrap();
    add_bookworm(&s).await;
    let v = s.get(&format!("/api/v1/hosts/{id}/updates")).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.json);
    let kernel = &v.json["kernel"];
    assert_eq!(kernel["running"], "6.1.0-27-amd64", "{kernel}");
    assert_eq!(kernel["newest_installed"], serde_json::Value::Null);
    assert_eq!(
        kernel["newest_available"]["name"], "linux-image-6.1.0-56-amd64",
        "{kernel}"
    );
    assert_eq!(kernel["reboot_required_derived"], false);
    assert_eq!(kernel["reboot_required_reported"], true);
    assert_eq!(kernel["reboot_required"], true);
}
