-- Issues, comments, links and the changelog.

ALTER TABLE queues ADD COLUMN issue_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN default_type TEXT NOT NULL DEFAULT 'task';
ALTER TABLE queues ADD COLUMN default_priority TEXT NOT NULL DEFAULT 'normal';
ALTER TABLE queues ADD COLUMN deleted_at TEXT;

CREATE TABLE issues (
    pk                       INTEGER PRIMARY KEY,
    id                       TEXT NOT NULL UNIQUE,
    org                      INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    queue_id                 INTEGER NOT NULL REFERENCES queues (id),
    key                      TEXT NOT NULL,
    version                  INTEGER NOT NULL,
    summary                  TEXT NOT NULL,
    description              TEXT,
    issue_type               TEXT NOT NULL,
    priority                 TEXT NOT NULL,
    status                   TEXT NOT NULL,
    previous_status          TEXT,
    resolution               TEXT,
    assignee                 INTEGER REFERENCES users (uid),
    author                   INTEGER NOT NULL REFERENCES users (uid),
    updated_by               INTEGER NOT NULL REFERENCES users (uid),
    parent_pk                INTEGER REFERENCES issues (pk),
    unique_key               TEXT,
    created_at               TEXT NOT NULL,
    updated_at               TEXT NOT NULL,
    resolved_at              TEXT,
    status_start_time        TEXT NOT NULL,
    last_comment_updated_at  TEXT,
    comment_count            INTEGER NOT NULL DEFAULT 0,
    votes                    INTEGER NOT NULL DEFAULT 0,
    extra                    TEXT NOT NULL DEFAULT '{}',
    UNIQUE (org, key),
    UNIQUE (org, unique_key)
);
CREATE INDEX issues_by_queue ON issues (queue_id, pk);
CREATE INDEX issues_by_parent ON issues (parent_pk);

-- Keys an issue had before it moved to another queue.
CREATE TABLE issue_aliases (
    org       INTEGER NOT NULL,
    key       TEXT NOT NULL,
    issue_pk  INTEGER NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    PRIMARY KEY (org, key)
);

CREATE TABLE issue_followers (
    issue_pk  INTEGER NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    uid       INTEGER NOT NULL REFERENCES users (uid),
    PRIMARY KEY (issue_pk, uid)
);
CREATE INDEX issue_followers_by_uid ON issue_followers (uid);

CREATE TABLE issue_tags (
    issue_pk  INTEGER NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    PRIMARY KEY (issue_pk, tag)
);
CREATE INDEX issue_tags_by_tag ON issue_tags (tag);

CREATE TABLE comments (
    pk          INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    issue_pk    INTEGER NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    text        TEXT NOT NULL,
    summonees   TEXT NOT NULL DEFAULT '',
    author      INTEGER NOT NULL REFERENCES users (uid),
    updated_by  INTEGER NOT NULL REFERENCES users (uid),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX comments_by_issue ON comments (issue_pk, pk);

CREATE TABLE links (
    pk          INTEGER PRIMARY KEY,
    org         INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    type_id     TEXT NOT NULL,
    source_pk   INTEGER NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    target_pk   INTEGER NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    created_by  INTEGER NOT NULL REFERENCES users (uid),
    created_at  TEXT NOT NULL,
    UNIQUE (source_pk, target_pk, type_id)
);
CREATE INDEX links_by_target ON links (target_pk);

CREATE TABLE changelog (
    pk          INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    issue_pk    INTEGER NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    updated_by  INTEGER NOT NULL REFERENCES users (uid),
    updated_at  TEXT NOT NULL,
    fields      TEXT NOT NULL DEFAULT '[]',
    data        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX changelog_by_issue ON changelog (issue_pk, pk);
