//! The OpenAPI 3.1 document of the JSON API, served at
//! `GET /api/v1/openapi.json` (no token: it holds no data).
//!
//! It is made by utoipa from the same `routes!` declarations the router is
//! (`api::v1::api`): each handler's `#[utoipa::path]` gives its method,
//! path, parameters, request body and answers; [`schemas`] describes the
//! JSON of the answers. The answers every authenticated endpoint can give
//! (401, 403, 503) are added here once, from the operation's security
//! requirement, so no annotation can forget them.

pub mod schemas;

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response as OaResponse, ResponseBuilder};
use utoipa::openapi::schema::{AllOfBuilder, KnownFormat, OneOfBuilder, Schema, SchemaFormat};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, RefOr, Type};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::state::AppState;

/// The security scheme of the read and triage API (`patchwatch tokens add`).
pub const API_TOKEN: &str = "api_token";
/// The security scheme of `POST /api/v1/reports` (`patchwatch sites add`).
pub const INGEST_TOKEN: &str = "ingest_token";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Patchwatch API",
        description = "Patch status and vulnerabilities of a Linux fleet: hosts report \
            their packages (`POST /api/v1/reports`, an ingest token); API tokens read \
            hosts, packages, findings, CVEs and pending updates, and manage CVE tags and \
            exceptions. Every answer covers only the sites the caller may read; an \
            out-of-scope host or site answers as a missing one. Errors are \
            `{\"error\": \"...\"}` naming the problem."
    ),
    components(schemas(schemas::Error)),
    modifiers(&Security),
    tags(
        (name = "reports", description = "Report ingest"),
        (name = "hosts", description = "Hosts, their packages and their history"),
        (name = "vulnerabilities", description = "Findings, CVEs and the fleet assessment"),
        (name = "updates", description = "Pending updates and repositories"),
        (name = "triage", description = "CVE tags and exceptions"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// The two bearer-token schemes.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            API_TOKEN,
            bearer(
                "An API token (`patchwatch tokens add NAME`, `pwa_...`): read or triage \
                 access on a site, a group, a user's roles or every site.",
            ),
        );
        components.add_security_scheme(
            INGEST_TOKEN,
            bearer("A site's ingest token (`patchwatch sites add NAME`)."),
        );
    }
}

/// `expires` of a new exception: a date (through that day, UTC) or an
/// RFC 3339 time; absent or null for none.
pub fn expiry_schema() -> Schema {
    let text = |format: KnownFormat| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format)))
    };
    OneOfBuilder::new()
        .item(text(KnownFormat::Date))
        .item(text(KnownFormat::DateTime))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// A new exception names exactly one of `os_group` and `site` (beyond what
/// the derived schema of the body can say).
fn one_scope(doc: &mut utoipa::openapi::OpenApi) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let Some(RefOr::T(body)) = components.schemas.remove("ExceptionBody") else {
        return;
    };
    let only = |field: &str| {
        ObjectBuilder::new()
            .property(field, ObjectBuilder::new().schema_type(Type::String))
            .required(field)
    };
    let scoped = AllOfBuilder::new()
        .item(body)
        .item(
            OneOfBuilder::new()
                .item(only("os_group"))
                .item(only("site")),
        )
        .build();
    components
        .schemas
        .insert("ExceptionBody".to_owned(), RefOr::T(Schema::AllOf(scoped)));
}

/// The whole document: `/api/v1`'s routes under their full paths.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", crate::api::v1::api())
        .split_for_parts()
        .1;
    add_common_answers(&mut doc);
    one_scope(&mut doc);
    doc
}

/// 401, 403 and 503 on every operation that needs a token.
fn add_common_answers(doc: &mut utoipa::openapi::OpenApi) {
    let error = || {
        ContentBuilder::new()
            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                schemas::Error::name(),
            ))))
            .build()
    };
    let with_header = |description: &str, name: &str, what: &str| -> OaResponse {
        ResponseBuilder::new()
            .description(description)
            .content("application/json", error())
            .header(
                name,
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some(what))
                    .build(),
            )
            .build()
    };
    let unauthorized = with_header(
        "No token, or an unknown or revoked one",
        "WWW-Authenticate",
        "`Bearer`",
    );
    let forbidden = ResponseBuilder::new()
        .description("The token is of the wrong kind, or the caller lacks the rights")
        .content("application/json", error())
        .build();
    let unavailable = with_header(
        "The database is unavailable; retry later",
        "Retry-After",
        "Seconds",
    );
    for item in doc.paths.paths.values_mut() {
        let operations: [&mut Option<Operation>; 4] = [
            &mut item.get,
            &mut item.post,
            &mut item.delete,
            &mut item.put,
        ];
        for op in operations.into_iter().flatten() {
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            if !secured {
                continue;
            }
            let responses = &mut op.responses.responses;
            for (status, response) in [
                ("401", &unauthorized),
                ("403", &forbidden),
                ("503", &unavailable),
            ] {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::T(response.clone()));
            }
        }
    }
}

/// The native report's JSON Schema, the one `docs/report-format.md`
/// defines and the shell client's test checks its output against.
const REPORT_SCHEMA: &str = include_str!("../../../docs/report.schema.json");

/// The document as served: [`document`] with the native report's schema
/// as the body of `POST /api/v1/reports`, its `$defs` as components
/// `Report.NAME` (utoipa's schema model has no place for all of its
/// keywords, so it is merged as JSON).
pub fn document_json() -> Result<serde_json::Value, String> {
    let mut doc = serde_json::to_value(document()).map_err(|e| e.to_string())?;
    let mut report: serde_json::Value =
        serde_json::from_str(REPORT_SCHEMA).map_err(|e| format!("report.schema.json: {e}"))?;
    let report_obj = report
        .as_object_mut()
        .ok_or("report.schema.json is not an object")?;
    let defs = report_obj.remove("$defs").unwrap_or_default();
    report_obj.remove("$schema");
    report_obj.remove("$id");
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(serde_json::Value::as_object_mut)
        .ok_or("the document has no component schemas")?;
    for (name, mut def) in defs.as_object().cloned().unwrap_or_default() {
        rewrite_refs(&mut def);
        schemas.insert(format!("Report.{name}"), def);
    }
    rewrite_refs(&mut report);
    schemas.insert("Report".to_owned(), report);
    let body = doc
        .pointer_mut("/paths/~1api~1v1~1reports/post/requestBody/content/application~1json")
        .and_then(serde_json::Value::as_object_mut)
        .ok_or("the document has no report body")?;
    body.insert(
        "schema".to_owned(),
        serde_json::json!({ "$ref": "#/components/schemas/Report" }),
    );
    Ok(doc)
}

/// `#/$defs/NAME` -> `#/components/schemas/Report.NAME`.
fn rewrite_refs(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match (key.as_str(), value.as_str()) {
                    ("$ref", Some(r)) => {
                        if let Some(name) = r.strip_prefix("#/$defs/") {
                            *value = format!("#/components/schemas/Report.{name}").into();
                        }
                    }
                    _ => rewrite_refs(value),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// The document as served, made once.
static DOCUMENT: LazyLock<Result<Bytes, String>> = LazyLock::new(|| {
    document_json()
        .and_then(|d| serde_json::to_vec(&d).map_err(|e| e.to_string()))
        .map(Bytes::from)
});

/// `GET /api/v1/openapi.json`
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "get_openapi_document",
    tag = "meta",
    responses(
        (status = 200, description = "This OpenAPI 3.1 document", content_type = "application/json", body = Object),
    )
)]
pub async fn serve() -> Response {
    match &*DOCUMENT {
        Ok(json) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            json.clone(),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document can't be made");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
