-- The comments' text is read into a variable before the words are built:
-- passed to `trackerd_words` as a sub-select, it kept PostgreSQL from
-- inlining the function (a parameter used more than once, given an
-- argument holding a sub-plan, is not substituted), so every refresh ran
-- the comments' words as a SQL function call of its own since 0041's
-- body (which reads its text three times). issue-bench on PostgreSQL:
-- creates 2 641-2 778 per s against 2 984-3 063 before 0041. The rest of
-- the function is 0037's.
CREATE OR REPLACE FUNCTION trackerd_refresh_issue_search(p BIGINT) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    o BIGINT;
    kq TEXT;
    kn BIGINT;
    said TEXT;
    fresh tsvector;
    stale tsvector;
BEGIN
    SELECT s.tsv INTO stale FROM issue_search s WHERE s.issue_pk = p FOR UPDATE;
    SELECT string_agg(c.text, ' ' ORDER BY c.pk) INTO said FROM comments c WHERE c.issue_pk = p;
    SELECT i.org, i.key_queue, i.key_num,
           setweight(trackerd_words(i.summary), 'A')
           || setweight(trackerd_words(i.description), 'B')
           || setweight(trackerd_words(said), 'C')
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
