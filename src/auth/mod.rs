//! Who is calling (bearer tokens checked against the token table) and what they may write
//! (the one policy every write goes through).

pub mod jwt;
pub mod password;
pub mod policy;
pub mod principal;

pub use crate::vocabulary::Role;
pub use jwt::{Claims, ISSUER, JwtKeys};
pub use policy::{Authorized, Subject, authorize};
pub use principal::{MaybePrincipal, Principal};
