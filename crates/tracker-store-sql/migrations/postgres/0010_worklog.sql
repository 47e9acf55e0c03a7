-- Records of time spent on issues. The issue's `spent` (one of its extra
-- fields) is their sum, written in the same transaction as each record.
CREATE TABLE worklog (
    pk          BIGSERIAL PRIMARY KEY,
    org         BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    issue_pk    BIGINT NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    comment     TEXT NOT NULL DEFAULT '',
    start_at    TIMESTAMPTZ NOT NULL,
    seconds     BIGINT NOT NULL,
    created_by  BIGINT NOT NULL REFERENCES users (uid),
    updated_by  BIGINT NOT NULL REFERENCES users (uid),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX worklog_by_issue ON worklog (issue_pk, pk);
-- The organization-wide search: by author, or by creation time alone.
CREATE INDEX worklog_by_author ON worklog (org, created_by, pk);
CREATE INDEX worklog_by_created ON worklog (org, created_at);
