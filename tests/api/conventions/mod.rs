//! The conventions of API.md. What every resource shares is checked over a table of the
//! resources ([`every_resource`]): Location and ETag on create, If-Match on PATCH and DELETE,
//! 404 for unknown ids, the range of `limit`. Problem details for every kind of error
//! ([`errors`]) and the HTTP details of pages, tags, merge patches and request ids ([`http`])
//! are exercised through units and campaigns.

mod errors;
mod every_resource;
mod http;
