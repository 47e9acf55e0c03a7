-- Issues, comments, links and the changelog.

ALTER TABLE queues ADD COLUMN issue_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN default_type TEXT NOT NULL DEFAULT 'task';
ALTER TABLE queues ADD COLUMN default_priority TEXT NOT NULL DEFAULT 'normal';
ALTER TABLE queues ADD COLUMN deleted_at TIMESTAMPTZ;

CREATE TABLE issues (
    pk                       BIGSERIAL PRIMARY KEY,
    id                       TEXT NOT NULL UNIQUE,
    org                      BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    queue_id                 BIGINT NOT NULL REFERENCES queues (id),
    key                      TEXT NOT NULL,
    version                  BIGINT NOT NULL,
    summary                  TEXT NOT NULL,
    description              TEXT,
    issue_type               TEXT NOT NULL,
    priority                 TEXT NOT NULL,
    status                   TEXT NOT NULL,
    previous_status          TEXT,
    resolution               TEXT,
    assignee                 BIGINT REFERENCES users (uid),
    author                   BIGINT NOT NULL REFERENCES users (uid),
    updated_by               BIGINT NOT NULL REFERENCES users (uid),
    parent_pk                BIGINT REFERENCES issues (pk),
    unique_key               TEXT,
    created_at               TIMESTAMPTZ NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL,
    resolved_at              TIMESTAMPTZ,
    status_start_time        TIMESTAMPTZ NOT NULL,
    last_comment_updated_at  TIMESTAMPTZ,
    comment_count            BIGINT NOT NULL DEFAULT 0,
    votes                    BIGINT NOT NULL DEFAULT 0,
    extra                    TEXT NOT NULL DEFAULT '{}',
    UNIQUE (org, key),
    UNIQUE (org, unique_key)
);
CREATE INDEX issues_by_queue ON issues (queue_id, pk);
CREATE INDEX issues_by_parent ON issues (parent_pk);

-- Keys an issue had before it moved to another queue.
CREATE TABLE issue_aliases (
    org       BIGINT NOT NULL,
    key       TEXT NOT NULL,
    issue_pk  BIGINT NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    PRIMARY KEY (org, key)
);

CREATE TABLE issue_followers (
    issue_pk  BIGINT NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    uid       BIGINT NOT NULL REFERENCES users (uid),
    PRIMARY KEY (issue_pk, uid)
);
CREATE INDEX issue_followers_by_uid ON issue_followers (uid);

CREATE TABLE issue_tags (
    issue_pk  BIGINT NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    PRIMARY KEY (issue_pk, tag)
);
CREATE INDEX issue_tags_by_tag ON issue_tags (tag);

CREATE TABLE comments (
    pk          BIGSERIAL PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    issue_pk    BIGINT NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    text        TEXT NOT NULL,
    summonees   TEXT NOT NULL DEFAULT '',
    author      BIGINT NOT NULL REFERENCES users (uid),
    updated_by  BIGINT NOT NULL REFERENCES users (uid),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX comments_by_issue ON comments (issue_pk, pk);

CREATE TABLE links (
    pk          BIGSERIAL PRIMARY KEY,
    org         BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    type_id     TEXT NOT NULL,
    source_pk   BIGINT NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    target_pk   BIGINT NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    created_by  BIGINT NOT NULL REFERENCES users (uid),
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (source_pk, target_pk, type_id)
);
CREATE INDEX links_by_target ON links (target_pk);

CREATE TABLE changelog (
    pk          BIGSERIAL PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    issue_pk    BIGINT NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    updated_by  BIGINT NOT NULL REFERENCES users (uid),
    updated_at  TIMESTAMPTZ NOT NULL,
    fields      TEXT NOT NULL DEFAULT '[]',
    data        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX changelog_by_issue ON changelog (issue_pk, pk);
