-- Search: the issue key split for ordering, indexes for the common filters
-- and orders, and full text over summary, description and comments.

-- Issue keys sort by queue key, then number (TEST-2 before TEST-10).
ALTER TABLE issues ADD COLUMN key_queue TEXT
    GENERATED ALWAYS AS (substr(key, 1, instr(key, '-') - 1)) VIRTUAL;
ALTER TABLE issues ADD COLUMN key_num INTEGER
    GENERATED ALWAYS AS (CAST(substr(key, instr(key, '-') + 1) AS INTEGER)) VIRTUAL;

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
CREATE INDEX issue_tags_by_tag_nocase ON issue_tags (tag COLLATE NOCASE);
CREATE INDEX issue_access_by_uid ON issue_access (uid);
CREATE INDEX comments_by_author ON comments (author);

-- One full-text row per issue (rowid = issues.pk). Kept in step by the
-- triggers below, so every writer (the server, seeds, bulk loads) gets it.
-- unicode61 splits on everything but letters and digits, as
-- tracker_query::text_words does for query words; diacritics are kept so both
-- backends agree.
CREATE VIRTUAL TABLE issue_fts USING fts5 (
    summary, description, comments,
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '2 3'
);

INSERT INTO issue_fts (rowid, summary, description, comments)
SELECT i.pk, i.summary, coalesce(i.description, ''),
       coalesce((SELECT group_concat(c.text, ' ') FROM comments c WHERE c.issue_pk = i.pk), '')
FROM issues i;

CREATE TRIGGER issue_fts_on_insert AFTER INSERT ON issues BEGIN
    INSERT INTO issue_fts (rowid, summary, description, comments)
    VALUES (new.pk, new.summary, coalesce(new.description, ''), '');
END;

CREATE TRIGGER issue_fts_on_update AFTER UPDATE OF summary, description ON issues
WHEN old.summary IS NOT new.summary OR old.description IS NOT new.description BEGIN
    UPDATE issue_fts SET summary = new.summary, description = coalesce(new.description, '')
    WHERE rowid = new.pk;
END;

CREATE TRIGGER issue_fts_on_delete AFTER DELETE ON issues BEGIN
    DELETE FROM issue_fts WHERE rowid = old.pk;
END;

CREATE TRIGGER issue_fts_on_comment_insert AFTER INSERT ON comments BEGIN
    UPDATE issue_fts SET comments = comments || ' ' || new.text WHERE rowid = new.issue_pk;
END;

CREATE TRIGGER issue_fts_on_comment_update AFTER UPDATE OF text ON comments
WHEN old.text IS NOT new.text BEGIN
    UPDATE issue_fts
    SET comments = coalesce((SELECT group_concat(c.text, ' ') FROM comments c
                             WHERE c.issue_pk = new.issue_pk), '')
    WHERE rowid = new.issue_pk;
END;

CREATE TRIGGER issue_fts_on_comment_delete AFTER DELETE ON comments BEGIN
    UPDATE issue_fts
    SET comments = coalesce((SELECT group_concat(c.text, ' ') FROM comments c
                             WHERE c.issue_pk = old.issue_pk), '')
    WHERE rowid = old.issue_pk;
END;
