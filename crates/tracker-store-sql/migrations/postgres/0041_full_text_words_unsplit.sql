-- The words of a text are its lowercase runs of letters and digits
-- (tracker_query::text_words), as on SQLite. `to_tsvector` parsed the runs
-- again and split those it reads as a number in scientific notation:
-- "5e3a9f01" became '5e3' and 'a9f01', so a search for 5e3a9f01 found
-- nothing on PostgreSQL (a random hexadecimal summary did so one time in
-- twenty or so). Such a text's runs are now written as the tsvector's
-- lexemes as they are (positions all 1: nothing reads them; a word's rows
-- carry only which of summary, description and comments hold it, from the
-- weights). Any other text keeps `to_tsvector` (among runs of letters and
-- digits its parser splits only such numbers). One expression, so that
-- PostgreSQL inlines it into the refresh's statement as it did the old
-- one: a body with a sub-select was run as a function of its own at every
-- call, and cut creates by a fifth (issue-bench); this one computes 50 000
-- texts in 229-233 ms against the old one's 213-220 ms.
CREATE OR REPLACE FUNCTION trackerd_words(t TEXT) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN coalesce(t, '') !~* '[0-9]e[0-9]'
            THEN to_tsvector('simple', regexp_replace(lower(coalesce(t, '')), '[^[:alnum:]]+', ' ', 'g'))
        -- Runs of 510 characters or more are left out (`to_tsvector` leaves
        -- out words past 2 046 bytes, and a tsvector refuses them).
        ELSE trim(regexp_replace(regexp_replace(regexp_replace(lower(t),
                 '([[:alnum:]]{255}){2}[[:alnum:]]*', ' ', 'g'),
                 '[^[:alnum:]]+', ' ', 'g'),
                 '([[:alnum:]]+)', '''\1'':1', 'g'))::tsvector
    END
$$;

-- Only a text holding a digit, an "e" and a digit in a row can have been
-- split: those issues' rows are written again (words and all).
SELECT trackerd_refresh_issue_search(i.pk)
FROM issues i
WHERE i.summary ~* '[0-9]e[0-9]'
   OR i.description ~* '[0-9]e[0-9]'
   OR EXISTS (SELECT 1 FROM comments c WHERE c.issue_pk = i.pk AND c.text ~* '[0-9]e[0-9]');
