-- What an event submits, as a digest (sla_policies/crm.py `submission_digest`), kept when
-- its record is mapped and before it is ingested: one form fill fires several events of one
-- record, each fetching the same record, and a later event whose digest equals the record's
-- previous event's is the same submission (activities/crm/inbound.py). NULL: not mapped yet,
-- or processed before digests were kept.
ALTER TABLE connector_inbox ADD COLUMN submission_digest text;
