//! actix's own extractors (path, query) answer in problem+json too.

use actix_web::HttpRequest;
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::web::{PathConfig, QueryConfig};

use crate::error::AppError;

pub fn query_config() -> QueryConfig {
    QueryConfig::default().error_handler(|err: QueryPayloadError, _req: &HttpRequest| {
        let message = match &err {
            QueryPayloadError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        AppError::bad_request(format!("malformed query string: {message}")).into()
    })
}

/// A path segment that cannot be an id cannot name an existing resource (404) — unless the
/// path is another resource's, which does not take this method (405).
pub fn path_config() -> PathConfig {
    PathConfig::default().error_handler(|_err: PathError, req: &HttpRequest| {
        match crate::openapi::methods_for(req.path()) {
            Some(allow) if !allow.split(", ").any(|m| m == req.method().as_str()) => {
                AppError::method_not_allowed(allow).into()
            }
            _ => AppError::not_found().into(),
        }
    })
}
