-- Files attached to issues and comments. The bytes are in the blob store
-- (`blob` is the key there); a row with no issue is a temporary upload,
-- which only its uploader can attach. A blob is written before its row, so
-- a failed write can leave a blob without a row, never a row without a blob.
CREATE TABLE attachments (
    pk          BIGSERIAL PRIMARY KEY,
    org         BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    issue_pk    BIGINT REFERENCES issues (pk) ON DELETE CASCADE,
    -- A removed comment's files stay with the issue (a choice: Tracker does not say).
    comment_pk  BIGINT REFERENCES comments (pk) ON DELETE SET NULL,
    name        TEXT NOT NULL,
    mimetype    TEXT NOT NULL,
    size        BIGINT NOT NULL,
    blob        TEXT NOT NULL UNIQUE,
    image_size  TEXT,
    created_by  BIGINT NOT NULL REFERENCES users (uid),
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachments_by_issue ON attachments (issue_pk);
