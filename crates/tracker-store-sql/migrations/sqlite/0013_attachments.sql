-- Files attached to issues and comments. The bytes are in the blob store
-- (`blob` is the key there); a row with no issue is a temporary upload,
-- which only its uploader can attach. A blob is written before its row, so
-- a failed write can leave a blob without a row, never a row without a blob.
CREATE TABLE attachments (
    pk          INTEGER PRIMARY KEY,
    org         INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    issue_pk    INTEGER REFERENCES issues (pk) ON DELETE CASCADE,
    -- A removed comment's files stay with the issue (a choice: Tracker does not say).
    comment_pk  INTEGER REFERENCES comments (pk) ON DELETE SET NULL,
    name        TEXT NOT NULL,
    mimetype    TEXT NOT NULL,
    size        INTEGER NOT NULL,
    blob        TEXT NOT NULL UNIQUE,
    image_size  TEXT,
    created_by  INTEGER NOT NULL REFERENCES users (uid),
    created_at  TEXT NOT NULL
);
CREATE INDEX attachments_by_issue ON attachments (issue_pk);
