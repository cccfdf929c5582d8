// Diesel table definitions, kept in step with migrations/ by hand
// (`diesel print-schema` needs libpq, which this project does not link).

diesel::table! {
    units (id) {
        id -> Uuid,
        name -> Text,
        short_name -> Nullable<Text>,
        kind -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        theme -> Nullable<Text>,
        region -> Nullable<Text>,
        year -> Int4,
        starts_on -> Date,
        ends_on -> Date,
        timezone -> Text,
        notice_ref -> Nullable<Text>,
        areas -> Array<Text>,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        region_code -> Nullable<Text>,
    }
}

diesel::table! {
    accounts (id) {
        id -> Uuid,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        unit_id -> Nullable<Uuid>,
        disabled -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Uuid,
        name -> Text,
        kind -> Text,
        role -> Text,
        unit_id -> Nullable<Uuid>,
        account_id -> Nullable<Uuid>,
        created_by -> Text,
        expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        family_id -> Uuid,
        account_id -> Uuid,
        token_hash -> Bytea,
        access_token_id -> Uuid,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    login_failures (username) {
        username -> Text,
        failures -> Int4,
        first_failed -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    changes (seq) {
        seq -> Int8,
        #[sql_name = "type"]
        type_ -> Text,
        entity_id -> Uuid,
        op -> Text,
        at -> Timestamptz,
        campaign_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        at -> Timestamptz,
        actor -> Text,
        actor_token_id -> Nullable<Uuid>,
        actor_role -> Text,
        actor_unit_id -> Nullable<Uuid>,
        #[sql_name = "type"]
        type_ -> Text,
        entity_id -> Uuid,
        op -> Text,
        owner_unit_id -> Nullable<Uuid>,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        method -> Text,
        path -> Text,
        request_hash -> Bytea,
        status -> Nullable<Int2>,
        response_body -> Nullable<Bytea>,
        location -> Nullable<Text>,
        content_type -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    campaign_partners (id) {
        id -> Uuid,
        campaign_id -> Uuid,
        unit_id -> Uuid,
        role -> Text,
        lead -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    committee_bodies (id) {
        id -> Uuid,
        campaign_id -> Uuid,
        name -> Text,
        kind -> Text,
        unit_id -> Nullable<Uuid>,
        parent_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    committee_members (id) {
        id -> Uuid,
        campaign_id -> Uuid,
        body_id -> Uuid,
        name -> Text,
        position -> Nullable<Text>,
        committee_role -> Text,
        unit_id -> Nullable<Uuid>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    events (id) {
        id -> Uuid,
        campaign_id -> Uuid,
        title -> Text,
        kind -> Text,
        summary -> Nullable<Text>,
        description -> Nullable<Text>,
        venue_name -> Nullable<Text>,
        venue_address -> Nullable<Text>,
        area -> Nullable<Text>,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        host_unit_id -> Uuid,
        co_organizer_unit_ids -> Array<Uuid>,
        audience -> Nullable<Text>,
        status -> Text,
        visibility -> Text,
        expected_participants -> Nullable<Int4>,
        tags -> Array<Text>,
        sequence -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        highlight -> Bool,
        left_public_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    event_tombstones (id) {
        id -> Uuid,
        campaign_id -> Uuid,
        kind -> Text,
        host_unit_id -> Uuid,
        area -> Nullable<Text>,
        title -> Text,
        was_public -> Bool,
        deleted_at -> Timestamptz,
        co_organizer_unit_ids -> Array<Uuid>,
    }
}

diesel::table! {
    trainings (id) {
        id -> Uuid,
        campaign_id -> Uuid,
        event_id -> Nullable<Uuid>,
        title -> Text,
        subject -> Text,
        provider_unit_id -> Uuid,
        target_groups -> Array<Text>,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        venue_name -> Nullable<Text>,
        venue_address -> Nullable<Text>,
        capacity -> Nullable<Int4>,
        fee_cents -> Int4,
        enrolled -> Int4,
        completed -> Int4,
        employed_after -> Int4,
        status -> Text,
        visibility -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    tallies (id) {
        id -> Uuid,
        campaign_id -> Uuid,
        event_id -> Nullable<Uuid>,
        training_id -> Nullable<Uuid>,
        subject_id -> Uuid,
        category -> Text,
        measure -> Text,
        count -> Int4,
        tally_date -> Date,
        reporting_unit_id -> Uuid,
        source -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    tally_history (id) {
        id -> Int8,
        tally_id -> Uuid,
        count -> Int4,
        changed_at -> Timestamptz,
        changed_by -> Text,
    }
}

diesel::table! {
    media_reports (id) {
        id -> Uuid,
        campaign_id -> Uuid,
        event_id -> Nullable<Uuid>,
        outlet_unit_id -> Nullable<Uuid>,
        outlet_name -> Nullable<Text>,
        reporting_unit_id -> Nullable<Uuid>,
        medium -> Text,
        title -> Text,
        url -> Nullable<Text>,
        published_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(api_tokens -> accounts (account_id));
diesel::joinable!(refresh_tokens -> accounts (account_id));
diesel::joinable!(campaign_partners -> campaigns (campaign_id));
diesel::joinable!(campaign_partners -> units (unit_id));
diesel::joinable!(committee_members -> committee_bodies (body_id));
diesel::joinable!(events -> campaigns (campaign_id));
diesel::joinable!(trainings -> campaigns (campaign_id));
diesel::joinable!(tallies -> campaigns (campaign_id));
diesel::joinable!(tally_history -> tallies (tally_id));
diesel::joinable!(media_reports -> campaigns (campaign_id));

diesel::allow_tables_to_appear_in_same_query!(
    units,
    campaigns,
    accounts,
    api_tokens,
    refresh_tokens,
    login_failures,
    changes,
    audit_log,
    idempotency_keys,
    campaign_partners,
    committee_bodies,
    committee_members,
    events,
    event_tombstones,
    trainings,
    tallies,
    tally_history,
    media_reports,
);

diesel::table! {
    webhook_subscriptions (id) {
        id -> Uuid,
        url -> Text,
        types -> Array<Text>,
        secret -> Text,
        unit_id -> Nullable<Uuid>,
        active -> Bool,
        disabled_reason -> Nullable<Text>,
        cursor -> Int8,
        next_attempt_at -> Timestamptz,
        failing_since -> Nullable<Timestamptz>,
        attempts -> Int4,
        created_by -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        leased_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Int8,
        subscription_id -> Uuid,
        change_seq -> Int8,
        message_id -> Text,
        attempt -> Int4,
        status_code -> Nullable<Int4>,
        error -> Nullable<Text>,
        duration_ms -> Int4,
        succeeded -> Bool,
        attempted_at -> Timestamptz,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_subscriptions (subscription_id));
diesel::allow_tables_to_appear_in_same_query!(webhook_subscriptions, webhook_deliveries, changes);
