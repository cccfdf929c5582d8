//! Per-caller rate limits: per token (a hash of the `Authorization` header) or, for anonymous
//! callers, per client IP. 429 with `Retry-After`, and `RateLimit-*` headers on every answer.
//! Limits live in this process's memory, so they hold per replica (documented in README.md).

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::HttpMessage;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::app::AppState;
use crate::error::AppError;

type Limiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

pub struct RateLimits {
    limiter: Limiter,
    clock: DefaultClock,
    per_minute: u32,
}

const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
const POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// Paths that load balancers and monitors hit: never limited.
const EXEMPT: &[&str] = &["/healthz", "/readyz", "/metrics"];

impl RateLimits {
    /// `None` when the limit is 0 (disabled).
    pub fn new(per_minute: u32) -> Option<RateLimits> {
        let n = NonZeroU32::new(per_minute)?;
        Some(RateLimits {
            limiter: RateLimiter::keyed(Quota::per_minute(n))
                .with_middleware::<StateInformationMiddleware>(),
            clock: DefaultClock::default(),
            per_minute,
        })
    }

    /// Forgets callers that have been quiet long enough to be back at full budget.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }

    fn headers(&self, remaining: u32, reset_secs: u64) -> [(HeaderName, HeaderValue); 4] {
        [
            (LIMIT, HeaderValue::from(self.per_minute)),
            (REMAINING, HeaderValue::from(remaining)),
            (RESET, HeaderValue::from(reset_secs)),
            (
                POLICY,
                HeaderValue::from_str(&format!("{};w=60", self.per_minute))
                    .unwrap_or(HeaderValue::from_static("")),
            ),
        ]
    }
}

/// A verified token's id, else the client's address. Only a signature that verifies earns a
/// bucket of its own: otherwise a made-up token per request would be a fresh budget each time.
fn caller_key(req: &ServiceRequest, state: &AppState) -> String {
    let token = crate::auth::bearer_token(req.request())
        .ok()
        .flatten()
        .filter(|_| req.path() != LOGIN);
    match token.and_then(|t| state.jwt.verify(&t).ok()) {
        Some(claims) => {
            let key = format!("t:{}", claims.jti);
            // The `Principal` extractor takes them from here instead of verifying again.
            req.extensions_mut().insert(claims);
            key
        }
        None => format!(
            "ip:{}",
            req.peer_addr()
                .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip())
        ),
    }
}

/// Login is limited per address, whatever token comes with it.
const LOGIN: &str = "/api/v1/auth/token";

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let limited = state.and_then(|s| s.rate_limits.clone().map(|l| (s, l)));
    let Some((state, limits)) = limited.filter(|_| !EXEMPT.contains(&req.path())) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    match limits.limiter.check_key(&caller_key(&req, &state)) {
        Ok(state) => {
            let remaining = state.remaining_burst_capacity();
            let refill = 60u64.saturating_mul(u64::from(
                limits.per_minute - remaining.min(limits.per_minute),
            )) / u64::from(limits.per_minute);
            let mut res = next.call(req).await?.map_into_boxed_body();
            for (name, value) in limits.headers(remaining, refill) {
                res.headers_mut().insert(name, value);
            }
            Ok(res)
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(limits.clock.now()).as_secs() + 1;
            let e = AppError::too_many_requests(
                wait,
                "too many requests; slow down and retry after Retry-After seconds",
            );
            let mut res = e.error_response();
            for (name, value) in limits.headers(0, wait) {
                res.headers_mut().insert(name, value);
            }
            Ok(req.into_response(res))
        }
    }
}
