-- The account questions find one account's leads by domain: its email's domain, or the
-- domain the intake named for the account. Asked for every new lead (the API's account
-- match at ingest, Committee-Engaged and the account match at routing), each was a scan
-- of every lead, or of every lead updated in the window: a new lead's cost grew with the
-- read model. These two indexes make each a read of that account's rows
-- (readmodel/lookups.py ACCOUNT_STATUS_SQL, activities/read_model.py ENGAGEMENT_SQL and
-- OPEN_LEADS_SQL, whose expressions must stay exactly these).
CREATE INDEX leads_email_domain_idx ON leads (split_part(email, '@', 2), updated_at);
CREATE INDEX leads_account_domain_idx ON leads (lower(state->'intake'->'account'->>'domain'));
