-- Projects, portfolios and goals ("entities"). An entity's fields are one
-- JSON document (`fields`): the reference lets a client read and write any
-- of them by name, and search filters and orders on them. Projects of the
-- older /v2/projects API are the same rows: its integer id is `short_id`.
CREATE TABLE entities (
    pk          INTEGER PRIMARY KEY,
    org         INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    short_id    INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES users (uid),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    fields      TEXT NOT NULL,
    UNIQUE (org, id),
    -- Two creations racing for the next short id cannot both win.
    UNIQUE (org, entity_type, short_id)
);
-- Every change of an entity, as its events log answers it.
CREATE TABLE entity_events (
    pk          INTEGER PRIMARY KEY,
    entity_pk   INTEGER NOT NULL REFERENCES entities (pk) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    author      INTEGER NOT NULL REFERENCES users (uid),
    created_at  TEXT NOT NULL,
    display     TEXT NOT NULL,
    changes     TEXT NOT NULL
);
CREATE INDEX entity_events_by_entity ON entity_events (entity_pk, pk);
CREATE TABLE entity_comments (
    pk          INTEGER PRIMARY KEY,
    entity_pk   INTEGER NOT NULL REFERENCES entities (pk) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    text        TEXT NOT NULL,
    summonees   TEXT NOT NULL,
    author      INTEGER NOT NULL REFERENCES users (uid),
    updated_by  INTEGER NOT NULL REFERENCES users (uid),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     INTEGER NOT NULL
);
CREATE INDEX entity_comments_by_entity ON entity_comments (entity_pk, pk);
-- A link is stored once, from the entity it was made on; the other side
-- sees it inverted.
CREATE TABLE entity_links (
    pk          INTEGER PRIMARY KEY,
    entity_pk   INTEGER NOT NULL REFERENCES entities (pk) ON DELETE CASCADE,
    target_pk   INTEGER NOT NULL REFERENCES entities (pk) ON DELETE CASCADE,
    relationship TEXT NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES users (uid),
    created_at  TEXT NOT NULL,
    UNIQUE (entity_pk, target_pk)
);
CREATE INDEX entity_links_by_target ON entity_links (target_pk);
-- Temporary uploads attached to an entity (the bytes and the row stay in
-- `attachments`, with no issue).
CREATE TABLE entity_attachments (
    attachment_pk INTEGER PRIMARY KEY REFERENCES attachments (pk) ON DELETE CASCADE,
    entity_pk     INTEGER NOT NULL REFERENCES entities (pk) ON DELETE CASCADE
);
CREATE INDEX entity_attachments_by_entity ON entity_attachments (entity_pk);
