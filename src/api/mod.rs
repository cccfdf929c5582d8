//! The resources, one module each: handlers, request/response types and queries together.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod campaigns;
mod cascade;
pub mod changes;
pub mod committee;
pub mod crud;
pub mod events;
pub mod feeds;
pub mod health;
pub mod media_reports;
pub mod partners;
pub mod report;
pub mod sessions;
pub mod shared;
pub mod summary;
pub mod tallies;
pub mod tokens;
pub mod trainings;
pub mod units;
pub mod webhooks;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Every route of the API. The served app and the OpenAPI document are both built from this.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.configure(health::routes).service(
        // The router tries routes in this order: the most polled come first.
        scope("/api/v1")
            .configure(feeds::routes)
            .configure(events::routes)
            .configure(campaigns::routes)
            .configure(summary::routes)
            .configure(report::routes)
            .configure(units::routes)
            .configure(partners::routes)
            .configure(committee::routes)
            .configure(trainings::routes)
            .configure(tallies::routes)
            .configure(media_reports::routes)
            .configure(auth::routes)
            .configure(tokens::routes)
            .configure(accounts::routes)
            .configure(audit::routes)
            .configure(changes::routes)
            .configure(webhooks::routes),
    );
}
