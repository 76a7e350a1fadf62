//! Revoked tokens are refused exactly like unknown ones, on ingest and on
//! the API, and a token's use is recorded (at most once a minute).

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Reply, TestServer, start};
use patchwatch_fleet::{Fleet, Image};
use patchwatch_reports::native;
use patchwatch_server::ServerConfig;
use patchwatch_store::{Millis, Revocation};

fn report_body(n: usize) -> Vec<u8> {
    let mut fleet = Fleet::new(vec![Image::debian12().unwrap()], 3);
    fleet.site = "SITE".into();
    native::to_json(&fleet.report(n))
}

/// Every lookup asks the store: what another process's revocation looks
/// like once the cache has expired.
fn uncached() -> ServerConfig {
    ServerConfig {
        token_cache_seconds: 0,
        ..ServerConfig::default()
    }
}

async fn api_get(s: &TestServer, token: &str) -> Reply {
    let req = Request::get("/api/v1/hosts")
        .header("Authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    s.send(req).await
}

async fn last_used(s: &TestServer, name: &str) -> Option<Millis> {
    s.db.tokens()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == name)
        .unwrap()
        .last_used_at
}

/// The use is written in the background: wait for it, briefly.
async fn wait_for_use(s: &TestServer, name: &str) -> Millis {
    for _ in 0..100 {
        if let Some(at) = last_used(s, name).await {
            return at;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the use of token {name} was never recorded");
}

#[tokio::test]
async fn use_is_recorded_once_a_minute() {
    let s = start(uncached()).await;
    assert_eq!(last_used(&s, "ingest").await, None);
    assert_eq!(last_used(&s, "reader").await, None);
    let r = s.post(&s.ingest, None, report_body(1)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(api_get(&s, &s.api).await.status, StatusCode::OK);
    let ingest_used = wait_for_use(&s, "ingest").await;
    let api_used = wait_for_use(&s, "reader").await;
    // Unused tokens stay never used.
    assert_eq!(last_used(&s, "other").await, None);

    // More requests within the minute write nothing more.
    for n in 2..5 {
        let r = s.post(&s.ingest, None, report_body(n)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        assert_eq!(api_get(&s, &s.api).await.status, StatusCode::OK);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(last_used(&s, "ingest").await, Some(ingest_used));
    assert_eq!(last_used(&s, "reader").await, Some(api_used));
}

#[tokio::test]
async fn a_revoked_token_gets_the_unknown_tokens_401() {
    let s = start(uncached()).await;
    let r = s.post(&s.ingest, None, report_body(1)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(api_get(&s, &s.api).await.status, StatusCode::OK);
    let ingest_used = wait_for_use(&s, "ingest").await;
    let api_used = wait_for_use(&s, "reader").await;

    for name in ["ingest", "reader"] {
        assert_eq!(
            s.db.revoke_token(name, None).await.unwrap(),
            Revocation::Revoked
        );
    }
    let unknown_ingest = s.post("pwi_unknown", None, report_body(2)).await;
    assert_eq!(unknown_ingest.status, StatusCode::UNAUTHORIZED);
    let revoked_ingest = s.post(&s.ingest, None, report_body(2)).await;
    assert_eq!(revoked_ingest.status, StatusCode::UNAUTHORIZED);
    assert_eq!(revoked_ingest.json, unknown_ingest.json, "no oracle");
    // A resubmission of bytes seen before is refused too.
    let repeat = s.post(&s.ingest, None, report_body(1)).await;
    assert_eq!(repeat.status, StatusCode::UNAUTHORIZED);

    let unknown_api = api_get(&s, "pwa_unknown").await;
    assert_eq!(unknown_api.status, StatusCode::UNAUTHORIZED);
    let revoked_api = api_get(&s, &s.api).await;
    assert_eq!(revoked_api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(revoked_api.json, unknown_api.json, "no oracle");

    // Nothing was stored, and a refused request is no use.
    assert_eq!(s.stored().await, (1, 1));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(last_used(&s, "ingest").await, Some(ingest_used));
    assert_eq!(last_used(&s, "reader").await, Some(api_used));
    // The other tokens still work.
    let r = api_get(&s, &s.triage).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["total"], 1);
}
