//! Requests by route and status, and their latency, into [`crate::metrics::Metrics`].

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use crate::metrics::Metrics;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let res = next.call(req).await?;
    if let Some(metrics) = metrics {
        let matched = super::route_info::matched(res.request());
        let route = matched.as_ref().and_then(|m| m.pattern.as_deref());
        metrics.observe(
            res.request().method().as_str(),
            route.unwrap_or("unmatched"),
            res.status().as_str(),
            started.elapsed().as_secs_f64(),
        );
    }
    Ok(res)
}
