-- Records of time spent on issues. The issue's `spent` (one of its extra
-- fields) is their sum, written in the same transaction as each record.
CREATE TABLE worklog (
    pk          INTEGER PRIMARY KEY,
    org         INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    issue_pk    INTEGER NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    comment     TEXT NOT NULL DEFAULT '',
    start_at    TEXT NOT NULL,
    seconds     INTEGER NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES users (uid),
    updated_by  INTEGER NOT NULL REFERENCES users (uid),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX worklog_by_issue ON worklog (issue_pk, pk);
-- The organization-wide search: by author, or by creation time alone.
CREATE INDEX worklog_by_author ON worklog (org, created_by, pk);
CREATE INDEX worklog_by_created ON worklog (org, created_at);
