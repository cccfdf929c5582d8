//! `/campaigns`: one edition of the activity week.

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::crud::prelude::*;
use crate::api::crud::{ListRequest, Listed, Lock, NewRow, Resource, Stored};
use crate::api::shared::{Changes, Owned, Removable, is_region_code, region_prefix};
use crate::auth::Subject;
use crate::error::AppError;

use crate::journal::{Entity, Entry, Journaled, Op, RowKey};
use crate::read_cache::KeyIndex;
use crate::schema::{campaign_partners, campaigns, committee_bodies, committee_members};
use crate::validate::{Checks, search_term};

pub use crate::vocabulary::CampaignStatus;

pub const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";

/// A campaign as sent by clients (create, and the target of a merge patch).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Insertable, AsChangeset)]
#[diesel(table_name = campaigns, treat_none_as_null = true)]
#[serde(deny_unknown_fields)]
pub struct CampaignInput {
    /// URL name: lowercase letters, digits and single dashes.
    #[schema(
        example = "gaozhou-2014",
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$",
        min_length = 3,
        max_length = 64
    )]
    pub slug: String,
    #[schema(
        example = "高州市2014年全民终身学习活动周",
        min_length = 1,
        max_length = 200
    )]
    pub name: String,
    #[schema(example = "全民终身学习　创造出彩人生", max_length = 200)]
    pub theme: Option<String>,
    #[schema(example = "广东省茂名市高州市", max_length = 200)]
    pub region: Option<String>,
    /// The administrative division code (GB/T 2260) of `region`: editions of the week in one
    /// place share it (`/trends`), and a province or prefecture sums the campaigns under its
    /// code (`/regions/{code}/summary`).
    #[schema(example = "440981", pattern = "^[0-9]{6}$")]
    pub region_code: Option<String>,
    /// Defaults to the year of `starts_on`.
    #[diesel(skip_insertion, skip_update)]
    #[schema(example = 2014, minimum = 1990, maximum = 2100)]
    pub year: Option<i32>,
    #[schema(example = "2014-10-19")]
    pub starts_on: NaiveDate,
    /// Not before `starts_on`.
    #[schema(example = "2014-10-25")]
    pub ends_on: NaiveDate,
    /// IANA time zone name.
    #[serde(default = "default_timezone")]
    #[schema(example = "Asia/Shanghai", default = "Asia/Shanghai")]
    pub timezone: String,
    /// The notice that called the week.
    #[schema(example = "教职成厅函[2014]23号", max_length = 200)]
    pub notice_ref: Option<String>,
    /// The towns and streets the week should reach (distinct names).
    #[serde(default)]
    #[schema(example = json!(["潘州街道", "石仔岭街道", "长坡镇"]))]
    pub areas: Vec<String>,
    #[serde(default = "default_status")]
    pub status: CampaignStatus,
}

fn default_timezone() -> String {
    DEFAULT_TIMEZONE.into()
}

fn default_status() -> CampaignStatus {
    CampaignStatus::Planning
}

impl CampaignInput {
    /// The year, given or of `starts_on`.
    fn year(&self) -> i32 {
        self.year.unwrap_or_else(|| self.starts_on.year())
    }

    fn validate(self) -> AppResult<Self> {
        let mut c = Checks::new();
        c.check(
            is_slug(&self.slug),
            "slug",
            "3 to 64 lowercase letters, digits and single dashes, e.g. gaozhou-2014",
        );
        // One-line fields (the name is a calendar's name, for one): no line breaks. The slug's
        // own check admits only letters, digits and dashes.
        c.line("name", &self.name, 200);
        c.opt_line("theme", self.theme.as_deref(), 200);
        c.opt_line("region", self.region.as_deref(), 200);
        c.opt_line("notice_ref", self.notice_ref.as_deref(), 200);
        let year = self.year();
        c.check(
            (1990..=2100).contains(&year),
            "year",
            "must be between 1990 and 2100",
        );
        c.check(
            (1990..=2100).contains(&self.starts_on.year()),
            "starts_on",
            "must be between 1990 and 2100",
        );
        c.check(
            self.ends_on >= self.starts_on,
            "ends_on",
            "must not be before starts_on",
        );
        c.check(
            self.timezone.parse::<chrono_tz::Tz>().is_ok(),
            "timezone",
            "must be an IANA time zone name such as Asia/Shanghai",
        );
        c.labels("areas", &self.areas, 1000, 100);
        c.check(
            self.region_code.as_deref().is_none_or(is_region_code),
            "region_code",
            "must be a six-digit administrative division code (GB/T 2260), e.g. 440981",
        );
        c.finish()?;
        Ok(self)
    }
}

