-- The external applications an organization links its issues into, and
-- the links. A link names its application by id within the organization;
-- an application cannot be removed while links point into it.
CREATE TABLE applications (
    org         BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    app_type    TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org, id)
);
CREATE TABLE remote_links (
    pk          BIGSERIAL PRIMARY KEY,
    org         BIGINT NOT NULL,
    issue_pk    BIGINT NOT NULL REFERENCES issues (pk) ON DELETE CASCADE,
    type_id     TEXT NOT NULL,
    direction   TEXT NOT NULL,
    application TEXT NOT NULL,
    object_key  TEXT NOT NULL,
    created_by  BIGINT NOT NULL REFERENCES users (uid),
    created_at  TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (org, application) REFERENCES applications (org, id),
    -- The same object linked the same way twice is one link; two writers
    -- racing to add it cannot both succeed.
    UNIQUE (issue_pk, application, object_key, type_id, direction)
);
CREATE INDEX remote_links_by_application ON remote_links (org, application);
