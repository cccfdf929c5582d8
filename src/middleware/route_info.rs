//! What the middlewares need to know about the route a request will reach, taken from the
//! OpenAPI document (which is built from the real routes): whether a POST
//! replays by `Idempotency-Key`, whether it checks credentials. Middlewares decide by this,
//! never by comparing raw paths: `/api/v1/%74okens` reaches the `/api/v1/tokens` route, and
//! must be treated as it.

use std::collections::HashMap;
use std::rc::Rc;

use actix_web::HttpMessage;
use actix_web::HttpRequest;
use actix_web::dev::ServiceRequest;
use actix_web::http::Method;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{OpenApi, RefOr};

/// Operations that take a password or a refresh token: they get their own, small per-address
/// quota (each attempt costs an argon2 hash or a lookup by secret).
pub const CREDENTIAL_OPERATIONS: &[&str] = &["createAccessToken", "refreshAccessToken"];
/// Operations for load balancers and monitors: never rate limited.
pub const PROBE_OPERATIONS: &[&str] = &["getHealth", "getReadiness", "getMetrics"];

#[derive(Debug, Clone, Copy)]
pub struct RouteInfo {
    /// A POST whose answer is stored and replayed for a repeated `Idempotency-Key`.
    pub replayable: bool,
    pub takes_credentials: bool,
    pub probe: bool,
}

/// The routes by pattern and method, as `app_data` for the middlewares (looked up by the
/// matched pattern as it is, without copying it).
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: HashMap<String, HashMap<Method, RouteInfo>>,
}

impl RouteTable {
    pub fn from_document(doc: &OpenApi) -> Self {
        let mut routes = HashMap::new();
        for (pattern, item) in &doc.paths.paths {
            let ops = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                let id = op.operation_id.as_deref().unwrap_or_default();
                let info = RouteInfo {
                    replayable: method == Method::POST && takes_idempotency_key(op),
                    takes_credentials: CREDENTIAL_OPERATIONS.contains(&id),
                    probe: PROBE_OPERATIONS.contains(&id),
                };
                routes
                    .entry(pattern.clone())
                    .or_insert_with(HashMap::new)
                    .insert(method, info);
            }
        }
        RouteTable { routes }
    }

    /// The route `req` will be routed to: its path as the router sees it (percent-decoded
    /// where actix decodes), matched against the app's resource patterns. Found once per
    /// request and kept in its extensions: matching runs the patterns, and each middleware
    /// asks.
    pub fn lookup(&self, req: &ServiceRequest) -> Option<RouteInfo> {
        if let Some(found) = req.extensions().get::<Rc<Matched>>() {
            return found.route;
        }
        let path = req.match_info().get_ref().path();
        let pattern = req.resource_map().match_pattern(path);
        let method = if req.method() == Method::HEAD {
            Method::GET
        } else {
            req.method().clone()
        };
        let route = pattern
            .as_deref()
            .and_then(|pattern| self.routes.get(pattern))
            .and_then(|methods| methods.get(&method))
            .copied();
        req.extensions_mut()
            .insert(Rc::new(Matched { pattern, route }));
        route
    }
}

/// The route a request matched: its pattern (for metrics) and what the middlewares decide by.
#[derive(Debug)]
pub struct Matched {
    pub pattern: Option<String>,
    pub route: Option<RouteInfo>,
}

/// The route a handled request matched, as found by [`RouteTable::lookup`] before it was
/// handled (the rate limiter looks up every request).
pub fn matched(req: &HttpRequest) -> Option<Rc<Matched>> {
    req.extensions().get::<Rc<Matched>>().cloned()
}

fn takes_idempotency_key(op: &Operation) -> bool {
    op.parameters.iter().flatten().any(|p| {
        matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Header
            && p.name.eq_ignore_ascii_case("Idempotency-Key"))
    })
}
