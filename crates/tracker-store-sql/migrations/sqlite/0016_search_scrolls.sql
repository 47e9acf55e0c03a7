-- Search scroll snapshots, shared by every node on the database: a header
-- and the snapshot's pages, one row each. Times are Unix milliseconds.
CREATE TABLE search_scrolls (
    id          TEXT PRIMARY KEY,
    org         INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    token_hash  TEXT NOT NULL,
    per         INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    pages       INTEGER NOT NULL,
    ttl_ms      INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL
);
CREATE INDEX search_scrolls_by_expiry ON search_scrolls (expires_ms);
CREATE TABLE search_scroll_pages (
    scroll_id   TEXT NOT NULL,
    page        INTEGER NOT NULL,
    pks         TEXT NOT NULL,
    PRIMARY KEY (scroll_id, page)
);
