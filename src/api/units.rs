//! `/units`: the organizations taking part (bureaus, mass organizations, schools, ...).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::crud::prelude::*;
use crate::api::crud::{ListRequest, Listed, NewRow, Resource};
use crate::api::shared::{Changes, Owned};
use crate::auth::Subject;

use crate::journal::{Entity, Journaled, RowKey};
use crate::schema::units;
use crate::validate::{Checks, search_term};

pub use crate::vocabulary::UnitKind;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Insertable, AsChangeset)]
#[diesel(table_name = units, treat_none_as_null = true)]
#[serde(deny_unknown_fields)]
pub struct UnitInput {
    /// Full name, unique.
    #[schema(example = "高州市教育局", min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(example = "市教育局", max_length = 100)]
    pub short_name: Option<String>,
    pub kind: UnitKind,
}

impl UnitInput {
    fn validate(self) -> AppResult<Self> {
        let mut c = Checks::new();
        c.text("name", &self.name, 200);
        c.opt_text("short_name", self.short_name.as_deref(), 100);
        c.finish()?;
        Ok(self)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = units)]
pub struct Unit {
    pub id: Uuid,
    #[schema(example = "高州市教育局")]
    pub name: String,
    #[schema(example = "市教育局")]
    pub short_name: Option<String>,
    pub kind: UnitKind,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Journaled for Unit {
    const ENTITY: Entity = Entity::Unit;

    fn row_key(&self) -> RowKey {
        RowKey::new(self.id, None, None)
    }
}

crate::stored_by_id!(Unit, units);
crate::removable_by_id!(Unit, units);

impl Resource for Unit {
    const SUBJECT: Subject = Subject::Unit;
    const ADMIN_ONLY: bool = true;

    fn location(&self) -> String {
        format!("/api/v1/units/{}", self.id)
    }
}

impl Owned for UnitInput {}

impl Changes<Unit> for UnitInput {
    async fn update(self, conn: &mut AsyncPgConnection, before: &Unit) -> AppResult<Unit> {
        let values = self.validate()?;
        Ok(diesel::update(units::table.find(before.id))
            .set((&values, units::updated_at.eq(diesel::dsl::now)))
            .returning(Unit::as_returning())
            .get_result(conn)
            .await?)
    }
}

impl From<&Unit> for UnitInput {
    fn from(u: &Unit) -> Self {
        UnitInput {
            name: u.name.clone(),
            short_name: u.short_name.clone(),
            kind: u.kind,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitFilter {
    pub kind: Option<UnitKind>,
    /// Substring of the name or short name (Chinese included).
    pub q: Option<String>,
    /// Only units changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
}

impl Listed for Unit {
    type Filter = UnitFilter;

    async fn page(request: ListRequest<'_>, filter: &UnitFilter) -> AppResult<Vec<Self>> {
        let q = search_term(filter.q.as_deref())?;
        let mut query = crate::keyset_page!(
            units::table.select(Unit::as_select()),
            request.page,
            units::id
        );
        crate::filter_by!(query,
            filter.kind => units::kind,
            filter.updated_since => units::updated_at: ge,
        );
        if let Some(q) = q {
            query = query.filter(units::name.ilike(q.clone()).or(units::short_name.ilike(q)));
        }
        Ok(query.load(&mut request.state.conn().await?).await?)
    }
}

impl NewRow for UnitInput {
    type Row = Unit;

    async fn store(self, conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Unit> {
        let values = self.validate()?;
        Ok(diesel::insert_into(units::table)
            .values((units::id.eq(id), &values))
            .returning(Unit::as_returning())
            .get_result(conn)
            .await?)
    }
}

pub use crate::api::crud::insert;

crate::resource_handlers! {
    #[resource(Unit, tag = "units", key id: Uuid = (("id" = Uuid, Path)))]

    #[list("listUnits", "/units", public, UnitFilter, "A page of units, oldest first")]
    /// List units.
    ///
    /// Roles: anyone, including anonymous callers.
    fn list;

    #[create("createUnit", "/units", UnitInput, "Created", "URL of the new unit")]
    /// Create a unit.
    ///
    /// Roles: admin.
    fn create;

    #[show("getUnit", "/units/{id}", public, "The unit")]
    /// Get a unit.
    ///
    /// Roles: anyone, including anonymous callers.
    fn show;

    #[update("updateUnit", "/units/{id}", UnitInput, "RFC 7396 merge patch of a UnitInput",
        json!({"short_name": "市教育局"}), "The changed unit")]
    /// Change a unit (JSON merge patch).
    ///
    /// Roles: admin.
    fn update;

    #[delete("deleteUnit", "/units/{id}", "Deleted")]
    /// Delete a unit. Refused (409) while anything refers to it (events, partners, accounts, ...).
    ///
    /// Roles: admin.
    fn remove;
}
