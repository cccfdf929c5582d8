//! Strong ETags computed from the representation, `If-None-Match` (304) and `If-Match` (412).

use actix_web::body::MessageBody;
use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use futures_util::future::{Ready, ready};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

/// A strong validator: the first 128 bits of the SHA-256 of the JSON representation.
pub fn etag_of_bytes(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("\"{}\"", hex(&digest[..16]))
}

/// Lowercase hex digits of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

pub fn etag_of<T: Serialize>(value: &T) -> AppResult<String> {
    Ok(etag_of_bytes(
        &serde_json::to_vec(value).map_err(AppError::internal)?,
    ))
}

/// A JSON response with its `ETag`; a GET whose `If-None-Match` matches gets 304.
pub fn json_response<T: Serialize>(
    req: &HttpRequest,
    status: StatusCode,
    value: &T,
) -> AppResult<HttpResponse> {
    let body = serde_json::to_vec(value).map_err(AppError::internal)?;
    Ok(tagged_response(req, status, mime_json(), body))
}

/// Any representation with its strong `ETag`; a GET whose `If-None-Match` matches gets 304.
pub fn tagged_response(
    req: &HttpRequest,
    status: StatusCode,
    content_type: HeaderValue,
    body: Vec<u8>,
) -> HttpResponse {
    let etag = etag_of_bytes(&body);
    respond_tagged(req, status, content_type, etag, body)
}

fn respond_tagged(
    req: &HttpRequest,
    status: StatusCode,
    content_type: HeaderValue,
    etag: String,
    body: impl MessageBody + 'static,
) -> HttpResponse {
    let is_read = req.method() == Method::GET || req.method() == Method::HEAD;
    if is_read && status == StatusCode::OK && none_match(req, &etag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish();
    }
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag))
        .insert_header((header::CONTENT_TYPE, content_type))
        .body(body)
}

/// A JSON representation serialized and tagged once, for answers kept in memory: serving it
/// again costs neither serialization nor hashing.
pub struct TaggedJson {
    body: Bytes,
    etag: String,
}

impl TaggedJson {
    pub fn new<T: Serialize>(value: &T) -> AppResult<Self> {
        let body = serde_json::to_vec(value).map_err(AppError::internal)?;
        Ok(TaggedJson {
            etag: etag_of_bytes(&body),
            body: Bytes::from(body),
        })
    }

    /// 200 with the body, or 304 when `If-None-Match` matches.
    pub fn respond(&self, req: &HttpRequest) -> HttpResponse {
        respond_tagged(
            req,
            StatusCode::OK,
            mime_json(),
            self.etag.clone(),
            self.body.clone(),
        )
    }
}

pub fn json_ok<T: Serialize>(req: &HttpRequest, value: &T) -> AppResult<HttpResponse> {
    json_response(req, StatusCode::OK, value)
}

/// 201 Created with `Location` and `ETag`.
pub fn created<T: Serialize>(
    req: &HttpRequest,
    location: String,
    value: &T,
) -> AppResult<HttpResponse> {
    let mut res = json_response(req, StatusCode::CREATED, value)?;
    let location = HeaderValue::try_from(location).map_err(AppError::internal)?;
    res.headers_mut().insert(header::LOCATION, location);
    Ok(res)
}

fn mime_json() -> HeaderValue {
    HeaderValue::from_static("application/json")
}

/// `If-None-Match` uses the weak comparison (RFC 9110 13.1.2).
pub fn none_match(req: &HttpRequest, etag: &str) -> bool {
    let Some(value) = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let bare = etag.trim_start_matches("W/");
    value
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == bare)
}

/// The request's `If-Match` precondition (RFC 9110 13.1.1), taken out of the request so that
/// it can be checked inside a database transaction, against the row as locked there.
/// No `If-Match` means an unconditional write.
#[derive(Debug, Clone, Default)]
pub struct IfMatch(Option<String>);

impl IfMatch {
    /// No `If-Match` was sent.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// [`Self::check`] against a row that may not exist (a write that creates or replaces).
    pub fn check_found<T: Serialize>(&self, current: Option<&T>) -> AppResult<()> {
        match current {
            Some(current) => self.check(current),
            // RFC 9110 13.1.1: no current representation matches no tag, not even `*`.
            None if !self.is_empty() => Err(AppError::precondition_failed()),
            None => Ok(()),
        }
    }

    /// Checks the precondition against the representation the client would have read:
    /// 412 unless one of the listed tags (strong comparison) or `*` matches.
    pub fn check<T: Serialize>(&self, current: &T) -> AppResult<()> {
        let Some(value) = &self.0 else {
            return Ok(());
        };
        let current = etag_of(current)?;
        let matches = value.split(',').map(str::trim).any(|candidate| {
            candidate == "*" || (!candidate.starts_with("W/") && candidate == current)
        });
        if matches {
            Ok(())
        } else {
            Err(AppError::precondition_failed())
        }
    }
}

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let value = req.headers().get(header::IF_MATCH).map(|v| {
            v.to_str()
                .map(str::to_owned)
                .map_err(|_| AppError::precondition_failed())
        });
        ready(value.transpose().map(IfMatch))
    }
}
