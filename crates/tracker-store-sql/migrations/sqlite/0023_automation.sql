-- Queue automation. Macros, triggers and auto-actions themselves are kept in
-- `templates` (kinds `macro`, `trigger`, `autoaction`: name, JSON body,
-- version); these tables hold what running them needs.

-- When each auto-action runs next (Unix milliseconds). A node runs an
-- auto-action only by moving `next_run_ms` from the value it read to the
-- next period in one statement, so of several nodes exactly one runs a tick.
CREATE TABLE automation_runs (
    template_pk     INTEGER PRIMARY KEY REFERENCES templates (pk) ON DELETE CASCADE,
    next_run_ms     INTEGER NOT NULL,
    last_run_ms     INTEGER,
    last_processed  INTEGER NOT NULL DEFAULT 0
);

-- The webhook outbox: one row per HTTP request an automation's action makes,
-- written right after the change that caused it, delivered by whichever
-- node claims it (lease), with retries. Kept as the delivery's record.
CREATE TABLE webhook_deliveries (
    pk               INTEGER PRIMARY KEY,
    org              INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    template_pk      INTEGER NOT NULL REFERENCES templates (pk) ON DELETE CASCADE,
    issue_key        TEXT NOT NULL,
    event            TEXT NOT NULL,
    method           TEXT NOT NULL,
    url              TEXT NOT NULL,
    headers          TEXT NOT NULL,
    body             TEXT,
    state            TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_status      INTEGER,
    last_error       TEXT,
    created_ms       INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL,
    next_attempt_ms  INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_until_ms   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_by_template ON webhook_deliveries (template_pk, pk);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_ms) WHERE state = 'pending';
