//! The macros that declare a resource's standard parts: how its rows are found
//! ([`crate::stored_by_id!`]), deleted ([`crate::removable_by_id!`]) and served
//! ([`crate::resource_handlers!`]).

/// Implements [`Stored`] for a row of `$table`, by id: `stored_by_id!(Unit, units)`, or by
/// campaign (id or slug) and id: `stored_by_id!(Body in campaign, committee_bodies)`.
#[macro_export]
macro_rules! stored_by_id {
    ($row:ident, $table:ident) => {
        impl $crate::api::crud::Stored for $row {
            type Key = ::uuid::Uuid;

            async fn read(
                conn: &mut ::diesel_async::AsyncPgConnection,
                id: ::uuid::Uuid,
                lock: $crate::api::crud::Lock,
            ) -> $crate::error::AppResult<$row> {
                let query = $table::table.find(id).select($row::as_select());
                Ok($crate::first_row!(query, conn, lock))
            }
        }
    };
    ($row:ident in campaign, $table:ident) => {
        impl $crate::api::crud::Stored for $row {
            /// The campaign's id or slug, and the row's id.
            type Key = (String, ::uuid::Uuid);

            async fn read(
                conn: &mut ::diesel_async::AsyncPgConnection,
                (campaign, id): (String, ::uuid::Uuid),
                lock: $crate::api::crud::Lock,
            ) -> $crate::error::AppResult<$row> {
                let campaign = $crate::api::shared::campaign_id(conn, &campaign).await?;
                let query = $table::table
                    .filter($table::campaign_id.eq(campaign))
                    .filter($table::id.eq(id))
                    .select($row::as_select());
                Ok($crate::first_row!(query, conn, lock))
            }
        }
    };
}

/// The start of a list nested in a campaign: the campaign (`$campaign`, its id or slug) found
/// on a connection of the [`ListRequest`](crate::api::crud::ListRequest), and the page of the
/// rows `$from` (`$table`, or a join) selects as `$select` in it, by id. Evaluates to the
/// query and the connection.
#[macro_export]
macro_rules! campaign_page {
    ($request:ident, $campaign:expr, $from:expr, $table:ident, $select:expr) => {{
        let mut conn = $request.state.conn().await?;
        let campaign = $crate::api::shared::campaign_id(&mut conn, $campaign).await?;
        let selected = $from
            .filter($table::campaign_id.eq(campaign))
            .select($select);
        let query = $crate::keyset_page!(selected, $request.page, $table::id);
        (query, conn)
    }};
}

/// The one way to read a row by a query that finds at most one: `first_row!(query, conn,
/// lock)` reads it, locked for the rest of the transaction when `lock` is
/// [`Lock::ForUpdate`](crate::api::crud::Lock); `first_row!(optional query, conn, lock)` reads
/// it if it is there.
#[macro_export]
macro_rules! first_row {
    (optional $query:ident, $conn:ident, $lock:expr) => {
        match $lock {
            $crate::api::crud::Lock::ForUpdate => {
                $query.for_update().first($conn).await.optional()?
            }
            $crate::api::crud::Lock::No => $query.first($conn).await.optional()?,
        }
    };
    ($query:ident, $conn:ident, $lock:expr) => {
        match $lock {
            $crate::api::crud::Lock::ForUpdate => $query.for_update().first($conn).await?,
            $crate::api::crud::Lock::No => $query.first($conn).await?,
        }
    };
}

/// Implements [`Removable`] for a row of `$table` deleted by its id, on its own (nothing refers
/// to it, or the database cascades): `removable_by_id!(Unit, units)`; or with its dependents:
/// `removable_by_id!(Training, trainings, with Dependents::of_training)`.
#[macro_export]
macro_rules! removable_by_id {
    ($row:ident, $table:ident $(, with $dependents:path)?) => {
        impl $crate::api::shared::Removable for $row {
            $(
                async fn dependents(
                    conn: &mut ::diesel_async::AsyncPgConnection,
                    row: &$row,
                ) -> $crate::error::AppResult<Option<Box<dyn $crate::api::shared::DependentRows>>> {
                    Ok(Some(Box::new($dependents(conn, row.id).await?)))
                }
            )?

            async fn delete(
                conn: &mut ::diesel_async::AsyncPgConnection,
                row: &$row,
            ) -> $crate::error::AppResult<Vec<$crate::journal::Entry>> {
                diesel::delete($table::table.find(row.id))
                    .execute(conn)
                    .await?;
                Ok(Vec::new())
            }
        }
    };
}

