//! HTTP conventions shared by every resource: JSON bodies, pagination, ETags and
//! conditional requests, merge patch, request ids, actix's own extractor errors, and problem
//! details in the caller's language.

pub mod body;
pub mod conditional;
pub mod extractor_errors;
pub mod idempotency;
pub mod locale;
pub mod merge_patch;
pub mod metrics;
pub mod pagination;
pub mod rate_limit;
pub mod request_id;
pub mod route_info;

pub use body::{BodyLimit, JsonBody};
pub use conditional::{IfMatch, created, json_ok, json_response};
pub use pagination::{Cursor, Page, PageParams, PageRequest};
