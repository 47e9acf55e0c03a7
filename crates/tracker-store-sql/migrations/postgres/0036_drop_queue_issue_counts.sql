-- The queues' counts (migration 0033) are also the sums of the kept
-- combination counts (migration 0035) over a queue's rows, a few hundred at
-- most: `Queue: X` alone is counted from those, and the issues' writers
-- keep one table of counts instead of two (issue #16).
CREATE OR REPLACE FUNCTION issues_counted_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO issue_counts AS c (org, queue_id, status, priority, issue_type, issues)
    SELECT org, queue_id, status, priority, issue_type, count(*) FROM new_rows
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (org, queue_id, status, priority, issue_type)
    DO UPDATE SET issues = c.issues + excluded.issues;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION issues_counted_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE issue_counts c SET issues = c.issues - d.n
    FROM (SELECT org, queue_id, status, priority, issue_type, count(*) AS n
          FROM old_rows GROUP BY 1, 2, 3, 4, 5) d
    WHERE (c.org, c.queue_id, c.status, c.priority, c.issue_type)
        = (d.org, d.queue_id, d.status, d.priority, d.issue_type);
    RETURN NULL;
END $$;

-- Only rows whose combination changed count; most updates (an edit of the
-- summary, a comment) change none and lock nothing here.
CREATE OR REPLACE FUNCTION issues_counted_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO issue_counts AS c (org, queue_id, status, priority, issue_type, issues)
    SELECT org, queue_id, status, priority, issue_type, sum(n) FROM (
        SELECT o.org, o.queue_id, o.status, o.priority, o.issue_type, -1 AS n
        FROM old_rows o JOIN new_rows w ON w.pk = o.pk
        WHERE (w.org, w.queue_id, w.status, w.priority, w.issue_type)
            IS DISTINCT FROM (o.org, o.queue_id, o.status, o.priority, o.issue_type)
        UNION ALL
        SELECT w.org, w.queue_id, w.status, w.priority, w.issue_type, 1 AS n
        FROM old_rows o JOIN new_rows w ON w.pk = o.pk
        WHERE (w.org, w.queue_id, w.status, w.priority, w.issue_type)
            IS DISTINCT FROM (o.org, o.queue_id, o.status, o.priority, o.issue_type)
    ) moves GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (org, queue_id, status, priority, issue_type)
    DO UPDATE SET issues = c.issues + excluded.issues;
    RETURN NULL;
END $$;

DROP TABLE queue_issue_counts;
