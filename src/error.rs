//! The one error type. Every failure path renders RFC 9457 `application/problem+json`.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

pub type AppResult<T> = Result<T, AppError>;

/// One problem with one input field.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the offending field, e.g. `ends_on` or `items[3].count`.
    #[schema(example = "ends_on")]
    pub field: String,
    #[schema(example = "must not be before starts_on")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// RFC 9457 problem details.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:learnweek:problem:validation",
    "title": "Unprocessable Content",
    "status": 422,
    "detail": "the request body has invalid fields",
    "errors": [{"field": "ends_on", "message": "must not be before starts_on"}]
}))]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Present (`true`) when there were more than [`MAX_FIELD_ERRORS`] problems and only the
    /// first ones are listed in `errors`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub errors_truncated: bool,
}

/// At most this many entries in a problem's `errors`; the rest is summarized by
/// `errors_truncated` (a bad 5,000-row file must not become a 5 MB answer).
pub const MAX_FIELD_ERRORS: usize = 100;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Boxed: errors travel through every `Result`, so the happy path should not pay for their size.
#[derive(Debug)]
pub struct AppError(Box<ErrorData>);

#[derive(Debug)]
struct ErrorData {
    status: StatusCode,
    slug: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    errors_truncated: bool,
    retry_after: Option<u64>,
    www_authenticate: Option<&'static str>,
    /// The `Allow` header of a 405.
    allow: Option<String>,
    /// Logged for 5xx, never sent.
    cause: Option<String>,
}

impl AppError {
    pub fn new(status: StatusCode, slug: &'static str, detail: impl Into<String>) -> Self {
        AppError(Box::new(ErrorData {
            status,
            slug,
            detail: detail.into(),
            errors: Vec::new(),
            errors_truncated: false,
            retry_after: None,
            www_authenticate: None,
            allow: None,
            cause: None,
        }))
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed-request", detail)
    }

    /// No credentials where they are required.
    pub fn unauthenticated() -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "this operation needs a bearer token",
        );
        e.0.www_authenticate = Some("Bearer realm=\"learnweek\"");
        e
    }

    /// Credentials were sent but are not acceptable (bad signature, expired, revoked, ...).
    pub fn invalid_token(detail: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "invalid-token", detail);
        e.0.www_authenticate = Some("Bearer realm=\"learnweek\", error=\"invalid_token\"");
        e
    }

    pub fn invalid_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid-credentials",
            "unknown username or wrong password",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "no such resource")
    }

    /// The path exists, the method does not.
    pub fn method_not_allowed(allow: String) -> Self {
        let mut e = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            format!("this resource answers {allow}"),
        );
        e.0.allow = Some(allow);
        e
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", detail)
    }

    pub fn precondition_failed() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "stale-etag",
            "the resource changed since you read it (If-Match does not match its ETag); GET it again",
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            format!("the request body is larger than {limit} bytes"),
        )
    }

    pub fn request_timeout(deadline: std::time::Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "request-timeout",
            format!(
                "the request body did not arrive within {} seconds",
                deadline.as_secs()
            ),
        )
    }

    /// Sets `Retry-After` (seconds).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.0.retry_after = Some(secs.max(1));
        self
    }

    pub fn unsupported_media_type(expected: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            format!("send the body as {expected}"),
        )
    }

    /// 422 with one or more field errors.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "the request has invalid fields",
        );
        e.set_errors(errors);
        e
    }

    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    pub fn too_many_requests(retry_after_secs: u64, detail: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", detail);
        e.0.retry_after = Some(retry_after_secs.max(1));
        e
    }

    pub fn unavailable(cause: impl fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database-unavailable",
            "the database is unavailable; retry shortly",
        );
        e.0.retry_after = Some(2);
        e.0.cause = Some(cause.to_string());
        e
    }

    /// Too much work of one kind at once (e.g. password hashing): 503 with `Retry-After`.
    pub fn busy(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", detail).retry_after(1)
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an unexpected error occurred; it has been logged",
        );
        e.0.cause = Some(cause.to_string());
        e
    }

    /// Replaces the field errors (used when a 403 names the rows it refuses).
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.set_errors(errors);
        self
    }

    /// Puts `first` before the field errors (a request's own problems before its rows').
    pub fn after(mut self, mut first: Vec<FieldError>) -> Self {
        let truncated = self.0.errors_truncated;
        first.append(&mut self.0.errors);
        self.set_errors(first);
        self.0.errors_truncated |= truncated;
        self
    }

    fn set_errors(&mut self, mut errors: Vec<FieldError>) {
        self.0.errors_truncated = errors.len() > MAX_FIELD_ERRORS;
        errors.truncate(MAX_FIELD_ERRORS);
        self.0.errors = errors;
    }

    /// Marks the field errors as the first of more (the caller stopped collecting).
    pub fn truncated(mut self) -> Self {
        self.0.errors_truncated = true;
        self
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn field_errors(&self) -> &[FieldError] {
        &self.0.errors
    }

    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: format!("urn:learnweek:problem:{}", self.0.slug),
            title: title(self.0.status).to_string(),
            status: self.0.status.as_u16(),
            detail: self.0.detail.clone(),
            errors: self.0.errors.clone(),
            errors_truncated: self.0.errors_truncated,
        }
    }
}

