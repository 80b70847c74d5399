-- Daily use (issue 15): the lead's next SLA instant for "at risk" lists, out-of-office
-- dates on the roster, and each person's own settings for the pages.

-- The earliest pending warning, due or breach instant of the lead's open clocks
-- (sla_policies.clockbook.pending); NULL when nothing is pending. Kept by project_lead.
ALTER TABLE leads ADD COLUMN next_due_at timestamptz;
CREATE INDEX leads_next_due_idx ON leads (next_due_at, lead_id) WHERE next_due_at IS NOT NULL;

-- Leads projected before this column existed: the same rule over the stored state.
UPDATE leads l SET next_due_at = (
    SELECT min(v.at)
    FROM jsonb_array_elements(coalesce(l.state->'clocks', '[]'::jsonb)) c,
         LATERAL (VALUES
            (CASE WHEN c->>'warned_at' IS NULL THEN (c->>'warning_at')::timestamptz END),
            (CASE WHEN NOT coalesce((c->>'target_missed')::boolean, false) AND c->>'breached_at' IS NULL
                  THEN (c->>'due_at')::timestamptz END),
            (CASE WHEN c->>'breached_at' IS NULL THEN (c->>'breach_at')::timestamptz END)) v(at)
    WHERE c->>'met_at' IS NULL AND c->>'voided_at' IS NULL);

-- Out of office: routing skips the rep while from <= now < until, and by itself no more
-- after `until` (unlike `available`, which someone must turn back on).
ALTER TABLE reps ADD COLUMN away_from timestamptz, ADD COLUMN away_until timestamptz,
    ADD CONSTRAINT reps_away_order CHECK (away_until > away_from),
    ADD CONSTRAINT reps_away_pair CHECK ((away_from IS NULL) = (away_until IS NULL));

-- Per-principal page settings (a principal is a token's id, not only a rep).
CREATE TABLE viewer_settings (
    principal_id text PRIMARY KEY,
    timezone     text,            -- IANA zone; NULL = the browser's own
    updated_at   timestamptz NOT NULL DEFAULT now()
);
