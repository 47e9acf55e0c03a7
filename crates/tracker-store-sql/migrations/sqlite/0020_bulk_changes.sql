-- Background jobs, first of all bulk changes (`/v2/bulkchange/_update`,
-- `_transition`, `_move`): one row per job and one per object it changes.
-- `kind` names what the job does (`issues.update`, `issues.transition`,
-- `issues.move`; entity bulk changes will add theirs) and `payload` holds
-- its parameters as JSON, so a new kind needs no new table.
--
-- Items are claimed with a lease (`lease_owner`, `lease_until_ms`, Unix
-- milliseconds): a node takes pending items whose lease is free or expired
-- (inside a write transaction on SQLite), and an item is marked done in
-- the same transaction as its issue's change, only while that node still
-- holds it. A node killed mid-job leaves leases that expire; any node
-- resumes.
CREATE TABLE jobs (
    pk          INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    org         INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES users (uid),
    created_at  TEXT NOT NULL,
    payload     TEXT NOT NULL,
    total       INTEGER NOT NULL
);
CREATE INDEX jobs_by_org ON jobs (org, created_at);
CREATE TABLE job_items (
    pk              INTEGER PRIMARY KEY,
    job_pk          INTEGER NOT NULL REFERENCES jobs (pk) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    -- What the item names, as the client sent it (an issue key or id).
    target          TEXT NOT NULL,
    -- pending, done or failed.
    state           TEXT NOT NULL DEFAULT 'pending',
    lease_owner     TEXT,
    lease_until_ms  INTEGER NOT NULL DEFAULT 0,
    -- The issue's pk once found, and the failure as an error envelope.
    issue_pk        INTEGER,
    error           TEXT,
    finished_at     TEXT,
    UNIQUE (job_pk, seq)
);
CREATE INDEX job_items_pending ON job_items (job_pk, seq) WHERE state = 'pending';
CREATE INDEX job_items_by_state ON job_items (job_pk, state, seq);