/// The reason phrase of `status` as RFC 9110 names it (actix still says "Unprocessable Entity").
fn title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        _ => status.canonical_reason().unwrap_or("Error"),
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0.status.as_u16(), self.0.detail)?;
        if let Some(cause) = &self.0.cause {
            write!(f, " ({cause})")?;
        }
        Ok(())
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.0.status.is_server_error() {
            log::error!("{self}");
        }
        let mut res = HttpResponse::build(self.0.status);
        res.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        if let Some(secs) = self.0.retry_after {
            res.insert_header((header::RETRY_AFTER, secs));
        }
        if let Some(allow) = &self.0.allow {
            res.insert_header((header::ALLOW, allow.as_str()));
        }
        if let Some(challenge) = self.0.www_authenticate {
            res.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            ));
        }
        res.body(serde_json::to_vec(&self.problem()).unwrap_or_default())
    }
}

/// Unique constraints and the field a clash on them is about.
const UNIQUE_FIELDS: &[(&str, &str, &str)] = &[
    (
        "campaigns_slug_key",
        "slug",
        "a campaign with this slug exists",
    ),
    ("units_name_key", "name", "a unit with this name exists"),
    (
        "accounts_username_key",
        "username",
        "an account with this username exists",
    ),
    (
        "campaign_partners_campaign_unit_key",
        "unit_id",
        "this unit is already a partner of the campaign",
    ),
    (
        "tallies_natural_key",
        "category",
        "a tally for this subject, category, measure, date and reporting unit exists; PUT /tallies replaces it",
    ),
];

impl From<DieselError> for AppError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => AppError::not_found(),
            DieselError::DatabaseError(kind, info) => match kind {
                DatabaseErrorKind::UniqueViolation => {
                    let constraint = info.constraint_name().unwrap_or_default();
                    match UNIQUE_FIELDS.iter().find(|(c, _, _)| *c == constraint) {
                        Some((_, field, message)) => AppError::conflict(*message)
                            .with_errors(vec![FieldError::new(*field, *message)]),
                        None => AppError::conflict("a resource with these values exists"),
                    }
                }
                DatabaseErrorKind::ForeignKeyViolation => AppError::conflict(
                    "other records refer to this resource (or it refers to a missing one); remove those first",
                ),
                DatabaseErrorKind::CheckViolation | DatabaseErrorKind::NotNullViolation => {
                    AppError::validation(vec![FieldError::new(
                        info.column_name().unwrap_or("body"),
                        "violates a rule of the data model",
                    )])
                }
                DatabaseErrorKind::SerializationFailure => {
                    let mut e = AppError::conflict("concurrent update; retry the request");
                    e.0.retry_after = Some(1);
                    e
                }
                DatabaseErrorKind::ClosedConnection => AppError::unavailable(info.message()),
                // Two writers took the same rows in different orders; one was chosen to fail.
                _ if info.message().contains("deadlock detected") => {
                    let mut e =
                        AppError::conflict("concurrent writes to the same rows; retry the request");
                    e.0.retry_after = Some(1);
                    e
                }
                // A date or number the database cannot hold is bad input, not a server error.
                _ if info.message().contains("out of range") => {
                    AppError::validation(vec![FieldError::new(
                        "body",
                        "a date, time or number is outside the range this API stores",
                    )])
                }
                // PostgreSQL text cannot hold NUL characters.
                _ if info.message().contains("invalid byte sequence") => {
                    AppError::validation(vec![FieldError::new(
                        "body",
                        "text must not contain NUL (\\u0000) characters",
                    )])
                }
                _ if is_unavailable_message(info.message()) => {
                    AppError::unavailable(info.message())
                }
                _ => AppError::internal(format!("database error: {}", info.message())),
            },
            DieselError::BrokenTransactionManager => {
                AppError::unavailable("broken transaction manager")
            }
            other => AppError::internal(other),
        }
    }
}

/// PostgreSQL's texts of errors that mean "the database is not there right now" rather than
/// "the query is wrong".
pub(crate) const UNAVAILABLE_SIGNS: &[&str] = &[
    "canceling statement due to statement timeout",
    "terminating connection",
    "the database system is",
    "connection closed",
    "Connection refused",
    "broken pipe",
    "server closed the connection",
];

fn is_unavailable_message(message: &str) -> bool {
    UNAVAILABLE_SIGNS.iter().any(|s| message.contains(s))
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for AppError {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        AppError::unavailable(format!("connection pool: {e}"))
    }
}

impl From<diesel::ConnectionError> for AppError {
    fn from(e: diesel::ConnectionError) -> Self {
        AppError::unavailable(e)
    }
}
