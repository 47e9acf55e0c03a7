-- Fields an organization creates: global fields (`queue_id` NULL, the id
-- is the key) and a queue's local fields (the id is `<prefix>--<key>`),
-- and the categories fields are grouped in. An issue's values stay in its
-- `extra` JSON under the field's id, where the renderer and the query
-- evaluator already read them; these rows say what each value may be.
CREATE TABLE field_categories (
    org          BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    name_en      TEXT NOT NULL,
    name_ru      TEXT NOT NULL,
    description  TEXT,
    ord          BIGINT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org, id)
);

CREATE TABLE custom_fields (
    org          BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    queue_id     BIGINT REFERENCES queues (id),
    key          TEXT NOT NULL,
    name_en      TEXT NOT NULL,
    name_ru      TEXT NOT NULL,
    description  TEXT,
    category     TEXT NOT NULL,
    field_type   TEXT NOT NULL,
    container    BOOLEAN NOT NULL DEFAULT FALSE,
    -- The optionsProvider object as JSON text, or NULL for free values.
    options      TEXT,
    ord          BIGINT NOT NULL,
    readonly     BOOLEAN NOT NULL DEFAULT FALSE,
    visible      BOOLEAN NOT NULL DEFAULT FALSE,
    hidden       BOOLEAN NOT NULL DEFAULT FALSE,
    version      BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org, id)
);
-- Keys are unique ignoring case: among the organization's global fields,
-- and among one queue's local fields.
CREATE UNIQUE INDEX custom_fields_global_key ON custom_fields (org, lower(key)) WHERE queue_id IS NULL;
CREATE UNIQUE INDEX custom_fields_local_key ON custom_fields (queue_id, lower(key)) WHERE queue_id IS NOT NULL;
