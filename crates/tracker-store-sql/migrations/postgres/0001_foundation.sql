-- Organizations, accounts, memberships, tokens and the first queues.

CREATE TABLE organizations (
    id          BIGSERIAL PRIMARY KEY,
    org_id      TEXT NOT NULL UNIQUE,
    cloud_id    TEXT UNIQUE,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    uid             BIGSERIAL PRIMARY KEY,
    login           TEXT NOT NULL,
    cloud_uid       TEXT NOT NULL UNIQUE,
    first_name      TEXT NOT NULL DEFAULT '',
    last_name       TEXT NOT NULL DEFAULT '',
    email           TEXT NOT NULL DEFAULT '',
    dismissed       BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash   TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    first_login_at  TIMESTAMPTZ,
    last_login_at   TIMESTAMPTZ
);
-- Logins compare without case, as Yandex logins do.
CREATE UNIQUE INDEX users_login_ci ON users (lower(login));
-- Tracker uids are long numbers; start where real ones do.
ALTER SEQUENCE users_uid_seq RESTART WITH 1130000000000001;

CREATE TABLE memberships (
    org    BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    uid    BIGINT NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    admin  BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (org, uid)
);
CREATE INDEX memberships_by_uid ON memberships (uid);

CREATE TABLE tokens (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('oauth', 'iam')),
    hash         TEXT NOT NULL UNIQUE,
    uid          BIGINT NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    scopes       TEXT NOT NULL,
    parent_id    BIGINT REFERENCES tokens (id) ON DELETE CASCADE,
    description  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX tokens_by_uid ON tokens (uid);
CREATE INDEX tokens_by_parent ON tokens (parent_id);

CREATE TABLE auth_epoch (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    value  BIGINT NOT NULL
);
INSERT INTO auth_epoch (id, value) VALUES (1, 0);

CREATE TABLE queues (
    id           BIGSERIAL PRIMARY KEY,
    org          BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT,
    lead_uid     BIGINT NOT NULL REFERENCES users (uid),
    version      BIGINT NOT NULL DEFAULT 1,
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (org, key)
);
