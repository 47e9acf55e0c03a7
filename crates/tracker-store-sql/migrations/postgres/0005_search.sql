-- Search: the issue key split for ordering, indexes for the common filters
-- and orders, and full text over summary, description and comments.

-- Issue keys sort by queue key, then number (TEST-2 before TEST-10); byte
-- order, as on SQLite.
ALTER TABLE issues ADD COLUMN key_queue TEXT COLLATE "C"
    GENERATED ALWAYS AS (split_part(key, '-', 1)) STORED;
ALTER TABLE issues ADD COLUMN key_num BIGINT
    GENERATED ALWAYS AS (CAST(NULLIF(split_part(key, '-', 2), '') AS BIGINT)) STORED;

CREATE INDEX issues_by_org_key ON issues (org, key_queue, key_num);
CREATE INDEX issues_by_queue_key ON issues (queue_id, key_queue, key_num);
CREATE INDEX issues_by_queue_status ON issues (queue_id, status);
CREATE INDEX issues_by_queue_updated ON issues (queue_id, updated_at);
CREATE INDEX issues_by_queue_created ON issues (queue_id, created_at);
CREATE INDEX issues_by_org_status ON issues (org, status);
CREATE INDEX issues_by_org_priority ON issues (org, priority);
CREATE INDEX issues_by_org_assignee ON issues (org, assignee, updated_at);
CREATE INDEX issues_by_org_author ON issues (org, author, updated_at);
CREATE INDEX issues_by_org_created ON issues (org, created_at);
CREATE INDEX issues_by_org_updated ON issues (org, updated_at);
CREATE INDEX issue_tags_by_lower_tag ON issue_tags (lower(tag));
CREATE INDEX issue_access_by_uid ON issue_access (uid);
CREATE INDEX comments_by_author ON comments (author);

-- The words of a text as full text sees them: lowercase runs of letters and
-- digits (tracker_query::text_words), so both backends split text alike.
CREATE FUNCTION trackerd_words(t TEXT) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsvector('simple', regexp_replace(lower(coalesce(t, '')), '[^[:alnum:]]+', ' ', 'g'))
$$;

-- One full-text row per issue: summary (weight A), description (B) and
-- comments (C). Kept in step by triggers, so every writer gets it.
CREATE TABLE issue_search (
    issue_pk  BIGINT PRIMARY KEY REFERENCES issues (pk) ON DELETE CASCADE,
    tsv       tsvector NOT NULL
);
CREATE INDEX issue_search_tsv ON issue_search USING gin (tsv);

CREATE FUNCTION trackerd_refresh_issue_search(p BIGINT) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO issue_search (issue_pk, tsv)
    SELECT i.pk,
           setweight(trackerd_words(i.summary), 'A')
           || setweight(trackerd_words(i.description), 'B')
           || setweight(trackerd_words((SELECT string_agg(c.text, ' ' ORDER BY c.pk)
                                        FROM comments c WHERE c.issue_pk = i.pk)), 'C')
    FROM issues i WHERE i.pk = p
    ON CONFLICT (issue_pk) DO UPDATE SET tsv = excluded.tsv
$$;

SELECT trackerd_refresh_issue_search(pk) FROM issues;

CREATE FUNCTION trackerd_issue_search_on_issue() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT'
       OR old.summary IS DISTINCT FROM new.summary
       OR old.description IS DISTINCT FROM new.description THEN
        PERFORM trackerd_refresh_issue_search(new.pk);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER issue_search_on_issue AFTER INSERT OR UPDATE OF summary, description ON issues
FOR EACH ROW EXECUTE FUNCTION trackerd_issue_search_on_issue();

CREATE FUNCTION trackerd_issue_search_on_comment() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM trackerd_refresh_issue_search(old.issue_pk);
    ELSIF TG_OP = 'INSERT' OR old.text IS DISTINCT FROM new.text THEN
        PERFORM trackerd_refresh_issue_search(new.issue_pk);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER issue_search_on_comment AFTER INSERT OR UPDATE OF text OR DELETE ON comments
FOR EACH ROW EXECUTE FUNCTION trackerd_issue_search_on_comment();
