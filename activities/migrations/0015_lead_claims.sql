-- R7 at ingest without waiting for the read model: the API claims a person (lower-cased
-- email) for the lead it is starting, in the transaction that holds the person's advisory
-- lock and commits only once the workflow has started. A same-person submission arriving
-- before that lead's row is in `leads` finds the claim and merges into it
-- (readmodel/lookups.py `person_claim`). A claim counts only while its lead has no row in
-- `leads` and it is younger than CLAIM_TTL; older ones are deleted as the person is claimed again.
CREATE TABLE lead_claims (
    lead_id     text PRIMARY KEY,
    person      text NOT NULL,
    claimed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lead_claims_person_idx ON lead_claims (person, claimed_at);
