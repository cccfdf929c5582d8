//! Which requests may read from the replica: anonymous `GET`/`HEAD` only, decided once here so
//! handlers stay unaware of it.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use crate::replica;
use crate::state::AppState;

/// Marks anonymous reads, which may be answered from the read replica (see `crate::replica`).
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let replica = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.reads.is_configured());
    // Any Authorization header, valid or not, counts as a caller with a token: token holders
    // read their own writes, and an invalid token is answered from the primary too.
    let anonymous = matches!(*req.method(), Method::GET | Method::HEAD)
        && !req.headers().contains_key(header::AUTHORIZATION);
    if replica && anonymous {
        replica::anonymous_read(next.call(req)).await
    } else {
        next.call(req).await
    }
}
