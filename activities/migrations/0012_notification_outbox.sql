-- Notifications recorded by the read-model projection, in its transaction, and delivered to
-- the sinks afterwards by the worker's dispatcher (activities/notification_outbox.py): a
-- lead's notifications no longer cost an activity task each.
-- `pending`: the dispatcher still owes the sinks this row. Rows written before this
-- migration, and rows a caller delivers itself (reports, the notify activity that leads
-- started on earlier builds still use), are not pending.
ALTER TABLE notifications
    ADD COLUMN pending boolean NOT NULL DEFAULT false,
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN last_error text,
    -- The SLA item it is about, for the lead's timeline (which used to read it from history).
    ADD COLUMN item text;
CREATE INDEX notifications_pending_idx ON notifications (next_attempt_at) WHERE pending;
