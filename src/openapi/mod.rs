//! The OpenAPI 3.1 document, generated from the real routing ([`crate::api::routes`]).
//!
//! Handlers declare their success responses; the error responses every operation can give
//! (problem+json) are added here in one pass, from what the operation takes: a body, path
//! ids, a token.

use std::sync::OnceLock;

use actix_web::{HttpResponse, web};
use utoipa::openapi::Required;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as OpenApiDoc, Ref, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::error::{PROBLEM_JSON, Problem};

mod inputs;
mod patches;

pub const SPEC_PATH: &str = "/api-docs/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "learnweek",
        description = "JSON REST API that runs a city's Lifelong Learning Activity Week (全民终身学习活动周): \
campaigns, partner units, the organizing committee, events, free trainings, participant tallies, media coverage, \
the computed summary, calendar feeds, a change feed and webhooks.\n\n\
Conventions: errors are RFC 9457 `application/problem+json`; lists are `{items, next_cursor}` with keyset cursors \
and a `Link: rel=\"next\"` header; single resources carry an `ETag` (`If-None-Match` → 304, `If-Match` → 412); \
`PATCH` takes a JSON merge patch; `POST` honours `Idempotency-Key`. With `Accept-Language: zh-CN` (or any `zh`) \
problems come in Simplified Chinese (`title`, `detail`, `errors[].message`; `Content-Language: zh-CN`), otherwise in \
English; `type` and `errors[].field` never change.\n\n\
Roles: `admin` (the committee office) may do everything; `editor` writes its own unit's events, trainings, \
tallies, media reports and committee members; `reporter` writes its own unit's tallies, training outcome counts \
and media reports; `viewer` reads everything; anonymous callers read public data only. Each operation says who \
may call it.",
        version = "1.0.0",
        license(name = "MIT", identifier = "MIT")
    ),
    servers((url = "/", description = "this server")),
    components(schemas(Problem, crate::error::FieldError)),
    modifiers(&Conventions),
    tags(
        (name = "operations", description = "Health and readiness"),
        (name = "campaigns", description = "Editions of the activity week"),
        (name = "units", description = "Organizations taking part"),
        (name = "regions", description = "A province's or prefecture's week, summed over its campaigns"),
        (name = "partners", description = "The role each unit plays in a campaign"),
        (name = "committee", description = "The organizing committee"),
        (name = "events", description = "What happens during the week"),
        (name = "trainings", description = "Free training sessions and their outcomes"),
        (name = "tallies", description = "Participant counts (upserts, batches, CSV import)"),
        (name = "media-reports", description = "Press, TV and online coverage"),
        (name = "feeds", description = "iCalendar, Atom and JSON Feed of a campaign's public events"),
        (name = "auth", description = "Login and the current token"),
        (name = "tokens", description = "Named long-lived tokens for scripts and partner systems"),
        (name = "accounts", description = "People who log in"),
        (name = "audit", description = "Who changed what"),
        (name = "changes", description = "Incremental sync: every change, in commit order"),
        (name = "webhooks", description = "Signed push notifications of changes"),
    )
)]
struct ApiDoc;

/// The document, built once.
pub fn document() -> &'static OpenApiDoc {
    static DOC: OnceLock<OpenApiDoc> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, mut doc) = actix_web::App::new()
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .configure(crate::api::routes)
            .split_for_parts();
        add_error_responses(&mut doc);
        doc
    })
}

/// The document as committed in `openapi/openapi.json` and served at `/api-docs/openapi.json`.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        // The request-schema rules the derives cannot state are applied to the JSON form
        // (utoipa's types do not read back every schema written by hand).
        let mut value = serde_json::to_value(document()).unwrap_or_default();
        let types: Vec<&str> = crate::journal::Entity::ALL
            .iter()
            .map(|e| e.as_str())
            .collect();
        inputs::refine(&mut value, &types);
        patches::add(&mut value);
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        text
    })
}

/// Swagger UI's page loads its own scripts and styles (and inline styles), nothing else.
const SWAGGER_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                           script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

