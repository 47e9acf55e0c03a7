-- Federated accounts: an organization's OpenID Connect identity providers,
-- the accounts they sign in (issuer + subject -> account), and the sign-ins
-- under way (state, nonce, PKCE verifier), kept here so that any node may
-- receive the provider's callback.

CREATE TABLE federation_providers (
    id                BIGSERIAL PRIMARY KEY,
    -- What `tracker login --federation` and the sign-in URLs name.
    public_id         TEXT NOT NULL UNIQUE,
    org               BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    issuer            TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    -- Sent to the provider's token endpoint, so kept as given (not hashed);
    -- never shown by any command or page, never logged.
    client_secret     TEXT NOT NULL,
    scopes            TEXT NOT NULL,
    login_claim       TEXT NOT NULL,
    first_name_claim  TEXT NOT NULL,
    last_name_claim   TEXT NOT NULL,
    email_claim       TEXT NOT NULL,
    link_rule         TEXT NOT NULL CHECK (link_rule IN ('create', 'email', 'login')),
    -- The JWS algorithms an ID token may be signed with, space-separated.
    algorithms        TEXT NOT NULL,
    enabled           BOOLEAN NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX federation_providers_by_org ON federation_providers (org);

CREATE TABLE federated_identities (
    id             BIGSERIAL PRIMARY KEY,
    provider       BIGINT NOT NULL REFERENCES federation_providers (id) ON DELETE CASCADE,
    subject        TEXT NOT NULL,
    uid            BIGINT NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
    -- The provider's refresh token, used to ask it whether the account still
    -- exists when trackerd's own refresh token is used.
    refresh_token  TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    last_seen_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (provider, subject)
);
CREATE INDEX federated_identities_by_uid ON federated_identities (uid);

CREATE TABLE federation_logins (
    id            BIGSERIAL PRIMARY KEY,
    -- SHA-256 of the `state` sent to the provider, and of the cookie that
    -- binds the sign-in to the browser that started it.
    state_hash    TEXT NOT NULL UNIQUE,
    browser_hash  TEXT NOT NULL,
    provider      BIGINT NOT NULL REFERENCES federation_providers (id) ON DELETE CASCADE,
    nonce         TEXT NOT NULL,
    verifier      TEXT NOT NULL,
    next          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    used_at       TIMESTAMPTZ
);
