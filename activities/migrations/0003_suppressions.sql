-- The global suppression list (docs/domain.md §7.1, T26): a REJ-06 competitor's domain for good,
-- a REJ-02 company for 90 days, a REJ-03 contact (do-not-route) for 90 days.
CREATE TABLE suppressions (
    scope       text NOT NULL CHECK (scope IN ('domain', 'company', 'contact')),
    value       text NOT NULL,
    permanent   boolean NOT NULL,
    until       timestamptz,
    reason_code text NOT NULL,
    lead_id     text NOT NULL,
    at          timestamptz NOT NULL,
    PRIMARY KEY (scope, value)
);