/// Declares a resource's standard endpoints, each a handler with its OpenAPI operation, doc
/// comment and route, its body one of the generic functions above:
///
/// ```text
/// crate::resource_handlers! {
///     #[resource(Unit, tag = "units", key id: Uuid = (("id" = Uuid, Path)))]
///
///     #[list("listUnits", "/units", public, UnitFilter, "A page of units")]
///     /// List units. (The doc comment is the operation's summary and description.)
///     fn list;
///     #[create("createUnit", "/units", UnitInput, "Created: the new unit")]
///     fn create;
///     #[show("getUnit", "/units/{id}", public, "The unit")]
///     fn show;
///     #[update("updateUnit", "/units/{id}", UnitInput, "RFC 7396 merge patch of a UnitInput",
///         json!({"short_name": "市教育局"}), "The changed unit")]
///     fn update;
///     #[delete("deleteUnit", "/units/{id}", "Deleted")]
///     fn remove;
///     #[custom]
///     fn written_out_in_the_module;
/// }
/// ```
///
/// The operation's pieces come first (operation id, route, who may read, the filter or input
/// type, the response's description), then its doc comment, then the handler's name.
/// `public` reads are open to anonymous callers, `token` reads to any valid token; writes
/// always need a token. `#[custom]` registers a handler the module writes out itself. The
/// macro also declares the module's `routes`, in the order declared. The module imports
/// [`prelude`](crate::api::crud::prelude).
#[macro_export]
macro_rules! resource_handlers {
    (
        #[resource($row:ident, tag = $tag:tt, key $key:ident: $key_ty:tt = $key_params:tt)]
        $(#[$kind:ident $(($($args:tt)*))?] $(#[doc = $doc:tt])* fn $name:ident;)*
    ) => {
        $($crate::resource_handlers!(
            @$kind [$row, $tag, $key, $key_ty, $key_params] [$(#[doc = $doc])*] $name
            ($($($args)*)?)
        );)*

        /// The resource's routes, in the order declared.
        pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
            cfg$(.service($name))*;
        }
    };
    // A handler written out in the module (its route is registered here, in its place).
    (@custom $ctx:tt [] $name:ident ()) => {};

    (@as list [$row:ident, $tag:tt, $key:ident, $key_ty:tt, $key_params:tt] [$($doc:tt)*]
        $name:ident ($op:tt, $path:tt, $security:tt, $caller:ident, $filter:ident, $desc:tt)
    ) => {
        $($doc)*
        #[utoipa::path(
            tag = $tag,
            operation_id = $op,
            params(PageParams, $filter),
            security $security,
            responses((status = 200, description = $desc, body = Page<$row>))
        )]
        #[get($path)]
        pub async fn $name(
            req: HttpRequest,
            state: web::Data<AppState>,
            caller: $caller,
            page: web::Query<PageParams>,
            filter: web::Query<$filter>,
        ) -> AppResult<HttpResponse> {
            let caller = $crate::api::crud::Caller::sight(caller);
            $crate::api::crud::list::<$row>(&req, &state, &caller, &page, &filter).await
        }
    };

    (@as list_in_campaign [$row:ident, $tag:tt, $key:ident, $key_ty:tt, $key_params:tt]
        [$($doc:tt)*]
        $name:ident ($op:tt, $path:tt, $security:tt, $caller:ident, $filter:ident, $desc:tt)
    ) => {
        $($doc)*
        #[utoipa::path(
            tag = $tag,
            operation_id = $op,
            params(("id" = String, Path, description = "Campaign id or slug"), PageParams, $filter),
            security $security,
            responses((status = 200, description = $desc, body = Page<$row>))
        )]
        #[get($path)]
        pub async fn $name(
            req: HttpRequest,
            state: web::Data<AppState>,
            caller: $caller,
            id: web::Path<String>,
            page: web::Query<PageParams>,
            filter: web::Query<$filter>,
        ) -> AppResult<HttpResponse> {
            let caller = $crate::api::crud::Caller::sight(caller);
            let filter = $crate::api::crud::InCampaign {
                campaign: id.into_inner(),
                filter: filter.into_inner(),
            };
            $crate::api::crud::list::<$row>(&req, &state, &caller, &page, &filter).await
        }
    };

    (@create [$row:ident, $tag:tt, $key:ident, $key_ty:tt, $key_params:tt] [$($doc:tt)*]
        $name:ident ($op:tt, $path:tt, $input:ident, $created:tt $(, $location:tt)?)
    ) => {
        $($doc)*
        #[utoipa::path(
            tag = $tag,
            operation_id = $op,
            request_body = $input,
            security(("bearer" = [])),
            responses((status = 201, description = $created, body = $row,
                headers(("Location" = String $(, description = $location)?), ("ETag" = String))))
        )]
        #[post($path)]
        pub async fn $name(
            req: HttpRequest,
            state: web::Data<AppState>,
            principal: Principal,
            body: JsonBody<$input>,
        ) -> AppResult<HttpResponse> {
            $crate::api::crud::create(&req, &state, &principal, body.0).await
        }
    };

    (@create_in_campaign [$row:ident, $tag:tt, $key:ident, $key_ty:tt, $key_params:tt]
        [$($doc:tt)*] $name:ident ($op:tt, $path:tt, $input:ident, $created:tt)
    ) => {
        $($doc)*
        #[utoipa::path(
            tag = $tag,
            operation_id = $op,
            params(("id" = String, Path, description = "Campaign id or slug")),
            request_body = $input,
            security(("bearer" = [])),
            responses((status = 201, description = $created, body = $row,
                headers(("Location" = String), ("ETag" = String))))
        )]
        #[post($path)]
        pub async fn $name(
            req: HttpRequest,
            state: web::Data<AppState>,
            principal: Principal,
            id: web::Path<String>,
            body: JsonBody<$input>,
        ) -> AppResult<HttpResponse> {
            $crate::api::crud::create_in_campaign(&req, &state, &principal, &id, body.0).await
        }
    };

    (@as show [$row:ident, $tag:tt, $key:ident, $key_ty:tt, $key_params:tt] [$($doc:tt)*]
        $name:ident ($op:tt, $path:tt, $security:tt, $caller:ident, $desc:tt)
    ) => {
        $($doc)*
        #[utoipa::path(
            tag = $tag,
            operation_id = $op,
            params $key_params,
            security $security,
            responses((status = 200, description = $desc, body = $row, headers(("ETag" = String))))
        )]
        #[get($path)]
        pub async fn $name(
            req: HttpRequest,
            state: web::Data<AppState>,
            caller: $caller,
            $key: web::Path<$key_ty>,
        ) -> AppResult<HttpResponse> {
            let caller = $crate::api::crud::Caller::sight(caller);
            $crate::api::crud::show::<$row>(&req, &state, &caller, $key.into_inner()).await
        }
    };

    (@update [$row:ident, $tag:tt, $key:ident, $key_ty:tt, $key_params:tt] [$($doc:tt)*]
        $name:ident ($op:tt, $path:tt, $input:ident, $patch_of:tt, json!$example:tt, $desc:tt)
    ) => {
        $($doc)*
        #[utoipa::path(
            tag = $tag,
            operation_id = $op,
            params $key_params,
            request_body(content = serde_json::Value, description = $patch_of,
                content_type = "application/merge-patch+json", example = json!$example),
            security(("bearer" = [])),
            responses((status = 200, description = $desc, body = $row, headers(("ETag" = String))))
        )]
        #[patch($path)]
        pub async fn $name(
            req: HttpRequest,
            state: web::Data<AppState>,
            principal: Principal,
            $key: web::Path<$key_ty>,
            if_match: IfMatch,
            patch: JsonBody<serde_json::Value>,
        ) -> AppResult<HttpResponse> {
            let key = $key.into_inner();
            $crate::api::crud::update::<$row, $input>(&req, &state, &principal, key, &if_match, &patch.0)
                .await
        }
    };

    (@delete [$row:ident, $tag:tt, $key:ident, $key_ty:tt, $key_params:tt] [$($doc:tt)*]
        $name:ident ($op:tt, $path:tt, $desc:tt)
    ) => {
        $($doc)*
        #[utoipa::path(
            tag = $tag,
            operation_id = $op,
            params $key_params,
            security(("bearer" = [])),
            responses((status = 204, description = $desc))
        )]
        #[delete($path)]
        pub async fn $name(
            state: web::Data<AppState>,
            principal: Principal,
            $key: web::Path<$key_ty>,
            if_match: IfMatch,
        ) -> AppResult<HttpResponse> {
            $crate::api::crud::remove::<$row>(&state, &principal, $key.into_inner(), &if_match).await
        }
    };
    // Who may read: the operation's security, and the handler's caller.
    (@$kind:ident $ctx:tt $docs:tt $name:ident ($op:tt, $path:tt, public, $($args:tt)*)) => {
        $crate::resource_handlers!(@as $kind $ctx $docs $name
            ($op, $path, ((), ("bearer" = [])), MaybePrincipal, $($args)*));
    };
    (@$kind:ident $ctx:tt $docs:tt $name:ident ($op:tt, $path:tt, token, $($args:tt)*)) => {
        $crate::resource_handlers!(@as $kind $ctx $docs $name
            ($op, $path, (("bearer" = [])), Principal, $($args)*));
    };
}
