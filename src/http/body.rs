//! The JSON body extractor: content type, size limit, and deserialization errors that name
//! the field (400 for malformed JSON, 413 too large, 415 wrong type, 422 wrong data).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult, FieldError};

/// Largest JSON body accepted by default (API.md: 1 MiB).
pub const DEFAULT_JSON_LIMIT: usize = 1 << 20;

/// Per-route body size limit, set with `.app_data(BodyLimit(..))` on a resource.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON request body (`application/json`, or `application/merge-patch+json`).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = read_json(req, payload.take());
        Box::pin(async move { read.await.map(JsonBody) })
    }
}

/// Reads and parses a JSON body as [`JsonBody`] does, for handlers that must decide something
/// (who may call) before the body is read.
pub fn read_json<T: DeserializeOwned + 'static>(
    req: &HttpRequest,
    payload: Payload,
) -> LocalBoxFuture<'static, AppResult<T>> {
    let content_type_ok =
        has_content_type(req, &["application/json", "application/merge-patch+json"]);
    let limit = req
        .app_data::<BodyLimit>()
        .map_or(DEFAULT_JSON_LIMIT, |l| l.0);
    let declared = declared_length(req);
    Box::pin(async move {
        if !content_type_ok {
            return Err(AppError::unsupported_media_type("application/json"));
        }
        if declared.is_some_and(|len| len > limit) {
            return Err(AppError::payload_too_large(limit));
        }
        let bytes = read_body_within(payload, limit, BODY_DEADLINE).await?;
        parse_json(&bytes)
    })
}

/// A body must arrive within this time: a client that trickles it holds a connection, never
/// more.
pub const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// True when the request's media type (ignoring parameters) is one of `accepted`.
pub fn has_content_type(req: &HttpRequest, accepted: &[&str]) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|essence| accepted.contains(&essence.as_str()))
}

pub fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Reads the whole body within `deadline` (408 after it: a trickled body holds a connection,
/// never more), refusing (413) as soon as it grows past `limit`.
pub async fn read_body_within(
    payload: Payload,
    limit: usize,
    deadline: std::time::Duration,
) -> AppResult<BytesMut> {
    tokio::time::timeout(deadline, read_body(payload, limit))
        .await
        .map_err(|_| AppError::request_timeout(deadline))?
}

/// Reads the whole body, refusing (413) as soon as it grows past `limit`.
pub async fn read_body(mut payload: Payload, limit: usize) -> AppResult<BytesMut> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            actix_web::error::PayloadError::Overflow => AppError::payload_too_large(limit),
            other => AppError::bad_request(format!("cannot read the request body: {other}")),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::payload_too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses JSON into `T`. Syntax errors are 400; type errors, unknown and missing fields are
/// 422 naming the field by its path (`items[3].count`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> AppResult<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // serde_json reports a value of the wrong kind where it wanted an enum (`5`, `null`,
        // `{}` for a string enum) as a syntax error. Well-formed JSON is never malformed.
        if inner.is_syntax() && is_well_formed(bytes) {
            return AppError::validation(vec![FieldError::new(
                join_path(&path, ""),
                "has the wrong type (see the schema for the allowed values)",
            )]);
        }
        data_error(&path, &inner)
    })?;
    de.end().map_err(|e| {
        AppError::bad_request(format!(
            "malformed JSON: {}",
            strip_position(&e.to_string())
        ))
    })?;
    Ok(value)
}

fn is_well_formed(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
}

/// Deserializes an already-parsed JSON value (e.g. a merged patch) with the same error rules.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> AppResult<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        data_error(&path, e.inner())
    })
}

fn data_error(path: &str, inner: &serde_json::Error) -> AppError {
    use serde_json::error::Category;
    let message = strip_position(&inner.to_string());
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            AppError::bad_request(format!("malformed JSON: {message}"))
        }
        Category::Data => {
            let field = match backticked(&message) {
                // The path already ends at an unknown field, but stops at the parent of a missing one.
                Some(name) if message.starts_with("missing field") => join_path(path, name),
                _ => join_path(path, ""),
            };
            AppError::validation(vec![FieldError::new(field, message)])
        }
    }
}

fn join_path(parent: &str, name: &str) -> String {
    match (parent, name) {
        (".", "") | ("", "") => "body".into(),
        (".", n) | ("", n) => n.into(),
        (p, "") => p.into(),
        (p, n) => format!("{p}.{n}"),
    }
}

fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// serde_json appends " at line 1 column 9"; a client needs the field, not the column.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        count: i32,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Batch {
        items: Vec<Item>,
    }

    #[test]
    fn names_the_field_by_path() {
        let err = parse_json::<Batch>(br#"{"items":[{"count":1},{"count":"x"}]}"#).unwrap_err();
        assert_eq!(err.status().as_u16(), 422);
        assert_eq!(err.field_errors()[0].field, "items[1].count");
        let err = parse_json::<Batch>(br#"{"items":[{"count":1,"extra":2}]}"#).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "items[0].extra");
        let err = parse_json::<Batch>(br#"{"items":[{}]}"#).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "items[0].count");
        let err = parse_json::<Batch>(br#"{"items":[{"count":1}]"#).unwrap_err();
        assert_eq!(err.status().as_u16(), 400);
        let err = parse_json::<Batch>(br#"{"items":[]} x"#).unwrap_err();
        assert_eq!(err.status().as_u16(), 400);
    }
}
