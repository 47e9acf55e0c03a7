-- The OAuth 2.0 authorization server: applications, grants, codes, refresh
-- and device codes, consents, browser sessions, sign-in throttling, service
-- accounts with their keys, and the audit trail. Every secret is stored as
-- the hex SHA-256 of its value.

CREATE TABLE oauth_apps (
    id             INTEGER PRIMARY KEY,
    client_id      TEXT NOT NULL UNIQUE,
    secret_hash    TEXT,
    name           TEXT NOT NULL,
    org            INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    owner_uid      INTEGER NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    -- One exact URI per line.
    redirect_uris  TEXT NOT NULL,
    confidential   INTEGER NOT NULL,
    scopes         TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX oauth_apps_by_org ON oauth_apps (org);
CREATE INDEX oauth_apps_by_owner ON oauth_apps (owner_uid);

CREATE TABLE oauth_grants (
    id          INTEGER PRIMARY KEY,
    app_id      INTEGER NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    uid         INTEGER NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    scopes      TEXT NOT NULL,
    flow        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX oauth_grants_by_uid ON oauth_grants (uid, app_id);

-- Access tokens issued to an application remain `tokens` rows of kind
-- 'oauth'; this binds them to their grant. Deleting an app deletes them.
ALTER TABLE tokens ADD COLUMN grant_id INTEGER REFERENCES oauth_grants (id) ON DELETE CASCADE;
CREATE INDEX tokens_by_grant ON tokens (grant_id);

CREATE TABLE oauth_codes (
    id              INTEGER PRIMARY KEY,
    hash            TEXT NOT NULL UNIQUE,
    app_id          INTEGER NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    uid             INTEGER NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    scopes          TEXT NOT NULL,
    redirect_uri    TEXT,
    code_challenge  TEXT,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT,
    grant_id        INTEGER REFERENCES oauth_grants (id) ON DELETE CASCADE
);

CREATE TABLE oauth_refresh_tokens (
    id               INTEGER PRIMARY KEY,
    hash             TEXT NOT NULL UNIQUE,
    grant_id         INTEGER NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    access_token_id  INTEGER NOT NULL,
    scopes           TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    expires_at       TEXT,
    used_at          TEXT
);
CREATE INDEX oauth_refresh_by_grant ON oauth_refresh_tokens (grant_id);

CREATE TABLE oauth_device_codes (
    id              INTEGER PRIMARY KEY,
    device_hash     TEXT NOT NULL UNIQUE,
    user_code_hash  TEXT NOT NULL UNIQUE,
    app_id          INTEGER NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    scopes          TEXT NOT NULL,
    interval_secs   INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    last_polled_at  TEXT,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'denied', 'done')),
    uid             INTEGER REFERENCES users (uid) ON DELETE CASCADE
);

CREATE TABLE oauth_consents (
    uid         INTEGER NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    app_id      INTEGER NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    scopes      TEXT NOT NULL,
    granted_at  TEXT NOT NULL,
    PRIMARY KEY (uid, app_id)
);

CREATE TABLE web_sessions (
    id          INTEGER PRIMARY KEY,
    hash        TEXT NOT NULL UNIQUE,
    uid         INTEGER NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

-- Failed sign-ins per key (`login:NAME`, `ip:ADDR`); `at` in Unix seconds
-- so both backends compare numbers.
CREATE TABLE signin_failures (
    id   INTEGER PRIMARY KEY,
    key  TEXT NOT NULL,
    at   INTEGER NOT NULL
);
CREATE INDEX signin_failures_by_key ON signin_failures (key, at);

ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;

CREATE TABLE service_accounts (
    uid          INTEGER PRIMARY KEY REFERENCES users (uid) ON DELETE CASCADE,
    org          INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    sa_id        TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    scopes       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (org, name)
);

CREATE TABLE service_account_keys (
    id              TEXT PRIMARY KEY,
    sa_uid          INTEGER NOT NULL REFERENCES service_accounts (uid) ON DELETE CASCADE,
    public_key_pem  TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL
);

CREATE TABLE audit_events (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    org     INTEGER REFERENCES organizations (id) ON DELETE CASCADE,
    uid     INTEGER,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT '',
    ip      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_by_org ON audit_events (org);
CREATE INDEX audit_events_by_uid ON audit_events (uid);
