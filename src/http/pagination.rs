//! Keyset pagination: `{items, next_cursor}` plus a `Link: <...>; rel="next"` header.
//!
//! The cursor is opaque to clients: base64url of the sort key of the last item returned.
//! Keyset (not offset) pagination stays stable when rows are inserted while paging.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1 to 200 (default 50). Values outside the range are refused (422), not clamped.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// Opaque cursor: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// Rows to fetch: one more than the page, to learn whether there is a next page.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }
}

impl PageParams {
    pub fn validate(&self) -> AppResult<PageRequest> {
        let limit = validate_limit(self.limit)?;
        let after = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(text) => Some(Cursor::decode(text)?),
        };
        Ok(PageRequest { limit, after })
    }
}

/// `limit`: 1 to [`MAX_LIMIT`] (422 outside, not clamped), [`DEFAULT_LIMIT`] when absent.
pub fn validate_limit(limit: Option<i64>) -> AppResult<i64> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::invalid_field(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    Ok(limit)
}

/// The sort key of a row. Lists sort by (`at`, `id`), by `id` alone, or by `seq`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    #[serde(rename = "i", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
}

impl Cursor {
    pub fn by_id(id: Uuid) -> Self {
        Cursor {
            id: Some(id),
            ..Default::default()
        }
    }

    pub fn by_time(at: DateTime<Utc>, id: Uuid) -> Self {
        Cursor {
            at: Some(at),
            id: Some(id),
            seq: None,
        }
    }

    pub fn by_seq(seq: i64) -> Self {
        Cursor {
            seq: Some(seq),
            ..Default::default()
        }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(text: &str) -> AppResult<Self> {
        URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| AppError::bad_request("cursor is not one this API handed out"))
    }

    pub fn id(&self) -> AppResult<Uuid> {
        self.id.ok_or_else(invalid_cursor)
    }

    pub fn time_and_id(&self) -> AppResult<(DateTime<Utc>, Uuid)> {
        Ok((self.at.ok_or_else(invalid_cursor)?, self.id()?))
    }

    pub fn seq(&self) -> AppResult<i64> {
        self.seq.ok_or_else(invalid_cursor)
    }
}

fn invalid_cursor() -> AppError {
    AppError::bad_request("cursor does not belong to this list")
}

/// A list query's page: `$query` (a boxed select) sorted by its key, limited to one row more
/// than the page, and starting after the cursor. The key is `id` alone, or a time and `id`;
/// or a sequence number, newest first (logs) or oldest first (a row's history).
///
/// ```text
/// let mut query = crate::keyset_page!(units::table.select(Unit::as_select()), page, units::id);
/// let mut query = crate::keyset_page!(events::table.select(..), page, events::starts_at, events::id);
/// let mut query = crate::keyset_page!(audit_log::table.select(..), page, newest first audit_log::id);
/// let mut query = crate::keyset_page!(tally_history::table.select(..), page, oldest first tally_history::id);
/// ```
#[macro_export]
macro_rules! keyset_page {
    ($select:expr, $page:expr, newest first $seq:expr) => {{
        let mut query = $select.order($seq.desc()).limit($page.fetch()).into_boxed();
        if let Some(after) = &$page.after {
            query = query.filter($seq.lt(after.seq()?));
        }
        query
    }};
    ($select:expr, $page:expr, oldest first $seq:expr) => {{
        let mut query = $select.order($seq).limit($page.fetch()).into_boxed();
        if let Some(after) = &$page.after {
            query = query.filter($seq.gt(after.seq()?));
        }
        query
    }};
    ($select:expr, $page:expr, $id:expr) => {{
        let mut query = $select.order($id).limit($page.fetch()).into_boxed();
        if let Some(after) = &$page.after {
            query = query.filter($id.gt(after.id()?));
        }
        query
    }};
    ($select:expr, $page:expr, $at:expr, $id:expr) => {{
        let mut query = $select.order(($at, $id)).limit($page.fetch()).into_boxed();
        if let Some(after) = &$page.after {
            let (at, id) = after.time_and_id()?;
            query = query.filter($at.gt(at).or($at.eq(at).and($id.gt(id))));
        }
        query
    }};
}

/// A list's optional filters: for each `value => column` whose value is set, keeps the rows
/// whose column equals it (`value => column: ge` compares with `ge`, `lt`, ... instead).
#[macro_export]
macro_rules! filter_by {
    (@one $query:ident, $value:expr, $column:path) => {
        $crate::filter_by!(@one $query, $value, $column, eq)
    };
    (@one $query:ident, $value:expr, $column:path, $op:ident) => {
        if let Some(value) = $value {
            $query = $query.filter($column.$op(value));
        }
    };
    ($query:ident, $($value:expr => $column:path $(: $op:ident)?),+ $(,)?) => {
        $($crate::filter_by!(@one $query, $value, $column $(, $op)?);)+
    };
}

/// The list envelope.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Written by hand: utoipa's derive inlines a generic argument, so every `Page_X` would
/// carry a copy of `X` and the item type would have no name of its own in clients.
/// (`ComposeSchema` is how utoipa 6 builds generic schemas; `PartialSchema` follows from it.)
impl<T: ToSchema> utoipa::__dev::ComposeSchema for Page<T> {
    fn compose(_generics: Vec<RefOr<Schema>>) -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some("The list envelope."))
            .property(
                "items",
                ArrayBuilder::new().items(RefOr::Ref(Ref::from_schema_name(T::name()))),
            )
            .required("items")
            .property(
                "next_cursor",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                    .description(Some(
                        "Pass as `cursor` to get the next page; `null` on the last page.",
                    )),
            )
            .required("next_cursor")
            .into()
    }
}

impl<T: ToSchema> ToSchema for Page<T> {
    fn name() -> std::borrow::Cow<'static, str> {
        "Page".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
}

impl<T: Serialize> Page<T> {
    /// Builds a page from `fetch()` rows: the extra row, if any, only says there is more.
    pub fn from_rows(mut rows: Vec<T>, page: &PageRequest, key: impl Fn(&T) -> Cursor) -> Self {
        let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| key(last).encode())
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }

    /// The 200 response (with an `ETag`, so pollers get 304), and a `Link` header to the next page.
    pub fn respond(&self, req: &HttpRequest) -> AppResult<HttpResponse> {
        let mut res = crate::http::json_ok(req, self)?;
        if let Some(cursor) = &self.next_cursor {
            link_next(&mut res, req, "cursor", cursor)?;
        }
        Ok(res)
    }
}

/// Adds `Link: <...>; rel="next"`: the request's own path and query with `param` (the
/// cursor's parameter) set to `cursor`.
pub fn link_next(
    res: &mut HttpResponse,
    req: &HttpRequest,
    param: &str,
    cursor: &str,
) -> AppResult<()> {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    pairs.retain(|(k, _)| k != param);
    pairs.push((param.into(), cursor.into()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let link = format!("<{}?{}>; rel=\"next\"", req.path(), query);
    let link = header::HeaderValue::try_from(link).map_err(AppError::internal)?;
    res.headers_mut().insert(header::LINK, link);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let c = Cursor::by_time(Utc::now(), Uuid::now_v7());
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("not a cursor").is_err());
    }
}