pub fn docs_routes(cfg: &mut web::ServiceConfig) {
    let csp = actix_web::middleware::DefaultHeaders::new().add((
        actix_web::http::header::CONTENT_SECURITY_POLICY,
        SWAGGER_CSP,
    ));
    cfg.route(SPEC_PATH, web::get().to(serve_spec)).service(
        web::scope("/swagger-ui")
            .wrap(csp)
            .service(SwaggerUi::new("/{_:.*}").config(Config::from(SPEC_PATH))),
    );
}

async fn serve_spec() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(json())
}

struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                utoipa::openapi::security::HttpBuilder::from(Http::new(HttpAuthScheme::Bearer))
                    .bearer_format("JWT")
                    .description(Some(
                        "HS256 JWT from POST /api/v1/auth/token or POST /api/v1/tokens",
                    ))
                    .build(),
            ),
        );
        for (name, description) in ERRORS {
            components.responses.insert(
                name.to_string(),
                RefOr::T(problem_response(
                    description,
                    matches!(*name, "TooManyRequests" | "ServiceUnavailable"),
                )),
            );
        }
    }
}

const ERRORS: &[(&str, &str)] = &[
    ("BadRequest", "Malformed JSON body or query string"),
    (
        "Unauthorized",
        "No token, or an invalid, expired or revoked one (with `WWW-Authenticate: Bearer`)",
    ),
    ("Forbidden", "The token's role or unit may not do this"),
    (
        "NotFound",
        "No such resource (or not visible to this caller)",
    ),
    (
        "Conflict",
        "Clashes with an existing resource, or with one still referring to this one",
    ),
    (
        "PreconditionFailed",
        "`If-Match` does not match the current `ETag`",
    ),
    ("PayloadTooLarge", "The body is larger than the limit"),
    (
        "UnsupportedMediaType",
        "The body's `Content-Type` is not accepted here",
    ),
    (
        "UnprocessableEntity",
        "Invalid fields; `errors` names each one",
    ),
    (
        "TooManyRequests",
        "Rate limited; retry after `Retry-After` seconds",
    ),
    (
        "ServiceUnavailable",
        "The database is unavailable; retry after `Retry-After` seconds",
    ),
];

fn problem_response(description: &str, retry_after: bool) -> Response {
    let mut builder = ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem")))),
    );
    if retry_after {
        builder = builder.header(
            "Retry-After",
            utoipa::openapi::header::HeaderBuilder::new()
                .schema(Some(
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::Type::Integer),
                ))
                .description(Some("Seconds to wait"))
                .build(),
        );
    }
    builder.build()
}

fn add_error_responses(doc: &mut OpenApiDoc) {
    for item in doc.paths.paths.values_mut() {
        let ops = [
            (&mut item.get, "get"),
            (&mut item.post, "post"),
            (&mut item.put, "put"),
            (&mut item.patch, "patch"),
            (&mut item.delete, "delete"),
        ];
        for (op, method) in ops {
            if let Some(op) = op {
                add_to_operation(op, method);
            }
        }
    }
}

fn add_to_operation(op: &mut Operation, method: &str) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_query = params
        .iter()
        .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
    let has_path = params
        .iter()
        .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
    let has_body = op.request_body.is_some();
    let security = op.security.as_deref().unwrap_or_default();
    let needs_token = !security.is_empty() && !security.iter().any(is_anonymous_requirement);
    let takes_token = !security.is_empty();

    if method == "get" && op.responses.responses.contains_key("200") {
        op.responses
            .responses
            .entry("304".into())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description("Not modified: `If-None-Match` matches the current `ETag`")
                        .build(),
                )
            });
    }
    add_header_params(op, method, has_path);
    let mut add = |status: &str, name: &str| {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))));
    };
    if has_body || has_query {
        add("400", "BadRequest");
    }
    if takes_token {
        add("401", "Unauthorized");
    }
    if needs_token {
        add("403", "Forbidden");
    }
    if has_path {
        add("404", "NotFound");
    }
    if method != "get" {
        // Unique clashes, rows still referred to, or the same Idempotency-Key still running.
        add("409", "Conflict");
    }
    if honours_if_match(method, has_path) {
        add("412", "PreconditionFailed");
    }
    if has_body {
        add("413", "PayloadTooLarge");
        add("415", "UnsupportedMediaType");
    }
    if has_body || has_query {
        add("422", "UnprocessableEntity");
    }
    add("429", "TooManyRequests");
    add("503", "ServiceUnavailable");
}

