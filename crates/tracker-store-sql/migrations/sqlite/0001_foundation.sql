-- Organizations, accounts, memberships, tokens and the first queues.

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    org_id      TEXT NOT NULL UNIQUE,
    cloud_id    TEXT UNIQUE,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- AUTOINCREMENT so that uids are never reused after a delete.
CREATE TABLE users (
    uid             INTEGER PRIMARY KEY AUTOINCREMENT,
    login           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    cloud_uid       TEXT NOT NULL UNIQUE,
    first_name      TEXT NOT NULL DEFAULT '',
    last_name       TEXT NOT NULL DEFAULT '',
    email           TEXT NOT NULL DEFAULT '',
    dismissed       INTEGER NOT NULL DEFAULT 0,
    password_hash   TEXT,
    created_at      TEXT NOT NULL,
    first_login_at  TEXT,
    last_login_at   TEXT
);
-- Tracker uids are long numbers; start where real ones do.
INSERT INTO sqlite_sequence (name, seq) VALUES ('users', 1130000000000000);

CREATE TABLE memberships (
    org    INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    uid    INTEGER NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    admin  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org, uid)
);
CREATE INDEX memberships_by_uid ON memberships (uid);

CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('oauth', 'iam')),
    hash         TEXT NOT NULL UNIQUE,
    uid          INTEGER NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    scopes       TEXT NOT NULL,
    parent_id    INTEGER REFERENCES tokens (id) ON DELETE CASCADE,
    description  TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT
);
CREATE INDEX tokens_by_uid ON tokens (uid);
CREATE INDEX tokens_by_parent ON tokens (parent_id);

CREATE TABLE auth_epoch (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    value  INTEGER NOT NULL
);
INSERT INTO auth_epoch (id, value) VALUES (1, 0);

CREATE TABLE queues (
    id           INTEGER PRIMARY KEY,
    org          INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT,
    lead_uid     INTEGER NOT NULL REFERENCES users (uid),
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL,
    UNIQUE (org, key)
);
