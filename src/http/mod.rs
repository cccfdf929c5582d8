//! HTTP conventions shared by every resource: JSON bodies, pagination, ETags and
//! conditional requests, merge patch, and actix's own extractor errors.

pub mod body;
pub mod conditional;
pub mod extractor_errors;
pub mod merge_patch;
pub mod pagination;
pub mod timestamp;

pub use body::{BodyLimit, JsonBody};
pub use conditional::{IfMatch, created, json_ok, json_response};
pub use pagination::{Cursor, Page, PageParams, PageRequest};