fn is_slug(s: &str) -> bool {
    (3..=64).contains(&s.len())
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = campaigns)]
pub struct Campaign {
    pub id: Uuid,
    #[schema(example = "gaozhou-2014")]
    pub slug: String,
    #[schema(example = "高州市2014年全民终身学习活动周")]
    pub name: String,
    #[schema(example = "全民终身学习　创造出彩人生")]
    pub theme: Option<String>,
    pub region: Option<String>,
    #[schema(example = "440981")]
    pub region_code: Option<String>,
    pub year: i32,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub timezone: String,
    #[schema(example = "教职成厅函[2014]23号")]
    pub notice_ref: Option<String>,
    pub areas: Vec<String>,
    pub status: CampaignStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Journaled for Campaign {
    const ENTITY: Entity = Entity::Campaign;

    fn row_key(&self) -> RowKey {
        RowKey::new(self.id, Some(self.id), None)
    }
}

impl Resource for Campaign {
    const SUBJECT: Subject = Subject::Campaign;
    const ADMIN_ONLY: bool = true;

    fn location(&self) -> String {
        format!("/api/v1/campaigns/{}", self.id)
    }
}

impl Stored for Campaign {
    /// The campaign's id or slug.
    type Key = String;

    /// As [`find`], locking the row for the rest of the transaction when asked to.
    async fn read(
        conn: &mut AsyncPgConnection,
        id_or_slug: String,
        lock: Lock,
    ) -> AppResult<Campaign> {
        let query = campaigns::table
            .select(Campaign::as_select())
            .filter(crate::api::shared::campaign_named(&id_or_slug));
        Ok(crate::first_row!(query, conn, lock))
    }
}

impl Removable for Campaign {
    /// Partners and the committee go with the campaign (ON DELETE CASCADE): they are recorded.
    async fn delete(conn: &mut AsyncPgConnection, before: &Campaign) -> AppResult<Vec<Entry>> {
        macro_rules! ids_in_campaign {
            ($table:ident) => {
                $table::table
                    .filter($table::campaign_id.eq(before.id))
                    .select($table::id)
                    .load::<Uuid>(conn)
                    .await?
            };
        }
        let children = [
            (Entity::Partner, ids_in_campaign!(campaign_partners)),
            (Entity::CommitteeBody, ids_in_campaign!(committee_bodies)),
            (Entity::CommitteeMember, ids_in_campaign!(committee_members)),
        ];
        diesel::delete(campaigns::table.find(before.id))
            .execute(conn)
            .await?;
        let mut entries = Vec::new();
        for (kind, ids) in children {
            entries.extend(
                ids.into_iter()
                    .map(|id| Entry::new(kind, id, Op::Delete).campaign(before.id)),
            );
        }
        Ok(entries)
    }
}

impl Owned for CampaignInput {}

impl Changes<Campaign> for CampaignInput {
    async fn update(self, conn: &mut AsyncPgConnection, before: &Campaign) -> AppResult<Campaign> {
        let input = self.validate()?;
        Ok(diesel::update(campaigns::table.find(before.id))
            .set((
                &input,
                campaigns::year.eq(input.year()),
                campaigns::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Campaign::as_returning())
            .get_result(conn)
            .await?)
    }
}

impl From<&Campaign> for CampaignInput {
    fn from(c: &Campaign) -> Self {
        CampaignInput {
            slug: c.slug.clone(),
            name: c.name.clone(),
            theme: c.theme.clone(),
            region: c.region.clone(),
            region_code: c.region_code.clone(),
            year: Some(c.year),
            starts_on: c.starts_on,
            ends_on: c.ends_on,
            timezone: c.timezone.clone(),
            notice_ref: c.notice_ref.clone(),
            areas: c.areas.clone(),
            status: c.status,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignFilter {
    pub status: Option<CampaignStatus>,
    pub year: Option<i32>,
    /// Campaigns whose `region_code` lies under this one (`440900`: every campaign in Maoming).
    pub region_code: Option<String>,
    /// Substring of the name or slug (Chinese included).
    pub q: Option<String>,
    /// Only campaigns changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
}

/// Finds a campaign by id or by slug.
pub async fn find(conn: &mut AsyncPgConnection, id_or_slug: &str) -> AppResult<Campaign> {
    Campaign::read(conn, id_or_slug.to_string(), Lock::No).await
}

/// Campaigns by id or slug, kept while unchanged (a `web::Data` of the app): readers of the
/// summary, reports and feeds find their campaign without a database round trip.
pub struct CampaignIndex(KeyIndex<Campaign>);

impl CampaignIndex {
    pub fn new(max_keys: usize) -> Self {
        CampaignIndex(KeyIndex::new(max_keys))
    }

    /// [`find`] for readers: the public may be answered from memory while the campaign is
    /// unchanged; token holders read their own writes at once.
    pub async fn find_for(
        &self,
        state: &AppState,
        caller: &MaybePrincipal,
        id_or_slug: &str,
    ) -> AppResult<Arc<Campaign>> {
        if caller.sees_everything() {
            let found = Box::pin(async { find(&mut *state.conn().await?, id_or_slug).await });
            return Ok(Arc::new(found.await?));
        }
        self.find_cached(state, id_or_slug).await
    }

    /// [`find`] served from memory while the campaign is unchanged.
    pub async fn find_cached(
        &self,
        state: &AppState,
        id_or_slug: &str,
    ) -> AppResult<Arc<Campaign>> {
        let signal = &state.change_signal;
        if let Some(campaign) = self.0.get(signal, id_or_slug) {
            return Ok(campaign);
        }
        // A miss reads the primary: what is kept here is read before its stamp, which a
        // lagging replica's row would not match (see `replica.rs`).
        // Boxed: the database's future is large, and would be copied with every cached read.
        crate::replica::on_primary(Box::pin(self.find_uncached(state, id_or_slug))).await
    }

    async fn find_uncached(&self, state: &AppState, id_or_slug: &str) -> AppResult<Arc<Campaign>> {
        let signal = &state.change_signal;
        let mut conn = state.conn().await?;
        let found = find(&mut conn, id_or_slug).await?;
        let Some(stamp) = signal.campaign_stamp(found.id) else {
            return Ok(Arc::new(found));
        };
        // Read again after the stamp: a change committed meanwhile then moves the stamp.
        let campaign = Arc::new(find(&mut conn, &found.id.to_string()).await?);
        self.0.put(id_or_slug, campaign.id, stamp, campaign.clone());
        Ok(campaign)
    }
}

impl Listed for Campaign {
    type Filter = CampaignFilter;

    async fn page(request: ListRequest<'_>, filter: &CampaignFilter) -> AppResult<Vec<Self>> {
        let q = search_term(filter.q.as_deref())?;
        let selected = campaigns::table.select(Campaign::as_select());
        let mut query = crate::keyset_page!(selected, request.page, campaigns::id);
        crate::filter_by!(query,
            filter.status => campaigns::status,
            filter.year => campaigns::year,
            filter.updated_since => campaigns::updated_at: ge,
        );
        if let Some(code) = filter.region_code.as_deref() {
            let prefix = region_prefix(code).ok_or_else(|| {
                AppError::invalid_field("region_code", "must be a six-digit code, e.g. 440900")
            })?;
            query = query.filter(campaigns::region_code.like(format!("{prefix}%")));
        }
        if let Some(q) = q {
            query = query.filter(
                campaigns::name
                    .ilike(q.clone())
                    .or(campaigns::slug.ilike(q)),
            );
        }
        Ok(query.load(&mut request.state.conn().await?).await?)
    }
}

impl NewRow for CampaignInput {
    type Row = Campaign;

    async fn store(self, conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Campaign> {
        let input = self.validate()?;
        Ok(diesel::insert_into(campaigns::table)
            .values((
                campaigns::id.eq(id),
                &input,
                campaigns::year.eq(input.year()),
            ))
            .returning(Campaign::as_returning())
            .get_result(conn)
            .await?)
    }
}

pub use crate::api::crud::insert;

/// The insert alone, with the journal entry for the caller to record with its others (a
/// bulk loader records once, at its end, so the change-order lock is held only briefly).
pub async fn insert_row(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    input: CampaignInput,
) -> AppResult<(Campaign, Entry)> {
    let campaign = input.store(conn, id).await?;
    let entry = Entry::create_of(&campaign)?;
    Ok((campaign, entry))
}

crate::resource_handlers! {
    #[resource(
        Campaign, tag = "campaigns",
        key id: String =
            (("id" = String, Path, description = "Campaign id (UUID) or slug"))
    )]

    #[list("listCampaigns", "/campaigns", public, CampaignFilter,
        "A page of campaigns, oldest first")]
    /// List campaigns.
    ///
    /// Roles: anyone, including anonymous callers.
    fn list;

    #[create("createCampaign", "/campaigns", CampaignInput, "Created",
        "URL of the new campaign")]
    /// Create a campaign.
    ///
    /// Roles: admin.
    fn create;

    #[show("getCampaign", "/campaigns/{id}", public, "The campaign")]
    /// Get a campaign by id or slug.
    ///
    /// Roles: anyone, including anonymous callers.
    fn show;

    #[update("updateCampaign", "/campaigns/{id}", CampaignInput, "RFC 7396 merge patch of a CampaignInput",
        json!({"status": "active"}), "The changed campaign")]
    /// Change a campaign (JSON merge patch).
    ///
    /// Roles: admin.
    fn update;

    #[delete("deleteCampaign", "/campaigns/{id}", "Deleted")]
    /// Delete a campaign. Refused (409) while events, trainings, tallies or media reports refer to it.
    ///
    /// Roles: admin.
    fn remove;
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        for ok in ["gaozhou-2014", "abc", "a1-b2-c3"] {
            assert!(super::is_slug(ok), "{ok}");
        }
        for bad in ["ab", "Gaozhou", "a--b", "-ab", "ab-", "高州-2014", "a_b"] {
            assert!(!super::is_slug(bad), "{bad}");
        }
    }
}
