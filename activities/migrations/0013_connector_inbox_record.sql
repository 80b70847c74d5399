-- A CRM record's events in the order they were received: an event is a later submission
-- of its record when an earlier one made (or may make) a lead (activities/crm/inbound.py),
-- asked once per processed event.
CREATE INDEX connector_inbox_record_idx ON connector_inbox (source, object_id, received_at, event_id);
