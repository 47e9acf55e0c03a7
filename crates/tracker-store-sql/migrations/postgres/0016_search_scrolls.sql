-- Search scroll snapshots, shared by every node on the database: a header
-- and the snapshot's pages, one row each. Times are Unix milliseconds.
CREATE TABLE search_scrolls (
    id          TEXT PRIMARY KEY,
    org         BIGINT NOT NULL,
    uid         BIGINT NOT NULL,
    token_hash  TEXT NOT NULL,
    per         BIGINT NOT NULL,
    total       BIGINT NOT NULL,
    pages       BIGINT NOT NULL,
    ttl_ms      BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL
);
CREATE INDEX search_scrolls_by_expiry ON search_scrolls (expires_ms);
CREATE TABLE search_scroll_pages (
    scroll_id   TEXT NOT NULL,
    page        BIGINT NOT NULL,
    pks         TEXT NOT NULL,
    PRIMARY KEY (scroll_id, page)
);
