-- Import keeps who last changed a link and when; links created through the
-- API leave these NULL and read as their creation.
ALTER TABLE links ADD COLUMN updated_by INTEGER REFERENCES users (uid);
ALTER TABLE links ADD COLUMN updated_at TEXT;

-- Issue and comment templates, organization-wide (queue_id NULL) or of a
-- queue. `body` holds what the kind carries, as JSON: an issue template's
-- `fieldTemplates`, a comment template's text and summonees.
CREATE TABLE templates (
    pk           INTEGER PRIMARY KEY,
    org          INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    queue_id     INTEGER REFERENCES queues (id),
    name         TEXT NOT NULL,
    description  TEXT,
    body         TEXT NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1,
    created_by   INTEGER NOT NULL REFERENCES users (uid),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX templates_by_org ON templates (org, kind, pk);
