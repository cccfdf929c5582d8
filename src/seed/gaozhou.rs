//! `learnweek seed gaozhou-2014`: the 2014 Gaozhou activity week, from `seed/gaozhou-2014.json`.
//! Loading is idempotent: rows are found by their natural keys or deterministic ids first.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Deserialize;
use uuid::Uuid;

use super::seed_id;
use crate::api::campaigns::{self, CampaignInput};
use crate::api::units::{self, UnitInput, UnitKind};
use crate::app::AppState;
use crate::auth::Authorized;
use crate::error::{AppError, AppResult};
use crate::schema;

const DATA: &str = include_str!("../../seed/gaozhou-2014.json");
const SEED_LOCK_KEY: i64 = 0x6c65_6172_6e77_6b03;

#[derive(Deserialize)]
struct SeedFile {
    campaign: CampaignInput,
    units: Vec<SeedUnit>,
}

#[derive(Deserialize)]
struct SeedUnit {
    key: String,
    name: String,
    short_name: Option<String>,
    kind: UnitKind,
}

/// Loads the demo week; returns a one-line description of what was there and what was added.
pub async fn load(state: &AppState) -> AppResult<String> {
    let file: SeedFile = serde_json::from_str(DATA).map_err(AppError::internal)?;
    let auth = Authorized::system("seed");
    let mut conn = state.conn().await?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<diesel::sql_types::BigInt, _>(SEED_LOCK_KEY)
            .execute(conn)
            .await?;
        let mut added = 0usize;
        let slug = file.campaign.slug.clone();
        let campaign = match campaigns::find(conn, &slug).await {
            Ok(c) => c,
            Err(e) if e.status().as_u16() == 404 => {
                added += 1;
                campaigns::insert(conn, &auth, seed_id("campaign", &slug), file.campaign).await?
            }
            Err(e) => return Err(e),
        };
        let mut unit_ids: HashMap<String, Uuid> = HashMap::new();
        for unit in file.units {
            let existing: Option<Uuid> = schema::units::table
                .filter(schema::units::name.eq(&unit.name))
                .select(schema::units::id)
                .first(conn)
                .await
                .optional()?;
            let id = match existing {
                Some(id) => id,
                None => {
                    added += 1;
                    let input = UnitInput {
                        name: unit.name,
                        short_name: unit.short_name,
                        kind: unit.kind,
                    };
                    units::insert(conn, &auth, seed_id("unit", &unit.key), input)
                        .await?
                        .id
                }
            };
            unit_ids.insert(unit.key, id);
        }
        Ok(format!(
            "demo campaign {} ({}): {} units; {added} rows added",
            campaign.slug,
            campaign.id,
            unit_ids.len()
        ))
    })
    .await
}
