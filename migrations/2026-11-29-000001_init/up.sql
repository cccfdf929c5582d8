-- learnweek schema. Enumerations are text with CHECK constraints so that
-- adding a value is a one-line migration and the wire value is the stored one.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE units (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    short_name  text,
    kind        text NOT NULL CHECK (kind IN ('government_department', 'mass_organization', 'media',
                    'association', 'school', 'community_education', 'training_institution',
                    'street_office', 'enterprise', 'other')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT units_name_key UNIQUE (name)
);
CREATE INDEX units_name_trgm ON units USING gin (name gin_trgm_ops);
CREATE INDEX units_updated_at ON units (updated_at);

CREATE TABLE campaigns (
    id          uuid PRIMARY KEY,
    slug        text NOT NULL,
    name        text NOT NULL,
    theme       text,
    region      text,
    year        integer NOT NULL,
    starts_on   date NOT NULL,
    ends_on     date NOT NULL,
    timezone    text NOT NULL DEFAULT 'Asia/Shanghai',
    notice_ref  text,
    areas       text[] NOT NULL DEFAULT '{}',
    status      text NOT NULL DEFAULT 'planning' CHECK (status IN ('planning', 'active', 'closed')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT campaigns_slug_key UNIQUE (slug),
    CHECK (ends_on >= starts_on)
);
CREATE INDEX campaigns_name_trgm ON campaigns USING gin (name gin_trgm_ops);
CREATE INDEX campaigns_updated_at ON campaigns (updated_at);

-- Issued API tokens. Only the jti (= id) is stored, never the JWT text.
CREATE TABLE accounts (
    id             uuid PRIMARY KEY,
    username       text NOT NULL,
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN ('admin', 'editor', 'reporter', 'viewer')),
    unit_id        uuid REFERENCES units (id) ON DELETE RESTRICT,
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_username_key UNIQUE (username),
    CHECK ((role = 'admin') = (unit_id IS NULL))
);

CREATE TABLE api_tokens (
    id            uuid PRIMARY KEY,
    name          text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('api', 'session')),
    role          text NOT NULL CHECK (role IN ('admin', 'editor', 'reporter', 'viewer')),
    -- A unit's tokens die with it.
    unit_id       uuid REFERENCES units (id) ON DELETE CASCADE,
    account_id    uuid REFERENCES accounts (id) ON DELETE CASCADE,
    created_by    text NOT NULL,
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    last_used_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'admin') = (unit_id IS NULL))
);
CREATE INDEX api_tokens_created_at ON api_tokens (created_at, id);

-- Failed logins per username, kept in PostgreSQL so throttling holds across replicas.
CREATE TABLE login_failures (
    username      text PRIMARY KEY,
    failures      integer NOT NULL,
    first_failed  timestamptz NOT NULL,
    locked_until  timestamptz
);

-- Change log (outbox): one row per committed change, written by the changing
-- transaction. Writers take a transaction-scoped advisory lock right before
-- inserting here, so seq order is commit order (see journal.rs).
CREATE TABLE changes (
    seq          bigserial PRIMARY KEY,
    type         text NOT NULL,
    entity_id    uuid NOT NULL,
    op           text NOT NULL CHECK (op IN ('upsert', 'delete')),
    at           timestamptz NOT NULL DEFAULT now(),
    campaign_id  uuid
);
CREATE INDEX changes_campaign_type_seq ON changes (campaign_id, type, seq);
CREATE INDEX changes_type_seq ON changes (type, seq);

CREATE TABLE audit_log (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor           text NOT NULL,
    actor_token_id  uuid,
    actor_role      text NOT NULL,
    actor_unit_id   uuid,
    type            text NOT NULL,
    entity_id       uuid NOT NULL,
    op              text NOT NULL CHECK (op IN ('create', 'update', 'delete')),
    owner_unit_id   uuid,
    before          jsonb,
    after           jsonb,
    request_id      text
);
CREATE INDEX audit_log_entity ON audit_log (entity_id, id);
CREATE INDEX audit_log_type ON audit_log (type, id);
CREATE INDEX audit_log_at ON audit_log (at);

-- Idempotency keys, scoped to the token that sent them.
CREATE TABLE idempotency_keys (
    scope          text NOT NULL,
    key            text NOT NULL,
    method         text NOT NULL,
    path           text NOT NULL,
    request_hash   bytea NOT NULL,
    status         smallint,
    response_body  bytea,
    location       text,
    content_type   text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    locked_until   timestamptz,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
