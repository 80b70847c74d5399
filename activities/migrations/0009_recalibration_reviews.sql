-- The quarterly recalibration review (docs/domain.md §13: mandatory every quarter, even
-- when nothing changes). One row per quarter once RevOps has held it; a quarter that has
-- ended without a row is overdue on the RevOps dashboard.
CREATE TABLE recalibration_reviews (
    quarter      text PRIMARY KEY,          -- "2026Q4"
    reviewed_by  text NOT NULL,
    reviewed_at  timestamptz NOT NULL DEFAULT now(),
    outcome      text NOT NULL CHECK (outcome IN ('no_change', 'draft_deployed', 'changes_planned')),
    notes        text NOT NULL DEFAULT ''
);
