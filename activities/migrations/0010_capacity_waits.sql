-- Leads waiting in capacity_hold (docs/domain.md T11): reps cover them, all full or away.
-- Written by assign_lead under the role's roster lock when it answers "capacity", deleted
-- when it assigns the lead. A release reads the oldest waits the freed rep could take and
-- wakes those leads (oldest first per role); each lead also retries on its own timer.
CREATE TABLE capacity_waits (
    lead_id   text PRIMARY KEY,
    role      text NOT NULL,
    country   text,
    acv_tier  text,
    since     timestamptz NOT NULL
);
CREATE INDEX capacity_waits_role_since ON capacity_waits (role, since, lead_id);
