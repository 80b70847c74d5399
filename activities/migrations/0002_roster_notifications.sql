-- The routing roster and the notification log.

CREATE TABLE reps (
    rep_id          text PRIMARY KEY,
    name            text NOT NULL,
    role            text NOT NULL,
    manager_id      text,
    territories     text[] NOT NULL DEFAULT '{}',   -- country codes; empty = any
    acv_tiers       text[] NOT NULL DEFAULT '{}',   -- empty = any
    capacity        integer NOT NULL DEFAULT 50 CHECK (capacity >= 0),
    available       boolean NOT NULL DEFAULT true,
    timezone        text NOT NULL DEFAULT 'America/New_York',
    email           text,
    open_leads      integer NOT NULL DEFAULT 0,
    last_assigned_at timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per (lead, assignment sequence): an activity retry finds its own row.
CREATE TABLE assignments (
    lead_id     text NOT NULL,
    seq         integer NOT NULL,
    rep_id      text REFERENCES reps (rep_id),
    role        text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (lead_id, seq)
);

-- dedup_key = workflow id + sequence number: a retried activity never double-posts.
CREATE TABLE notifications (
    dedup_key   text PRIMARY KEY,
    lead_id     text NOT NULL,
    kind        text NOT NULL,
    recipient_role text NOT NULL,
    recipient   text,
    subject     text NOT NULL,
    body        text NOT NULL,
    at          timestamptz NOT NULL,
    sent_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_lead_idx ON notifications (lead_id, at);
