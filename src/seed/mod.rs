//! Data sets: the Gaozhou 2014 demo week, and synthetic data at scale for benchmarks.

mod editions;
pub mod gaozhou;
pub mod synthetic;

use uuid::Uuid;

/// Namespace of the deterministic ids of seeded rows, so loading twice finds the first load.
const SEED_NAMESPACE: Uuid = Uuid::from_u128(0x8f0e_1c3a_5b7d_4e9f_a1b2_c3d4_e5f6_0718);

pub fn seed_id(kind: &str, key: &str) -> Uuid {
    Uuid::new_v5(&SEED_NAMESPACE, format!("{kind}/{key}").as_bytes())
}
