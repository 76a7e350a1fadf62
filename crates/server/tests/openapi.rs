//! `GET /api/v1/openapi.json`: an OpenAPI 3.1 document naming every
//! endpoint, served without a token; and the real answers of a seeded
//! server (the shared data set's hosts, the AlmaLinux OSV feed, Debian
//! repositories, tags, an exception), successes and errors, validated
//! against the schemas it gives for them, so the document can't drift from
//! the handlers. (schemathesis, in `openapi_schemathesis.rs`, then tries
//! generated requests against a real server.)

mod common;
mod openapi_seed;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestServer, open_config, start};
use http_body_util::BodyExt;
use openapi_seed::{Seeded, seed};
use patchwatch_auth::{TokenAccess, TokenScope};
use patchwatch_store::NewToken;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Every operation of `/api/v1`, as the README lists them.
const OPERATIONS: &[(&str, &str)] = &[
    ("post", "/api/v1/reports"),
    ("get", "/api/v1/hosts"),
    ("get", "/api/v1/hosts/{id}"),
    ("get", "/api/v1/hosts/{id}/packages"),
    ("get", "/api/v1/hosts/{id}/reports"),
    ("get", "/api/v1/hosts/{id}/vulnerabilities"),
    ("get", "/api/v1/hosts/{id}/updates"),
    ("get", "/api/v1/updates"),
    ("get", "/api/v1/packages/{name}"),
    ("get", "/api/v1/repos"),
    ("get", "/api/v1/assessment"),
    ("get", "/api/v1/cves"),
    ("get", "/api/v1/cves/{id}"),
    ("get", "/api/v1/tags"),
    ("post", "/api/v1/tags"),
    ("get", "/api/v1/tags/assignments"),
    ("delete", "/api/v1/tags/{name}"),
    ("post", "/api/v1/tags/{name}/enable"),
    ("post", "/api/v1/tags/{name}/disable"),
    ("post", "/api/v1/tags/{name}/cves"),
    ("delete", "/api/v1/tags/{name}/cves/{cve}"),
    ("get", "/api/v1/exceptions"),
    ("post", "/api/v1/exceptions"),
    ("delete", "/api/v1/exceptions/{id}"),
    ("get", "/api/v1/openapi.json"),
];

