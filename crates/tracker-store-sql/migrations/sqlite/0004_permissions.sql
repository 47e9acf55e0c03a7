-- Groups, queue grants and issue access lists.

CREATE TABLE groups (
    id          INTEGER PRIMARY KEY,
    org         INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (org, name)
);

CREATE TABLE group_members (
    group_id  INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    uid       INTEGER NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    PRIMARY KEY (group_id, uid)
);
CREATE INDEX group_members_by_uid ON group_members (uid);

CREATE TABLE queue_grants (
    queue_id      INTEGER NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    permission    TEXT NOT NULL CHECK (permission IN ('create', 'read', 'write', 'grant')),
    subject_kind  TEXT NOT NULL CHECK (subject_kind IN ('user', 'group', 'role')),
    subject       TEXT NOT NULL,
    PRIMARY KEY (queue_id, permission, subject_kind, subject)
);

ALTER TABLE queues ADD COLUMN grants_version INTEGER NOT NULL DEFAULT 1;

-- Queues that exist already get what a new queue gets: open to every member
-- (group 0), administered by the lead.
INSERT INTO queue_grants (queue_id, permission, subject_kind, subject)
SELECT q.id, p.permission, s.kind, s.subject
FROM queues q,
     (SELECT 'create' AS permission UNION ALL SELECT 'write' UNION ALL SELECT 'read') p,
     (SELECT 'group' AS kind, '0' AS subject UNION ALL SELECT 'role', 'author'
      UNION ALL SELECT 'role', 'assignee' UNION ALL SELECT 'role', 'follower'
      UNION ALL SELECT 'role', 'queue-lead') s;
INSERT INTO queue_grants (queue_id, permission, subject_kind, subject)
SELECT id, 'grant', 'role', 'queue-lead' FROM queues;

CREATE TABLE issue_access (
    issue_pk  INTEGER NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    uid       INTEGER NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    PRIMARY KEY (issue_pk, uid)
);
