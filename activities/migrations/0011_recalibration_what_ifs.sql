-- The what-if of each recalibration proposal (docs/domain.md §12.5): the quarter's own leads
-- replayed under the current policy and under the proposal. Computed once (a replay of a
-- quarter takes seconds per thousand leads, too slow for a page view) and kept, keyed by
-- what it was computed for: the quarter, the policy it ran against, and the change proposed.
CREATE TABLE recalibration_what_ifs (
    quarter         text NOT NULL,
    policy_version  text NOT NULL,
    change_path     text NOT NULL,
    change_new      text NOT NULL,
    computed_at     timestamptz NOT NULL DEFAULT now(),
    result          jsonb NOT NULL,
    PRIMARY KEY (quarter, policy_version, change_path, change_new)
);