/// A raw answer: status, content type, body.
struct Raw {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

async fn send(
    s: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Raw {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = s
        .app
        .clone()
        .oneshot(req.body(body.map_or_else(Body::empty, Body::from)).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Raw {
        status,
        content_type,
        body,
    }
}

async fn document(s: &TestServer) -> Value {
    let r = send(s, "GET", "/api/v1/openapi.json", None, &[], None).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.content_type, "application/json");
    serde_json::from_slice(&r.body).expect("the document is JSON")
}

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete", "head", "options"] {
            if item.get(method).is_some() {
                out.insert((method.to_owned(), path.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_names_every_endpoint() {
    let s = start(open_config()).await;
    let doc = document(&s).await;
    // To look at it without a server.
    if let Some(out) = std::env::var_os("PATCHWATCH_OPENAPI_OUT") {
        std::fs::write(out, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    }
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "not OpenAPI 3.1: {}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "Patchwatch API");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        doc["info"]["description"]
            .as_str()
            .is_some_and(|d| d.len() > 50)
    );
    let expected: BTreeSet<(String, String)> = OPERATIONS
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(operations(&doc), expected);
    let mut ids = BTreeSet::new();
    for (method, path) in OPERATIONS {
        let id = doc["paths"][path][method]["operationId"]
            .as_str()
            .unwrap_or_default();
        assert!(
            ids.insert(id.to_owned()),
            "{method} {path}: operationId {id:?} not unique"
        );
    }

    // Both token kinds are bearer schemes; every operation but this
    // document needs one, and says what happens without it.
    for scheme in ["api_token", "ingest_token"] {
        let s = &doc["components"]["securitySchemes"][scheme];
        assert_eq!(
            (s["type"].as_str(), s["scheme"].as_str()),
            (Some("http"), Some("bearer"))
        );
    }
    for (method, path) in OPERATIONS {
        let op = &doc["paths"][path][method];
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path} has no summary"
        );
        let responses = op["responses"].as_object().unwrap();
        if *path == "/api/v1/openapi.json" {
            assert!(op.get("security").is_none(), "the document needs no token");
            continue;
        }
        let scheme = if *path == "/api/v1/reports" {
            "ingest_token"
        } else {
            "api_token"
        };
        assert_eq!(op["security"], json!([{ scheme: [] }]), "{method} {path}");
        for status in ["401", "403", "503"] {
            assert!(
                responses.contains_key(status),
                "{method} {path} lacks {status}"
            );
        }
        // Path parameters are declared with a type.
        for name in path
            .split('{')
            .skip(1)
            .map(|p| p.split('}').next().unwrap())
        {
            let declared = op["parameters"].as_array().is_some_and(|ps| {
                ps.iter()
                    .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true)
            });
            assert!(
                declared,
                "{method} {path}: path parameter {name} undeclared"
            );
        }
    }
    // Every reference resolves; the report body is the native report's
    // JSON Schema (docs/report.schema.json).
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for r in &refs {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("remote $ref {r}"));
        let pointer = pointer.replace("~1", "/");
        assert!(doc.pointer(&pointer).is_some(), "dangling $ref {r}");
    }
    assert_eq!(
        doc["paths"]["/api/v1/reports"]["post"]["requestBody"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/Report"
    );
    assert!(
        refs.iter()
            .any(|r| r == "#/components/schemas/Report.package")
    );

    // Query bounds are in the document, as the handlers enforce them.
    let limit = doc["paths"]["/api/v1/hosts"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .expect("hosts has a limit parameter")
        .clone();
    assert_eq!(
        (&limit["schema"]["minimum"], &limit["schema"]["maximum"]),
        (&json!(1), &json!(1000))
    );
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v.as_str()) {
                    ("$ref", Some(r)) => out.push(r.to_owned()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Where a route is declared outside `routes!`, the document could miss
/// it: the API's routes must all come through `OpenApiRouter::routes`.
#[test]
fn no_api_route_bypasses_the_document() {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let v1 = std::fs::read_to_string(format!("{src}/api/v1/mod.rs")).unwrap();
    for bypass in [
        ".route(",
        ".route_service(",
        ".nest(",
        ".merge(",
        ".nest_service(",
    ] {
        assert!(
            !v1.contains(bypass),
            "api/v1/mod.rs calls {bypass}: add the handler with \
             `.routes(routes!(handler))` and a #[utoipa::path] instead"
        );
    }
    // Nothing else mounts a route under /api: not the application's router
    // (configured Pakiti paths under /api/v1 are refused there), not the
    // web UI's.
    let lib = std::fs::read_to_string(format!("{src}/lib.rs")).unwrap();
    assert!(lib.contains(".nest(\"/api/v1\", api::v1::routes())"));
    let web = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/src");
    let mut sources = vec![(format!("{src}/lib.rs"), lib)];
    for entry in walk(std::path::Path::new(web)) {
        let text = std::fs::read_to_string(&entry).unwrap();
        sources.push((entry.display().to_string(), text));
    }
    for (file, text) in sources {
        for call in [".route(\"/api", ".route_service(\"/api"] {
            assert!(
                !text.contains(call),
                "{file} mounts {call}...: only api/v1/mod.rs may"
            );
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// A documented path with its parameters filled in from the seed.
fn concrete(path: &str, seeded: &Seeded) -> String {
    path.replace("/hosts/{id}", &format!("/hosts/{}", seeded.debian))
        .replace("/cves/{id}", &format!("/cves/{}", seeded.cve))
        .replace("{name}", &seeded.disabled_tag)
        .replace("{cve}", &seeded.cve)
        .replace("/exceptions/{id}", "/exceptions/999999")
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let s = start(open_config()).await;
    let seeded = seed(&s).await;
    let doc = document(&s).await;
    for (method, path) in operations(&doc) {
        let uri = concrete(&path, &seeded);
        let r = send(&s, &method.to_uppercase(), &uri, Some(&s.triage), &[], None).await;
        let text = String::from_utf8_lossy(&r.body);
        assert!(
            r.status != StatusCode::METHOD_NOT_ALLOWED && !text.contains("no such endpoint"),
            "{method} {path} ({uri}) is documented but not served: {} {text}",
            r.status
        );
    }
}

/// The schema of `status` of `method path` as a standalone JSON Schema
/// (2020-12, what OpenAPI 3.1 uses), with the components beside it so
/// its `$ref`s resolve.
fn response_schema(doc: &Value, method: &str, path: &str, status: u16) -> Result<Value, String> {
    let op = &doc["paths"][path][method];
    if op.is_null() {
        return Err(format!("{method} {path} is not documented"));
    }
    let response = &op["responses"][status.to_string()];
    if response.is_null() {
        return Err(format!("{method} {path} does not document status {status}"));
    }
    let schema = response["content"]["application/json"]["schema"].clone();
    if schema.is_null() {
        return Err(format!(
            "{method} {path} {status}: no application/json schema"
        ));
    }
    Ok(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [schema],
        "components": doc["components"],
    }))
}

/// Why `instance` does not match the documented schema of that answer.
fn schema_errors(
    doc: &Value,
    method: &str,
    path: &str,
    status: u16,
    instance: &Value,
) -> Result<Vec<String>, String> {
    let schema = response_schema(doc, method, path, status)?;
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| format!("the schema does not compile: {e}"))?;
    Ok(validator
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect())
}

struct Case {
    method: &'static str,
    /// The documented path.
    template: &'static str,
    uri: String,
    token: Option<String>,
    headers: Vec<(&'static str, &'static str)>,
    body: Option<Vec<u8>>,
    status: StatusCode,
}

fn case(
    method: &'static str,
    template: &'static str,
    uri: String,
    token: &str,
    status: StatusCode,
) -> Case {
    Case {
        method,
        template,
        uri,
        token: Some(token.to_owned()),
        headers: vec![("Content-Type", "application/json")],
        body: None,
        status,
    }
}

impl Case {
    fn body(mut self, body: Value) -> Case {
        self.body = Some(body.to_string().into_bytes());
        self
    }
}

#[tokio::test]
async fn real_answers_match_the_documented_schemas() {
    let s = start(open_config()).await;
    let seeded = seed(&s).await;
    let doc = document(&s).await;
    let site =
        s.db.sites()
            .await
            .unwrap()
            .into_iter()
            .find(|x| x.name == "SITE")
            .unwrap();
    let site_reader = NewToken::api("site-reader", TokenAccess::Read, TokenScope::Site(site.id));
    s.db.add_token(&site_reader).await.unwrap();

    let (api, tri, ing) = (s.api.as_str(), s.triage.as_str(), s.ingest.as_str());
    let Seeded {
        debian,
        alma,
        cve,
        tag,
        disabled_tag,
        exception,
    } = &seeded;
    use StatusCode as S;
    let report = patchwatch_reports::native::to_json(&{
        let mut f =
            patchwatch_fleet::Fleet::new(vec![patchwatch_fleet::Image::debian12().unwrap()], 7);
        f.site = "SITE".into();
        f.domain = "new.example".into();
        f.report(0)
    });
    let mut cases = vec![
        case("get", "/api/v1/hosts", "/api/v1/hosts".into(), api, S::OK),
        case("get", "/api/v1/hosts", "/api/v1/hosts?limit=1&offset=1&site=SITE".into(), api, S::OK),
        case("get", "/api/v1/hosts", "/api/v1/hosts?os=debian%2012&domain=.example".into(), api, S::OK),
        case("get", "/api/v1/hosts", "/api/v1/hosts?limit=0".into(), api, S::BAD_REQUEST),
        case("get", "/api/v1/hosts", "/api/v1/hosts?limit=1001".into(), api, S::BAD_REQUEST),
        case("get", "/api/v1/hosts", "/api/v1/hosts?colour=red".into(), api, S::BAD_REQUEST),
        case("get", "/api/v1/hosts/{id}", format!("/api/v1/hosts/{debian}"), api, S::OK),
        case("get", "/api/v1/hosts/{id}", format!("/api/v1/hosts/{alma}"), api, S::OK),
        case("get", "/api/v1/hosts/{id}", "/api/v1/hosts/abc".into(), api, S::BAD_REQUEST),
        case("get", "/api/v1/hosts/{id}", "/api/v1/hosts/999999".into(), api, S::NOT_FOUND),
        case("get", "/api/v1/hosts/{id}/packages", format!("/api/v1/hosts/{debian}/packages"), api, S::OK),
        case("get", "/api/v1/hosts/{id}/packages", format!("/api/v1/hosts/{alma}/packages"), api, S::OK),
        case("get", "/api/v1/hosts/{id}/reports", format!("/api/v1/hosts/{debian}/reports"), api, S::OK),
        case("get", "/api/v1/hosts/{id}/reports", format!("/api/v1/hosts/{debian}/reports?limit=5000"), api, S::BAD_REQUEST),
        case("get", "/api/v1/hosts/{id}/vulnerabilities", format!("/api/v1/hosts/{alma}/vulnerabilities"), api, S::OK),
        case("get", "/api/v1/hosts/{id}/vulnerabilities", format!("/api/v1/hosts/{alma}/vulnerabilities?tag={tag}"), api, S::OK),
        case("get", "/api/v1/hosts/{id}/vulnerabilities", format!("/api/v1/hosts/{debian}/vulnerabilities"), api, S::OK),
        case("get", "/api/v1/hosts/{id}/vulnerabilities", format!("/api/v1/hosts/{alma}/vulnerabilities?tag={disabled_tag}"), api, S::BAD_REQUEST),
        case("get", "/api/v1/hosts/{id}/vulnerabilities", format!("/api/v1/hosts/{alma}/vulnerabilities?tag=Nope"), api, S::NOT_FOUND),
        case("get", "/api/v1/hosts/{id}/updates", format!("/api/v1/hosts/{debian}/updates"), api, S::OK),
        case("get", "/api/v1/hosts/{id}/updates", format!("/api/v1/hosts/{debian}/updates?security=true"), api, S::OK),
        case("get", "/api/v1/hosts/{id}/updates", format!("/api/v1/hosts/{alma}/updates"), api, S::OK),
        case("get", "/api/v1/hosts/{id}/updates", format!("/api/v1/hosts/{debian}/updates?security=maybe"), api, S::BAD_REQUEST),
        case("get", "/api/v1/updates", "/api/v1/updates".into(), api, S::OK),
        case("get", "/api/v1/updates", "/api/v1/updates?security=true".into(), api, S::OK),
        case("get", "/api/v1/repos", "/api/v1/repos".into(), api, S::OK),
        case("get", "/api/v1/assessment", "/api/v1/assessment".into(), api, S::OK),
        case("get", "/api/v1/assessment", "/api/v1/assessment".into(), &site_reader.secret, S::FORBIDDEN),
        case("get", "/api/v1/cves", "/api/v1/cves".into(), api, S::OK),
        case("get", "/api/v1/cves", format!("/api/v1/cves?site=SITE&tag={tag}"), &site_reader.secret, S::OK),
        case("get", "/api/v1/cves", "/api/v1/cves?site=NOWHERE".into(), api, S::NOT_FOUND),
        case("get", "/api/v1/cves/{id}", format!("/api/v1/cves/{cve}"), api, S::OK),
        case("get", "/api/v1/cves/{id}", "/api/v1/cves/CVE-1999-0001".into(), api, S::NOT_FOUND),
        case("get", "/api/v1/cves/{id}", "/api/v1/cves/not-a-cve".into(), api, S::BAD_REQUEST),
        case("get", "/api/v1/tags", "/api/v1/tags".into(), api, S::OK),
        case("get", "/api/v1/tags", "/api/v1/tags".into(), &site_reader.secret, S::OK),
        case("get", "/api/v1/tags/assignments", "/api/v1/tags/assignments".into(), api, S::OK),
        case("get", "/api/v1/exceptions", "/api/v1/exceptions".into(), api, S::OK),
        case("post", "/api/v1/tags", "/api/v1/tags".into(), tri, S::CREATED).body(json!({"name": "Later"})),
        case("post", "/api/v1/tags", "/api/v1/tags".into(), tri, S::CONFLICT).body(json!({"name": tag})),
        case("post", "/api/v1/tags", "/api/v1/tags".into(), tri, S::BAD_REQUEST).body(json!({"nom": "x"})),
        case("post", "/api/v1/tags", "/api/v1/tags".into(), api, S::FORBIDDEN).body(json!({"name": "Mine"})),
        case("post", "/api/v1/tags/{name}/enable", format!("/api/v1/tags/{disabled_tag}/enable"), tri, S::OK),
        case("post", "/api/v1/tags/{name}/disable", format!("/api/v1/tags/{disabled_tag}/disable"), tri, S::OK),
        case("post", "/api/v1/tags/{name}/enable", "/api/v1/tags/Nope/enable".into(), tri, S::NOT_FOUND),
        case("post", "/api/v1/tags/{name}/cves", "/api/v1/tags/Later/cves".into(), tri, S::CREATED).body(json!({"cve": cve})),
        case("post", "/api/v1/tags/{name}/cves", "/api/v1/tags/Later/cves".into(), tri, S::CONFLICT).body(json!({"cve": cve})),
        case("post", "/api/v1/tags/{name}/cves", "/api/v1/tags/Later/cves".into(), tri, S::BAD_REQUEST).body(json!({"cve": "CVE-nope"})),
        case("post", "/api/v1/tags/{name}/cves", "/api/v1/tags/Nope/cves".into(), tri, S::NOT_FOUND).body(json!({"cve": cve})),
        case("delete", "/api/v1/tags/{name}/cves/{cve}", format!("/api/v1/tags/Later/cves/{cve}"), tri, S::OK),
        case("delete", "/api/v1/tags/{name}/cves/{cve}", format!("/api/v1/tags/Later/cves/{cve}"), tri, S::NOT_FOUND),
        case("delete", "/api/v1/tags/{name}", "/api/v1/tags/Later".into(), tri, S::OK),
        case("delete", "/api/v1/tags/{name}", "/api/v1/tags/Later".into(), tri, S::NOT_FOUND),
        case("post", "/api/v1/exceptions", "/api/v1/exceptions".into(), tri, S::CREATED).body(json!({
            "cve": cve, "package": "bash", "version": "5.1-1", "os_group": "almalinux 9", "reason": "r"
        })),
        case("post", "/api/v1/exceptions", "/api/v1/exceptions".into(), tri, S::BAD_REQUEST).body(json!({
            "cve": cve, "package": "bash", "version": "5.1-1", "reason": "r"
        })),
        case("post", "/api/v1/exceptions", "/api/v1/exceptions".into(), tri, S::NOT_FOUND).body(json!({
            "cve": cve, "package": "bash", "version": "5.1-1", "site": "NOWHERE", "reason": "r"
        })),
        case("delete", "/api/v1/exceptions/{id}", format!("/api/v1/exceptions/{exception}"), tri, S::OK),
        case("delete", "/api/v1/exceptions/{id}", format!("/api/v1/exceptions/{exception}"), tri, S::NOT_FOUND),
        case("delete", "/api/v1/exceptions/{id}", "/api/v1/exceptions/x".into(), tri, S::BAD_REQUEST),
        case("get", "/api/v1/hosts", "/api/v1/hosts".into(), ing, S::FORBIDDEN),
        case("get", "/api/v1/hosts", "/api/v1/hosts".into(), "pwa_unknown", S::UNAUTHORIZED),
        case("post", "/api/v1/reports", "/api/v1/reports".into(), api, S::FORBIDDEN),
        case("post", "/api/v1/reports", "/api/v1/reports".into(), ing, S::BAD_REQUEST).body(json!({"hostname": 1})),
    ];
    let mut stored = case(
        "post",
        "/api/v1/reports",
        "/api/v1/reports".into(),
        ing,
        S::CREATED,
    );
    stored.body = Some(report.clone());
    cases.push(stored);
    let mut again = case(
        "post",
        "/api/v1/reports",
        "/api/v1/reports".into(),
        ing,
        S::OK,
    );
    again.body = Some(report.clone());
    cases.push(again);
    let mut brotli = case(
        "post",
        "/api/v1/reports",
        "/api/v1/reports".into(),
        ing,
        S::UNSUPPORTED_MEDIA_TYPE,
    );
    brotli.headers.push(("Content-Encoding", "br"));
    brotli.body = Some(report);
    cases.push(brotli);
    let mut anonymous = case(
        "get",
        "/api/v1/cves",
        "/api/v1/cves".into(),
        api,
        S::UNAUTHORIZED,
    );
    anonymous.token = None;
    cases.push(anonymous);

    let mut failures = Vec::new();
    let mut statuses = BTreeSet::new();
    let mut host_detail = None;
    for c in &cases {
        let r = send(
            &s,
            &c.method.to_uppercase(),
            &c.uri,
            c.token.as_deref(),
            &c.headers,
            c.body.clone(),
        )
        .await;
        let text = String::from_utf8_lossy(&r.body).into_owned();
        let what = format!("{} {} -> {}", c.method.to_uppercase(), c.uri, r.status);
        if r.status != c.status {
            failures.push(format!("{what}: expected {} ({text})", c.status));
            continue;
        }
        statuses.insert(r.status.as_u16());
        if r.content_type != "application/json" {
            failures.push(format!("{what}: content type {:?}", r.content_type));
        }
        let instance: Value = match serde_json::from_slice(&r.body) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{what}: not JSON ({e}): {text}"));
                continue;
            }
        };
        match schema_errors(&doc, c.method, c.template, r.status.as_u16(), &instance) {
            Ok(errors) if errors.is_empty() => {}
            Ok(errors) => {
                let shown: String = text.chars().take(600).collect();
                failures.push(format!("{what}: {}\n  answer: {shown}", errors.join("; ")));
            }
            Err(e) => failures.push(format!("{what}: {e}")),
        }
        if c.status == S::OK
            && c.template == "/api/v1/hosts/{id}"
            && !instance["os_release"].is_null()
        {
            host_detail = Some(instance);
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The schemas are strict: a field they don't name, a missing one, or
    // a time that is not RFC 3339 fails.
    let host = host_detail.expect("a host's detail was fetched");
    let errors = |v: &Value| schema_errors(&doc, "get", "/api/v1/hosts/{id}", 200, v).unwrap();
    assert!(errors(&host).is_empty());
    let mut extra = host.clone();
    extra["colour"] = json!("red");
    let mut missing = host.clone();
    missing.as_object_mut().unwrap().remove("client");
    let mut time = host.clone();
    time["last_seen"] = json!("yesterday");
    for (what, v) in [("extra", extra), ("missing", missing), ("time", time)] {
        assert!(
            !errors(&v).is_empty(),
            "a doctored answer ({what}) validates"
        );
    }
    // The cases reached every kind of answer the API gives.
    assert_eq!(
        statuses,
        BTreeSet::from([200, 201, 400, 401, 403, 404, 409, 415]),
    );
}
