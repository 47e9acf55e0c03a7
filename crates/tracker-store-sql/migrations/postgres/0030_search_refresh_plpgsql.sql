-- The full-text row's refresh, run by the triggers of every issue insert
-- and every comment write. As a `LANGUAGE sql` function it was parsed and
-- planned again at each call: a third of PostgreSQL's CPU per issue create
-- (perf of the backends under concurrent creates). PL/pgSQL keeps its
-- statement's plan for the session. Same statement, same result.
CREATE OR REPLACE FUNCTION trackerd_refresh_issue_search(p BIGINT) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO issue_search (issue_pk, tsv)
    SELECT i.pk,
           setweight(trackerd_words(i.summary), 'A')
           || setweight(trackerd_words(i.description), 'B')
           || setweight(trackerd_words((SELECT string_agg(c.text, ' ' ORDER BY c.pk)
                                        FROM comments c WHERE c.issue_pk = i.pk)), 'C')
    FROM issues i WHERE i.pk = p
    ON CONFLICT (issue_pk) DO UPDATE SET tsv = excluded.tsv;
END
$$;
