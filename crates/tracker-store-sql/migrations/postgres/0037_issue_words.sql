-- Full text at a million issues (issue #16).
--
-- Each match of a word was found in the GIN index of `issue_search`, then
-- its row was read for the recheck (the tsvectors, 821 MB at 1 000 000
-- issues, mostly outside the cache) and looked up in `issues` for its
-- organization and key order: `resize`, 22 189 matches, took 134–180 ms to
-- count and as long for its first page, 84–94 ms with everything cached.
-- Each issue's words now have a row of their own that carries the issue's
-- organization and key order, and which of summary (1), description (2)
-- and comments (4) hold the word. A word's matches, or a prefix's, are one
-- range of the primary key: counted from the index alone, and a page in
-- key order is the range's first entries (one word) or a bounded sort of
-- them (a prefix of several).
--
-- The rows are derived from the `issue_search` tsvector that the triggers
-- already keep (its lexemes and their weights), so a word means what it
-- meant to the tsquery `word:*` (or `word:*A`, …) it replaces.
CREATE FUNCTION trackerd_tsv_words(t tsvector) RETURNS TABLE (word TEXT, scopes SMALLINT)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT u.lexeme,
           (CASE WHEN 'A' = ANY (u.weights) THEN 1 ELSE 0 END
            | CASE WHEN 'B' = ANY (u.weights) THEN 2 ELSE 0 END
            | CASE WHEN 'C' = ANY (u.weights) THEN 4 ELSE 0 END)::SMALLINT
    FROM unnest(t) u
$$;

CREATE TABLE issue_words (
    org       BIGINT NOT NULL,
    word      TEXT COLLATE "C" NOT NULL,
    key_queue TEXT COLLATE "C" NOT NULL,
    key_num   BIGINT NOT NULL,
    issue_pk  BIGINT NOT NULL,
    scopes    SMALLINT NOT NULL
);

INSERT INTO issue_words (org, word, key_queue, key_num, issue_pk, scopes)
SELECT i.org, f.word, i.key_queue, i.key_num, i.pk, f.scopes
FROM issue_search s JOIN issues i ON i.pk = s.issue_pk, trackerd_tsv_words(s.tsv) f;

ALTER TABLE issue_words
    ADD PRIMARY KEY (org, word, key_queue, key_num, issue_pk) INCLUDE (scopes);
-- A word is a range of text, and the planner estimates a range between two
-- bounds of its histogram as nearly empty: `currency` (40 070 rows of 30
-- million) was estimated at 1, and a search of two words planned as a
-- nested loop that ran for minutes. Words are few and skewed, so the most
-- common ones (up to 10 000 of them) are counted one by one instead.
ALTER TABLE issue_words ALTER COLUMN word SET STATISTICS 10000;
ANALYZE issue_words;

-- Nothing reads the tsvector through an index any more: it stays as the
-- record of which words an issue's rows hold, so a refresh or a move
-- finds them by primary key.
DROP INDEX issue_search_tsv;

-- The words an issue's rows are under: its full-text row's lexemes (NULL
-- without one). A move or a delete finds the rows by primary key with them.
CREATE FUNCTION trackerd_issue_word_list(p BIGINT) RETURNS TEXT[]
LANGUAGE sql STABLE AS $$
    SELECT tsvector_to_array(s.tsv) FROM issue_search s WHERE s.issue_pk = p
$$;

-- A refresh (an issue's insert, an edit of its summary or description, a
-- comment written) rewrites only the words that changed: those that left
-- go, new ones come, and a word whose scopes changed is updated. Words are
-- kept under the issue's current key: a move has already carried them
-- there (`issue_keyed_words_follow` fires before this refresh, by name).
-- The full-text row is locked before the text is read: two writers of one
-- issue (two comments) refresh one after the other, and the second reads
-- the first one's text once it has committed, instead of writing words
-- read before it.
CREATE OR REPLACE FUNCTION trackerd_refresh_issue_search(p BIGINT) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    o BIGINT;
    kq TEXT;
    kn BIGINT;
    fresh tsvector;
    stale tsvector;
BEGIN
    SELECT s.tsv INTO stale FROM issue_search s WHERE s.issue_pk = p FOR UPDATE;
    SELECT i.org, i.key_queue, i.key_num,
           setweight(trackerd_words(i.summary), 'A')
           || setweight(trackerd_words(i.description), 'B')
           || setweight(trackerd_words((SELECT string_agg(c.text, ' ' ORDER BY c.pk)
                                        FROM comments c WHERE c.issue_pk = i.pk)), 'C')
    INTO o, kq, kn, fresh
    FROM issues i WHERE i.pk = p;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF stale IS NOT NULL THEN
        DELETE FROM issue_words w
        WHERE w.org = o AND w.key_queue = kq AND w.key_num = kn AND w.issue_pk = p
          AND w.word = ANY (ARRAY(SELECT unnest(tsvector_to_array(stale))
                                  EXCEPT SELECT unnest(tsvector_to_array(fresh))));
        UPDATE issue_search SET tsv = fresh WHERE issue_pk = p;
    ELSE
        INSERT INTO issue_search (issue_pk, tsv) VALUES (p, fresh);
    END IF;
    -- Only the (word, scopes) pairs that are new: a comment that adds a
    -- word or two touches those rows, not all thirty of the issue's.
    INSERT INTO issue_words AS w (org, word, key_queue, key_num, issue_pk, scopes)
    SELECT o, f.word, kq, kn, p, f.scopes FROM (
        SELECT * FROM trackerd_tsv_words(fresh)
        EXCEPT SELECT * FROM trackerd_tsv_words(stale)
    ) f
    ON CONFLICT (org, word, key_queue, key_num, issue_pk)
    DO UPDATE SET scopes = excluded.scopes;
END
$$;

-- A move gives the issue a new key: its words follow. Named to fire before
-- `issue_search_on_issue` (triggers of one event fire in name order), so a
-- statement that changes the key and the summary together refreshes words
-- already under the new key.
CREATE FUNCTION trackerd_issue_words_follow_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE issue_words w SET key_queue = NEW.key_queue, key_num = NEW.key_num
    WHERE w.org = OLD.org AND w.key_queue = OLD.key_queue AND w.key_num = OLD.key_num
      AND w.issue_pk = OLD.pk
      AND w.word = ANY (trackerd_issue_word_list(OLD.pk));
    RETURN NULL;
END
$$;
CREATE TRIGGER issue_keyed_words_follow AFTER UPDATE OF key ON issues
    FOR EACH ROW WHEN (OLD.key IS DISTINCT FROM NEW.key)
    EXECUTE FUNCTION trackerd_issue_words_follow_key();

-- An issue deleted (an organization's cascade, a snapshot restored) takes
-- its words along. Before the delete, while the full-text row that lists
-- them is still there (the cascade removes it right after).
CREATE FUNCTION trackerd_issue_words_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM issue_words w
    WHERE w.org = OLD.org AND w.key_queue = OLD.key_queue AND w.key_num = OLD.key_num
      AND w.issue_pk = OLD.pk
      AND w.word = ANY (trackerd_issue_word_list(OLD.pk));
    RETURN OLD;
END
$$;
CREATE TRIGGER issue_words_on_delete BEFORE DELETE ON issues
    FOR EACH ROW EXECUTE FUNCTION trackerd_issue_words_on_delete();
