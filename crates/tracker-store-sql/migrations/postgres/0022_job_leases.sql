-- Leases on periodic jobs (the attachment sweep, …): one node runs a job at
-- a time; a lease a node stops renewing expires and another takes it.
-- Times are Unix milliseconds.
CREATE TABLE job_leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_ms  BIGINT NOT NULL
);
CREATE INDEX attachments_temporary_by_age ON attachments (created_at) WHERE issue_pk IS NULL;
