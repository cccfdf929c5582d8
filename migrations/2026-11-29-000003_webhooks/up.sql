-- Webhook subscriptions read the change log (`changes`) in order, one change at a time per
-- subscription: `cursor` is the last delivered change's seq.
CREATE TABLE webhook_subscriptions (
    id               uuid PRIMARY KEY,
    url              text NOT NULL,
    types            text[] NOT NULL,
    -- Standard Webhooks signing secret (whsec_...); needed in clear to sign.
    secret           text NOT NULL,
    unit_id          uuid REFERENCES units (id) ON DELETE CASCADE,
    active           boolean NOT NULL DEFAULT true,
    disabled_reason  text,
    cursor           bigint NOT NULL,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    failing_since    timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_due ON webhook_subscriptions (next_attempt_at) WHERE active;
CREATE INDEX webhook_subscriptions_unit ON webhook_subscriptions (unit_id);

CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    subscription_id  uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    change_seq       bigint NOT NULL,
    message_id       text NOT NULL,
    attempt          integer NOT NULL,
    status_code      integer,
    error            text,
    duration_ms      integer NOT NULL,
    succeeded        boolean NOT NULL,
    attempted_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);
