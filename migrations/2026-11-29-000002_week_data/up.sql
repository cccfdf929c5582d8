CREATE TABLE campaign_partners (
    id           uuid PRIMARY KEY,
    campaign_id  uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    unit_id      uuid NOT NULL REFERENCES units (id) ON DELETE RESTRICT,
    role         text NOT NULL CHECK (role IN ('co_host', 'undertaker', 'member')),
    lead         boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT campaign_partners_campaign_unit_key UNIQUE (campaign_id, unit_id),
    CHECK (NOT lead OR role = 'co_host')
);
-- At most one lead co-host per campaign.
CREATE UNIQUE INDEX campaign_partners_one_lead ON campaign_partners (campaign_id) WHERE lead;
CREATE INDEX campaign_partners_unit ON campaign_partners (unit_id);

CREATE TABLE committee_bodies (
    id           uuid PRIMARY KEY,
    campaign_id  uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    name         text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('leading_group', 'office', 'liaison_group', 'unit_working_group')),
    unit_id      uuid REFERENCES units (id) ON DELETE RESTRICT,
    parent_id    uuid REFERENCES committee_bodies (id) ON DELETE RESTRICT,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX committee_bodies_campaign ON committee_bodies (campaign_id, id);
CREATE INDEX committee_bodies_parent ON committee_bodies (parent_id);
CREATE INDEX committee_bodies_unit ON committee_bodies (unit_id);

CREATE TABLE committee_members (
    id              uuid PRIMARY KEY,
    campaign_id     uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    body_id         uuid NOT NULL REFERENCES committee_bodies (id) ON DELETE CASCADE,
    name            text NOT NULL,
    position        text,
    committee_role  text NOT NULL CHECK (committee_role IN ('chair', 'vice_chair', 'member', 'director', 'liaison')),
    unit_id         uuid REFERENCES units (id) ON DELETE RESTRICT,
    phone           text,
    email           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX committee_members_body ON committee_members (body_id, id);
CREATE INDEX committee_members_campaign ON committee_members (campaign_id, id);
CREATE INDEX committee_members_unit ON committee_members (unit_id);

CREATE TABLE events (
    id                     uuid PRIMARY KEY,
    campaign_id            uuid NOT NULL REFERENCES campaigns (id) ON DELETE RESTRICT,
    title                  text NOT NULL,
    kind                   text NOT NULL CHECK (kind IN ('opening_ceremony', 'community_activity', 'lecture',
                               'training', 'exhibition', 'competition', 'performance', 'reading_promotion',
                               'open_venue', 'publicity', 'meeting', 'other')),
    summary                text,
    description            text,
    venue_name             text,
    venue_address          text,
    area                   text,
    starts_at              timestamptz NOT NULL,
    ends_at                timestamptz NOT NULL,
    host_unit_id           uuid NOT NULL REFERENCES units (id) ON DELETE RESTRICT,
    co_organizer_unit_ids  uuid[] NOT NULL DEFAULT '{}',
    audience               text,
    status                 text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'cancelled', 'completed')),
    visibility             text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'internal')),
    expected_participants  integer CHECK (expected_participants >= 0),
    tags                   text[] NOT NULL DEFAULT '{}',
    -- Rises with every change; the iCalendar SEQUENCE.
    sequence               integer NOT NULL DEFAULT 0,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at >= starts_at)
);
CREATE INDEX events_campaign_starts ON events (campaign_id, starts_at, id);
CREATE INDEX events_starts ON events (starts_at, id);
CREATE INDEX events_host ON events (host_unit_id);
CREATE INDEX events_co_organizers ON events USING gin (co_organizer_unit_ids);
CREATE INDEX events_updated_at ON events (updated_at);
CREATE INDEX events_title_trgm ON events USING gin (title gin_trgm_ops);

