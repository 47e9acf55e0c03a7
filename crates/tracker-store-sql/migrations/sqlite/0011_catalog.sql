-- A queue's components and versions, and which of them each issue refers
-- to. The references are rows rather than part of the issue's `extra` JSON
-- so that the query language finds issues by them through an index, and a
-- component still in use cannot be deleted from under its issues.
CREATE TABLE components (
    pk           INTEGER PRIMARY KEY,
    org          INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    queue_id     INTEGER NOT NULL REFERENCES queues (id),
    name         TEXT NOT NULL,
    description  TEXT,
    lead_uid     INTEGER REFERENCES users (uid),
    assign_auto  INTEGER NOT NULL DEFAULT 0,
    archived     INTEGER NOT NULL DEFAULT 0,
    version      INTEGER NOT NULL DEFAULT 1
);
-- Names are unique in their queue, ignoring case.
CREATE UNIQUE INDEX components_by_name ON components (queue_id, lower(name));
CREATE INDEX components_by_org ON components (org, queue_id);

CREATE TABLE versions (
    pk           INTEGER PRIMARY KEY,
    org          INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    queue_id     INTEGER NOT NULL REFERENCES queues (id),
    name         TEXT NOT NULL,
    description  TEXT,
    -- YYYY-MM-DD: the API's own text, kept as is on both engines.
    start_date   TEXT,
    due_date     TEXT,
    released     INTEGER NOT NULL DEFAULT 0,
    archived     INTEGER NOT NULL DEFAULT 0,
    version      INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX versions_by_name ON versions (queue_id, lower(name));
CREATE INDEX versions_by_org ON versions (org, queue_id);

CREATE TABLE issue_components (
    issue_pk      INTEGER NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    component_pk  INTEGER NOT NULL REFERENCES components (pk),
    PRIMARY KEY (issue_pk, component_pk)
);
CREATE INDEX issue_components_by_component ON issue_components (component_pk);

-- `fix` tells the issue's fixVersions (1) from its affectedVersions (0).
CREATE TABLE issue_versions (
    issue_pk    INTEGER NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    version_pk  INTEGER NOT NULL REFERENCES versions (pk),
    fix         INTEGER NOT NULL,
    PRIMARY KEY (issue_pk, fix, version_pk)
);
CREATE INDEX issue_versions_by_version ON issue_versions (version_pk, fix);
