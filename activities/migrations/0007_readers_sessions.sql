-- Who may read each lead (api/visibility.py): the keys of LeadState.reader_keys(), written
-- by every projection. The list, the dashboard and the reports filter on overlap with the
-- principal's keys, the same membership rule the single read applies to the state.
ALTER TABLE leads ADD COLUMN readers text[] NOT NULL DEFAULT '{}';
UPDATE leads SET readers = ARRAY(
    SELECT DISTINCT r FROM unnest(ARRAY[
        state->>'owner', state->>'owner_manager', state->>'sdr', state->>'sdr_manager']
        || ARRAY(SELECT jsonb_array_elements_text(coalesce(state->'readers', '[]'::jsonb)))
        || ARRAY(SELECT c->>'owner' FROM jsonb_array_elements(coalesce(state->'clocks', '[]'::jsonb)) c)
        || CASE WHEN stage = 'manager_review' THEN ARRAY['queue:sdr_manager'] ELSE ARRAY[]::text[] END
    ) AS r WHERE r IS NOT NULL);
CREATE INDEX leads_readers_idx ON leads USING gin (readers);

-- Sign-in sessions of the pages: the cookie holds a random id, this table its SHA-256 (a
-- stolen database backup cannot sign anyone in), the principal it stands for and the
-- token it was opened with, so revoking the token or the session ends it.
CREATE TABLE ui_sessions (
    id_sha256     text PRIMARY KEY,
    token_sha256  text NOT NULL,
    principal_id  text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz
);
CREATE INDEX ui_sessions_principal_idx ON ui_sessions (principal_id);
