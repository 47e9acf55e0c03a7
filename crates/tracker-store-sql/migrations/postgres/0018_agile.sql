-- Boards and saved filters are named, versioned JSON objects of an
-- organization, kept in `templates` beside issue and comment templates
-- (kinds `board` and `filter`; a board's default queue is its `queue_id`).
-- Sprints have a table of their own: issues refer to them by id. A
-- sprint's status follows from its dates (and `archived`) when read.
CREATE TABLE sprints (
    pk           BIGSERIAL PRIMARY KEY,
    org          BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    board_pk     BIGINT NOT NULL REFERENCES templates (pk),
    name         TEXT NOT NULL,
    archived     BOOLEAN NOT NULL DEFAULT FALSE,
    -- YYYY-MM-DD: the API's own text, kept as is on both engines.
    start_date   TEXT NOT NULL,
    end_date     TEXT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    created_by   BIGINT NOT NULL REFERENCES users (uid),
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX sprints_by_board ON sprints (org, board_pk, pk);
