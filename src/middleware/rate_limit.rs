//! Per-caller rate limits: per token (a verified token's id) or, for anonymous callers, per
//! client IP; and a much smaller per-IP quota for the operations that check credentials
//! (login, refresh), whatever token comes with them. 429 with `Retry-After`, and
//! `RateLimit-*` headers on every limited answer. Limits live in this process's memory, so
//! they hold per replica (documented in README.md). Which quota applies is decided by the
//! route the request reaches ([`RouteTable`]), not by its raw path.

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

use crate::error::AppError;
use crate::middleware::route_info::RouteTable;
use crate::state::AppState;

type Limiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// One quota: a keyed limiter and its size.
struct Bucket {
    limiter: Limiter,
    per_minute: u32,
}

impl Bucket {
    /// `None` when the limit is 0 (disabled).
    fn new(per_minute: u32) -> Option<Bucket> {
        let n = NonZeroU32::new(per_minute)?;
        Some(Bucket {
            limiter: RateLimiter::keyed(Quota::per_minute(n))
                .with_middleware::<StateInformationMiddleware>(),
            per_minute,
        })
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

pub struct RateLimits {
    general: Option<Bucket>,
    credentials: Option<Bucket>,
    clock: DefaultClock,
}

const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
const POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

impl RateLimits {
    /// Requests per minute per caller, and credential checks per minute per address; 0
    /// disables either.
    pub fn new(per_minute: u32, credentials_per_minute: u32) -> RateLimits {
        RateLimits {
            general: Bucket::new(per_minute),
            credentials: Bucket::new(credentials_per_minute),
            clock: DefaultClock::default(),
        }
    }

    /// Forgets callers that have been quiet long enough to be back at full budget.
    pub fn forget_idle(&self) {
        for bucket in [&self.general, &self.credentials].into_iter().flatten() {
            bucket.limiter.retain_recent();
        }
    }
}

fn client_ip(req: &ServiceRequest) -> IpAddr {
    req.peer_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip())
}

/// A verified token's id, else the client's address. Only a signature that verifies earns a
/// bucket of its own: otherwise a made-up token per request would be a fresh budget each time.
fn caller_key(req: &ServiceRequest, state: &AppState) -> String {
    let token = crate::auth::principal::bearer_token(req.request())
        .ok()
        .flatten();
    match token.and_then(|t| state.jwt.verify(&t).ok()) {
        Some(claims) => {
            let key = format!("t:{}", claims.jti);
            // The `Principal` extractor takes them from here instead of verifying again.
            req.extensions_mut().insert(claims);
            key
        }
        None => format!("ip:{}", client_ip(req)),
    }
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let route = req
        .app_data::<web::Data<RouteTable>>()
        .and_then(|routes| routes.lookup(&req));
    let (Some(state), Some(route)) = (state, route) else {
        // Unknown routes answer 404/405 without work; nothing to protect.
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(limits) = req.app_data::<web::Data<RateLimits>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let (bucket, key) = if route.probe {
        (None, String::new())
    } else if route.takes_credentials {
        (
            limits.credentials.as_ref(),
            format!("login:{}", client_ip(&req)),
        )
    } else {
        (limits.general.as_ref(), caller_key(&req, &state))
    };
    let Some(bucket) = bucket else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    match bucket.limiter.check_key(&key) {
        Ok(snapshot) => {
            let remaining = snapshot.remaining_burst_capacity();
            let refill = 60u64.saturating_mul(u64::from(
                bucket.per_minute - remaining.min(bucket.per_minute),
            )) / u64::from(bucket.per_minute);
            let mut res = next.call(req).await?.map_into_boxed_body();
            for (name, value) in bucket.headers(remaining, refill) {
                res.headers_mut().insert(name, value);
            }
            Ok(res)
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(limits.clock.now()).as_secs() + 1;
            let detail = if route.takes_credentials {
                "too many login attempts from this address; retry after Retry-After seconds"
            } else {
                "too many requests; slow down and retry after Retry-After seconds"
            };
            let mut res = AppError::too_many_requests(wait, detail).error_response();
            for (name, value) in bucket.headers(0, wait) {
                res.headers_mut().insert(name, value);
            }
            Ok(req.into_response(res))
        }
    }
}
