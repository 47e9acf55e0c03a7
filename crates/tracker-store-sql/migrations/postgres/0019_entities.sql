-- Projects, portfolios and goals ("entities"). An entity's fields are one
-- JSON document (`fields`): the reference lets a client read and write any
-- of them by name, and search filters and orders on them. Projects of the
-- older /v2/projects API are the same rows: its integer id is `short_id`.
CREATE TABLE entities (
    pk          BIGSERIAL PRIMARY KEY,
    org         BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    short_id    BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    created_by  BIGINT NOT NULL REFERENCES users (uid),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    fields      TEXT NOT NULL,
    UNIQUE (org, id),
    -- Two creations racing for the next short id cannot both win.
    UNIQUE (org, entity_type, short_id)
);
-- Every change of an entity, as its events log answers it.
CREATE TABLE entity_events (
    pk          BIGSERIAL PRIMARY KEY,
    entity_pk   BIGINT NOT NULL REFERENCES entities (pk) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    author      BIGINT NOT NULL REFERENCES users (uid),
    created_at  TIMESTAMPTZ NOT NULL,
    display     TEXT NOT NULL,
    changes     TEXT NOT NULL
);
CREATE INDEX entity_events_by_entity ON entity_events (entity_pk, pk);
CREATE TABLE entity_comments (
    pk          BIGSERIAL PRIMARY KEY,
    entity_pk   BIGINT NOT NULL REFERENCES entities (pk) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    text        TEXT NOT NULL,
    summonees   TEXT NOT NULL,
    author      BIGINT NOT NULL REFERENCES users (uid),
    updated_by  BIGINT NOT NULL REFERENCES users (uid),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL
);
CREATE INDEX entity_comments_by_entity ON entity_comments (entity_pk, pk);
-- A link is stored once, from the entity it was made on; the other side
-- sees it inverted.
CREATE TABLE entity_links (
    pk          BIGSERIAL PRIMARY KEY,
    entity_pk   BIGINT NOT NULL REFERENCES entities (pk) ON DELETE CASCADE,
    target_pk   BIGINT NOT NULL REFERENCES entities (pk) ON DELETE CASCADE,
    relationship TEXT NOT NULL,
    created_by  BIGINT NOT NULL REFERENCES users (uid),
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (entity_pk, target_pk)
);
CREATE INDEX entity_links_by_target ON entity_links (target_pk);
-- Temporary uploads attached to an entity (the bytes and the row stay in
-- `attachments`, with no issue).
CREATE TABLE entity_attachments (
    attachment_pk BIGINT PRIMARY KEY REFERENCES attachments (pk) ON DELETE CASCADE,
    entity_pk     BIGINT NOT NULL REFERENCES entities (pk) ON DELETE CASCADE
);
CREATE INDEX entity_attachments_by_entity ON entity_attachments (entity_pk);