/// Writes to one row: by its path, or by what the body names (`PUT /tallies`, by natural key).
fn honours_if_match(method: &str, has_path: bool) -> bool {
    method == "put" || (matches!(method, "patch" | "delete") && has_path)
}

/// POSTs whose answer holds a secret shown once: an `Idempotency-Key` is not replayed there.
pub const NOT_REPLAYED: &[&str] = &[
    "createAccessToken",
    "refreshAccessToken",
    "createToken",
    "createWebhook",
];

/// The conditional and idempotency headers each operation honours.
fn add_header_params(op: &mut Operation, method: &str, has_path: bool) {
    let replayable = method == "post"
        && op.request_body.is_some()
        && !op
            .operation_id
            .as_deref()
            .is_some_and(|id| NOT_REPLAYED.contains(&id));
    let params = op.parameters.get_or_insert_with(Vec::new);
    let mut header = |name: &str, description: &str, schema: ObjectBuilder| {
        params.push(RefOr::T(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(description))
                .schema(Some(schema))
                .build(),
        ));
    };
    let any_text = || ObjectBuilder::new().schema_type(Type::String);
    if replayable {
        header(
            "Idempotency-Key",
            "Makes a retry safe: the same key with the same body from the same token within 24 h \
             replays the first answer (with `Idempotent-Replayed: true`); another body is a 422; \
             while the first request still runs, a 409.",
            any_text()
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[\\x20-\\x7E]+$")),
        );
    }
    if honours_if_match(method, has_path) {
        header(
            "If-Match",
            "The `ETag` the change is based on: a stale one is refused with 412 and nothing changes.",
            any_text(),
        );
    }
    if method == "get" && op.responses.responses.contains_key("200") {
        header(
            "If-None-Match",
            "An `ETag` of a previous answer: 304 without a body while it is still current.",
            any_text(),
        );
    }
    if replayable {
        for status in ["200", "201"] {
            if let Some(RefOr::T(response)) = op.responses.responses.get_mut(status) {
                response.headers.insert(
                    "Idempotent-Replayed".into(),
                    RefOr::T(
                        utoipa::openapi::header::HeaderBuilder::new()
                            .schema(Some(
                                ObjectBuilder::new()
                                    .schema_type(Type::String)
                                    .enum_values(Some(["true"])),
                            ))
                            .description(Some(
                                "`true` when this is the stored answer to an earlier request \
                                 with the same `Idempotency-Key`",
                            ))
                            .build(),
                    ),
                );
            }
        }
    }
}

fn is_anonymous_requirement(req: &utoipa::openapi::security::SecurityRequirement) -> bool {
    serde_json::to_value(req).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
}

/// The methods the document lists for a concrete request path (e.g. `GET, PATCH, DELETE`),
/// or `None` when no path template matches.
pub fn methods_for(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    // The most specific template wins: `/tallies/import` over `/tallies/{id}`.
    let (_, item) = document()
        .paths
        .paths
        .iter()
        .filter_map(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            let matches = parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(p, s)| {
                    (p.starts_with('{') && p.ends_with('}') && !s.is_empty()) || p == s
                });
            let literal = parts.iter().filter(|p| !p.starts_with('{')).count();
            matches.then_some((literal, item))
        })
        .max_by_key(|(literal, _)| *literal)?;
    let methods: Vec<&str> = [
        ("GET", item.get.is_some()),
        ("POST", item.post.is_some()),
        ("PUT", item.put.is_some()),
        ("PATCH", item.patch.is_some()),
        ("DELETE", item.delete.is_some()),
    ]
    .into_iter()
    .filter_map(|(m, present)| present.then_some(m))
    .collect();
    (!methods.is_empty()).then(|| methods.join(", "))
}
