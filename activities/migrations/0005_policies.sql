-- Policy versions (docs/domain.md §13): every deployed document, who deployed and activated it.
-- A version's document never changes once stored; `content_hash` is the SHA-256 of its
-- canonical JSON, so the same policy sent as YAML or JSON is the same deployment.
CREATE TABLE policies (
    version         text PRIMARY KEY,
    status          text NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
    document        text NOT NULL,
    parsed          jsonb NOT NULL,
    content_hash    text NOT NULL,
    deployed_by     text NOT NULL,
    deployed_at     timestamptz NOT NULL DEFAULT now(),
    activated_by    text,
    activated_at    timestamptz
);
-- Exactly one version is active; activating retires the previous one in one transaction.
CREATE UNIQUE INDEX policies_one_active ON policies ((true)) WHERE status = 'active';
