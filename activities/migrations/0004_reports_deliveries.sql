-- Report rows (shapes of sla_policies/records.py) and per-sink notification deliveries.
-- Every table is written by an idempotent activity: keys are the lead's own sequence
-- numbers, so an activity retry finds its own rows instead of adding new ones.

-- One row per SLA clock of a lead (clock seq from the workflow). Rows are rewritten from
-- the lead's state, but only forward: `last_seq` is the projection seq that wrote them.
CREATE TABLE sla_clocks (
    lead_id      text NOT NULL,
    clock_seq    integer NOT NULL,
    item         text NOT NULL,
    tier         integer,
    owner_role   text,
    owner        text,
    status       text NOT NULL,
    started_at   timestamptz NOT NULL,
    due_at       timestamptz,
    warning_at   timestamptz,
    breach_at    timestamptz,
    met_at       timestamptz,
    target_missed boolean NOT NULL DEFAULT false,
    breached_at  timestamptz,
    voided_at    timestamptz,
    escalated_to jsonb NOT NULL DEFAULT '[]',
    last_seq     integer NOT NULL,
    PRIMARY KEY (lead_id, clock_seq)
);
CREATE INDEX sla_clocks_open_idx ON sla_clocks (breach_at) WHERE met_at IS NULL AND voided_at IS NULL;
CREATE INDEX sla_clocks_breached_idx ON sla_clocks (breached_at) WHERE breached_at IS NOT NULL;

-- Stage changes; `seq` is the projection seq of the change (append-only).
CREATE TABLE transitions (
    lead_id     text NOT NULL,
    seq         integer NOT NULL,
    at          timestamptz NOT NULL,
    from_stage  text,
    to_stage    text NOT NULL,
    event       text NOT NULL,
    actor       text NOT NULL,
    reason_code text,
    note        text,
    PRIMARY KEY (lead_id, seq)
);
CREATE INDEX transitions_at_idx ON transitions (at);

-- Logged touches; `touch_no` is the touch's ordinal on the lead (the touch log only grows).
CREATE TABLE touches (
    lead_id   text NOT NULL,
    touch_no  integer NOT NULL,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    channel   text NOT NULL,
    outcome   text NOT NULL,
    PRIMARY KEY (lead_id, touch_no)
);

-- Dispositions (docs/domain.md: a recorded SDR/AE decision) are the stage changes a person made;
-- a view, so the fact is stored once.
CREATE VIEW dispositions AS
    SELECT lead_id, seq, at, actor, from_stage, to_stage, event, reason_code, note
    FROM transitions WHERE actor <> 'system';

-- One row per (notification, sink) done: a retry skips the sinks already done. A sink
-- that refused the message for good (a 4xx webhook answer, a refused mail address) is
-- done too, as 'rejected' with the reason: retrying it would only stall the lead's queue.
CREATE TABLE notification_deliveries (
    dedup_key    text NOT NULL,
    sink         text NOT NULL,
    outcome      text NOT NULL DEFAULT 'delivered' CHECK (outcome IN ('delivered', 'rejected')),
    error        text,
    delivered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dedup_key, sink)
);
