-- Exactly-once POSTs: the first request with a key claims the row (the primary key makes
-- concurrent claims race safely), executes, and stores its response for every repeat.
CREATE TABLE idempotency_keys (
    principal_id    text NOT NULL,
    key             text NOT NULL,
    request_hash    text NOT NULL,   -- method, path, query and body: a reused key with another body is refused
    status          integer,         -- NULL while the first request is executing
    content_type    text,
    body            bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    PRIMARY KEY (principal_id, key)
);
