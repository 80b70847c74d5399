-- CRM connectors (issue 13). The inbox is written before a webhook is answered 2xx, so a
-- delivery acknowledged to the vendor is never lost; (source, event_id) is the vendor's
-- event id, so a redelivered or replayed event is recognised and never ingested twice.
CREATE TABLE connector_inbox (
    source          text NOT NULL,            -- hubspot | salesforce | webhook:<name>
    event_id        text NOT NULL,
    kind            text NOT NULL,            -- contact.creation, contact.propertyChange, lead.outbound_message, ...
    object_id       text,                     -- the CRM record (HubSpot contact id, Salesforce Lead id)
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ingested', 'unmappable', 'ignored')),
    reason          text,                     -- why unmappable or ignored
    lead_id         text,                     -- the lead that holds the submission
    attempts        integer NOT NULL DEFAULT 0,
    received_at     timestamptz NOT NULL DEFAULT now(),
    processed_at    timestamptz,
    PRIMARY KEY (source, event_id)
);
CREATE INDEX connector_inbox_pending_idx ON connector_inbox (received_at) WHERE status = 'pending';
CREATE INDEX connector_inbox_status_idx ON connector_inbox (status, received_at);

-- Which CRM record a lead came from (or was merged with): where its stage, owner and
-- disposition are written back. One record per lead and CRM; a sync is pending while
-- `synced_hash` differs from `desired_hash`.
CREATE TABLE crm_sync (
    lead_id         text NOT NULL,
    crm             text NOT NULL CHECK (crm IN ('hubspot', 'salesforce')),
    object_id       text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    reason          text,                     -- the last failure
    desired         jsonb,                    -- the fields the CRM should hold
    desired_hash    text,
    synced_hash     text,
    attempts        integer NOT NULL DEFAULT 0,
    planned_seq     integer NOT NULL DEFAULT -1,  -- the lead's projected `last_seq` the last plan looked at
    updated_at      timestamptz NOT NULL DEFAULT now(),
    synced_at       timestamptz,
    PRIMARY KEY (lead_id, crm)
);
CREATE INDEX crm_sync_status_idx ON crm_sync (status);

-- Salesforce polling mode: leads changed since this instant (SystemModstamp) are fetched next.
CREATE TABLE connector_watermarks (
    name            text PRIMARY KEY,
    watermark       timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- rep id <-> CRM user: {"hubspot": "<owner id>", "salesforce": "<User Id>"}.
ALTER TABLE reps ADD COLUMN crm_users jsonb NOT NULL DEFAULT '{}';
