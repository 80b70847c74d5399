-- The read model. Temporal is the source of truth for each lead; these tables make lists
-- and reports fast. Every write comes from an idempotent activity.

CREATE TABLE leads (
    lead_id         text PRIMARY KEY,
    workflow_id     text NOT NULL UNIQUE,
    stage           text NOT NULL,
    score           integer NOT NULL DEFAULT 0,
    tier            integer,
    acv_tier        text,
    owner           text,
    policy_version  text NOT NULL,
    breached        boolean NOT NULL DEFAULT false,
    lead_type       text NOT NULL,
    company         text,
    email           text,
    state           jsonb NOT NULL,
    last_seq        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX leads_stage_idx ON leads (stage);
CREATE INDEX leads_owner_idx ON leads (owner);
CREATE INDEX leads_updated_idx ON leads (updated_at, lead_id);

-- Append-only; (lead_id, seq) is the idempotency key of the projection activity, so an
-- activity retry can never write an event twice.
CREATE TABLE lead_events (
    lead_id     text NOT NULL,
    seq         integer NOT NULL,
    at          timestamptz NOT NULL,
    kind        text NOT NULL,
    payload     jsonb NOT NULL,
    PRIMARY KEY (lead_id, seq)
);
