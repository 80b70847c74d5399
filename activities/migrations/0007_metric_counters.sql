-- Counters for /metrics kept by the database as the projection writes, so a scrape reads a
-- few rows per (kind, item, tier) instead of scanning every event of every lead.
-- Exactly once: lead_events is written with ON CONFLICT DO NOTHING, and an AFTER INSERT
-- trigger fires only for rows actually inserted, so a retried projection counts nothing twice.
-- Sharded by lead (16 rows per key), so concurrent projections of different leads rarely
-- wait on the same counter row; the scrape sums the shards.

CREATE TABLE metric_counts (
    kind   text     NOT NULL,            -- clock_started | clock_met | clock_breached | clock_escalated
    item   text     NOT NULL DEFAULT '', -- the window item; for clock_escalated the role escalated to
    tier   text     NOT NULL DEFAULT '',
    shard  smallint NOT NULL,
    n      bigint   NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, item, tier, shard)
);

CREATE TABLE stage_counts (
    stage  text     NOT NULL,
    shard  smallint NOT NULL,
    n      bigint   NOT NULL DEFAULT 0,
    PRIMARY KEY (stage, shard)
);

CREATE FUNCTION metric_shard(lead text) RETURNS smallint
    LANGUAGE sql IMMUTABLE AS $$ SELECT (abs(hashtext(lead)) % 16)::smallint $$;

CREATE FUNCTION count_lead_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k_item text;
    k_tier text := '';
BEGIN
    IF NEW.kind IN ('clock_started', 'clock_met', 'clock_breached') THEN
        k_item := coalesce(NEW.payload->>'item', '');
        k_tier := coalesce(NEW.payload->>'tier', '');
    ELSIF NEW.kind = 'clock_escalated' THEN
        -- The escalation an event records is the last one on its clock.
        k_item := NEW.payload->'escalated_to'->-1->>'role';
        IF k_item IS NULL THEN
            RETURN NULL;
        END IF;
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO metric_counts (kind, item, tier, shard, n)
    VALUES (NEW.kind, k_item, k_tier, metric_shard(NEW.lead_id), 1)
    ON CONFLICT (kind, item, tier, shard) DO UPDATE SET n = metric_counts.n + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER lead_events_count AFTER INSERT ON lead_events
    FOR EACH ROW EXECUTE FUNCTION count_lead_event();

CREATE FUNCTION count_lead_stage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE stage_counts SET n = n - 1 WHERE stage = OLD.stage AND shard = metric_shard(OLD.lead_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO stage_counts (stage, shard, n) VALUES (NEW.stage, metric_shard(NEW.lead_id), 1)
        ON CONFLICT (stage, shard) DO UPDATE SET n = stage_counts.n + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER leads_count_insert_delete AFTER INSERT OR DELETE ON leads
    FOR EACH ROW EXECUTE FUNCTION count_lead_stage();
CREATE TRIGGER leads_count_stage AFTER UPDATE OF stage ON leads
    FOR EACH ROW WHEN (OLD.stage IS DISTINCT FROM NEW.stage) EXECUTE FUNCTION count_lead_stage();

-- What the read model already holds when this migration runs.
INSERT INTO stage_counts (stage, shard, n)
    SELECT stage, metric_shard(lead_id), count(*) FROM leads GROUP BY 1, 2;
INSERT INTO metric_counts (kind, item, tier, shard, n)
    SELECT kind, coalesce(payload->>'item', ''), coalesce(payload->>'tier', ''), metric_shard(lead_id), count(*)
    FROM lead_events WHERE kind IN ('clock_started', 'clock_met', 'clock_breached') GROUP BY 1, 2, 3, 4;
INSERT INTO metric_counts (kind, item, tier, shard, n)
    SELECT kind, payload->'escalated_to'->-1->>'role', '', metric_shard(lead_id), count(*)
    FROM lead_events WHERE kind = 'clock_escalated' AND payload->'escalated_to'->-1->>'role' IS NOT NULL
    GROUP BY 1, 2, 3, 4;
