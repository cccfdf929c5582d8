//! The middlewares every request passes: request ids, problem details in the caller's
//! language, metrics, rate limits, idempotency keys. Each reads its own `web::Data` and
//! decides by the route a request reaches ([`route_info::RouteTable`]), never by raw paths.

pub mod idempotency;
pub mod locale;
pub mod metrics;
pub mod rate_limit;
pub mod read_routing;
pub mod request_id;
pub mod route_info;