-- Deleted events stay here for feeds (Atom at:deleted-entry) for 30 days.
CREATE TABLE event_tombstones (
    id            uuid PRIMARY KEY,
    campaign_id   uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    kind          text NOT NULL,
    host_unit_id  uuid NOT NULL,
    area          text,
    title         text NOT NULL,
    was_public    boolean NOT NULL,
    deleted_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_tombstones_campaign ON event_tombstones (campaign_id, deleted_at);

CREATE TABLE trainings (
    id                uuid PRIMARY KEY,
    campaign_id       uuid NOT NULL REFERENCES campaigns (id) ON DELETE RESTRICT,
    event_id          uuid REFERENCES events (id) ON DELETE SET NULL,
    title             text NOT NULL,
    subject           text NOT NULL CHECK (subject IN ('computer', 'english', 'housekeeping', 'etiquette',
                          'hr_development', 'self_improvement', 'employment', 'other')),
    provider_unit_id  uuid NOT NULL REFERENCES units (id) ON DELETE RESTRICT,
    target_groups     text[] NOT NULL DEFAULT '{}',
    starts_at         timestamptz NOT NULL,
    ends_at           timestamptz NOT NULL,
    venue_name        text,
    venue_address     text,
    capacity          integer CHECK (capacity >= 0),
    fee_cents         integer NOT NULL DEFAULT 0 CHECK (fee_cents >= 0),
    enrolled          integer NOT NULL DEFAULT 0 CHECK (enrolled >= 0),
    completed         integer NOT NULL DEFAULT 0 CHECK (completed >= 0 AND completed <= enrolled),
    employed_after    integer NOT NULL DEFAULT 0 CHECK (employed_after >= 0 AND employed_after <= completed),
    status            text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'cancelled', 'completed')),
    visibility        text NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'internal')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at >= starts_at),
    CHECK (capacity IS NULL OR enrolled <= capacity)
);
CREATE INDEX trainings_campaign_starts ON trainings (campaign_id, starts_at, id);
CREATE INDEX trainings_starts ON trainings (starts_at, id);
CREATE INDEX trainings_provider ON trainings (provider_unit_id);
CREATE INDEX trainings_event ON trainings (event_id);
CREATE INDEX trainings_updated_at ON trainings (updated_at);
CREATE INDEX trainings_title_trgm ON trainings USING gin (title gin_trgm_ops);

CREATE TABLE tallies (
    id                 uuid PRIMARY KEY,
    campaign_id        uuid NOT NULL REFERENCES campaigns (id) ON DELETE RESTRICT,
    event_id           uuid REFERENCES events (id) ON DELETE CASCADE,
    training_id        uuid REFERENCES trainings (id) ON DELETE CASCADE,
    -- The counted thing, whichever of the two it is; part of the natural key.
    subject_id         uuid NOT NULL GENERATED ALWAYS AS (COALESCE(event_id, training_id)) STORED,
    category           text NOT NULL CHECK (category IN ('employed', 'student', 'migrant_worker', 'homemaker',
                           'retiree', 'returnee', 'unemployed', 'veteran', 'disabled', 'senior', 'child', 'general')),
    measure            text NOT NULL CHECK (measure IN ('headcount', 'person_times')),
    count              integer NOT NULL CHECK (count >= 0),
    tally_date         date NOT NULL,
    reporting_unit_id  uuid NOT NULL REFERENCES units (id) ON DELETE RESTRICT,
    source             text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'script', 'import')),
    note               text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(event_id, training_id) = 1),
    CONSTRAINT tallies_natural_key UNIQUE (subject_id, category, measure, tally_date, reporting_unit_id)
);
CREATE INDEX tallies_campaign ON tallies (campaign_id, id);
CREATE INDEX tallies_event ON tallies (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX tallies_training ON tallies (training_id) WHERE training_id IS NOT NULL;
CREATE INDEX tallies_reporting_unit ON tallies (reporting_unit_id);
CREATE INDEX tallies_updated_at ON tallies (updated_at);

CREATE TABLE tally_history (
    id          bigserial PRIMARY KEY,
    tally_id    uuid NOT NULL REFERENCES tallies (id) ON DELETE CASCADE,
    count       integer NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    changed_by  text NOT NULL
);
CREATE INDEX tally_history_tally ON tally_history (tally_id, id);

CREATE TABLE media_reports (
    id                 uuid PRIMARY KEY,
    campaign_id        uuid NOT NULL REFERENCES campaigns (id) ON DELETE RESTRICT,
    event_id           uuid REFERENCES events (id) ON DELETE SET NULL,
    outlet_unit_id     uuid REFERENCES units (id) ON DELETE RESTRICT,
    outlet_name        text,
    reporting_unit_id  uuid REFERENCES units (id) ON DELETE RESTRICT,
    medium             text NOT NULL CHECK (medium IN ('tv', 'radio', 'newspaper', 'online', 'social', 'print_material', 'other')),
    title              text NOT NULL,
    url                text,
    published_at       timestamptz NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (outlet_unit_id IS NOT NULL OR outlet_name IS NOT NULL)
);
CREATE INDEX media_reports_campaign ON media_reports (campaign_id, published_at, id);
CREATE INDEX media_reports_published ON media_reports (published_at, id);
CREATE INDEX media_reports_event ON media_reports (event_id);
CREATE INDEX media_reports_outlet ON media_reports (outlet_unit_id);
CREATE INDEX media_reports_reporting ON media_reports (reporting_unit_id);
CREATE INDEX media_reports_updated_at ON media_reports (updated_at);
CREATE INDEX media_reports_title_trgm ON media_reports USING gin (title gin_trgm_ops);
