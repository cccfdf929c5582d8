//! Problem details in the caller's language (`Accept-Language`), rewritten on the way out.
//!
//! Errors are built in English everywhere ([`crate::error::AppError`] renders without the
//! request). This middleware sits outside every other one that can answer with a problem
//! (rate limiter, idempotency replays, extractors, handlers): for a caller preferring Chinese
//! it runs `title`, `detail` and each `errors[].message` through [`crate::i18n::to_chinese`].
//! Every problem carries `Content-Language` and `Vary: Accept-Language`; other responses
//! (streamed feeds included) pass untouched.

use actix_web::body::{BodySize, BoxBody, MessageBody, to_bytes_limited};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpResponse};
use serde_json::Value;

use crate::error::PROBLEM_JSON;
use crate::i18n;

/// Problems are small (at most 100 field errors), but a message may quote what the client sent;
/// a larger one is left in English.
const MAX_PROBLEM_BYTES: u64 = 1 << 20;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let chinese = wants_chinese(req.headers());
    let res = next.call(req).await?;
    if !is_problem(res.headers()) {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let (mut head, body) = res.into_parts();
    add_vary(head.headers_mut());
    let small = matches!(body.size(), BodySize::Sized(n) if n <= MAX_PROBLEM_BYTES);
    if !chinese || !small {
        set_language(head.headers_mut(), i18n::ENGLISH);
        return Ok(ServiceResponse::new(
            req,
            head.set_body(body).map_into_boxed_body(),
        ));
    }
    let Ok(Ok(bytes)) = to_bytes_limited(body, MAX_PROBLEM_BYTES as usize).await else {
        // A problem is built in memory: a body that cannot be read is not one of ours.
        let res = HttpResponse::InternalServerError().finish();
        return Ok(ServiceResponse::new(req, res));
    };
    let (language, body) = match translated(&bytes) {
        Some(zh) => (i18n::CHINESE, Bytes::from(zh)),
        None => (i18n::ENGLISH, bytes),
    };
    set_language(head.headers_mut(), language);
    Ok(ServiceResponse::new(
        req,
        head.set_body(body).map_into_boxed_body(),
    ))
}

fn wants_chinese(headers: &HeaderMap) -> bool {
    let values: Vec<&str> = headers
        .get_all(header::ACCEPT_LANGUAGE)
        .filter_map(|v| v.to_str().ok())
        .collect();
    !values.is_empty() && i18n::prefers_chinese(&values.join(","))
}

fn is_problem(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(PROBLEM_JSON))
}

fn set_language(headers: &mut HeaderMap, language: &'static str) {
    headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(language));
}

/// `Vary: Accept-Language`, merged into a `Vary` already there (CORS sets one).
fn add_vary(headers: &mut HeaderMap) {
    let existing: Vec<String> = headers
        .get_all(header::VARY)
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect();
    let listed = existing
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|name| name == "*" || name.eq_ignore_ascii_case("accept-language"));
    if listed {
        return;
    }
    let mut value = existing.join(", ");
    if !value.is_empty() {
        value.push_str(", ");
    }
    value.push_str("Accept-Language");
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(header::VARY, value);
    }
}

/// The problem with its human-readable texts in Chinese; every other member (`type`,
/// `status`, `errors[].field`, `errors_truncated`, ...) as it was, in its place. `None` when
/// the body is not a JSON object.
fn translated(body: &[u8]) -> Option<Vec<u8>> {
    let mut problem: Value = serde_json::from_slice(body).ok()?;
    let object = problem.as_object_mut()?;
    for key in ["title", "detail"] {
        if let Some(text) = object.get_mut(key) {
            translate_in_place(text);
        }
    }
    if let Some(Value::Array(errors)) = object.get_mut("errors") {
        for error in errors {
            if let Some(message) = error.get_mut("message") {
                translate_in_place(message);
            }
        }
    }
    serde_json::to_vec(&problem).ok()
}

fn translate_in_place(value: &mut Value) {
    if let Value::String(text) = value {
        *text = i18n::to_chinese(text).into_owned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_texts_change() {
        let english = br#"{"type":"urn:learnweek:problem:validation","title":"Unprocessable Content","status":422,"detail":"the request has invalid fields","errors":[{"field":"items[3].count","message":"must not be negative"},{"field":"name","message":"no translation for this"}],"errors_truncated":true}"#;
        let zh = String::from_utf8(translated(english).unwrap()).unwrap();
        assert_eq!(
            zh,
            r#"{"type":"urn:learnweek:problem:validation","title":"校验未通过","status":422,"detail":"请求中有字段未通过校验","errors":[{"field":"items[3].count","message":"不能为负数"},{"field":"name","message":"no translation for this"}],"errors_truncated":true}"#
        );
        assert!(translated(b"not json").is_none());
        assert!(translated(b"[1]").is_none());
    }

    #[test]
    fn vary_is_merged() {
        let mut headers = HeaderMap::new();
        add_vary(&mut headers);
        assert_eq!(headers.get(header::VARY).unwrap(), "Accept-Language");
        add_vary(&mut headers);
        assert_eq!(headers.get(header::VARY).unwrap(), "Accept-Language");
        let mut headers = HeaderMap::new();
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        add_vary(&mut headers);
        assert_eq!(
            headers.get(header::VARY).unwrap(),
            "Origin, Accept-Language"
        );
    }
}
