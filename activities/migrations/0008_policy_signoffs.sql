-- Co-signed policy releases (docs/domain.md §13): one signature per version and role,
-- given by a principal holding that role, on the content hash it saw. A signature on
-- another hash does not count (sla_policies/signoff.py), so changed content is unsigned.
CREATE TABLE policy_signoffs (
    version       text NOT NULL REFERENCES policies (version),
    role          text NOT NULL,
    principal_id  text NOT NULL,
    content_hash  text NOT NULL,
    signed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (version, role)
);
