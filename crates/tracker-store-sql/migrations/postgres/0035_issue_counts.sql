-- How many issues each combination of queue, status, priority and type
-- holds (issue #16), kept by the issues' statement triggers beside the
-- queues' counts (migration 0033), whatever writes them. A count whose
-- filter tests only these columns (`Queue: X Status: open`,
-- `Priority: critical, blocker Type: bug`, `Status: !closed`) is the sum
-- of the matching rows, the same filter applied to them: a few hundred rows
-- at most, where counting 69 706 index entries took 12–23 ms at 1 000 000
-- issues. Derived data: emptied and rebuilt with the issues by a snapshot
-- restore, never copied.
--
-- Rows are locked until commit, in key order within a statement and after
-- the queues' counts, as the creates' batches take them: a status change
-- waits only for another write that moves an issue of the same combination.
CREATE TABLE issue_counts (
    org        BIGINT NOT NULL,
    queue_id   BIGINT NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    status     TEXT NOT NULL,
    priority   TEXT NOT NULL,
    issue_type TEXT NOT NULL,
    issues     BIGINT NOT NULL,
    PRIMARY KEY (org, queue_id, status, priority, issue_type)
);

INSERT INTO issue_counts (org, queue_id, status, priority, issue_type, issues)
SELECT org, queue_id, status, priority, issue_type, count(*) FROM issues
GROUP BY org, queue_id, status, priority, issue_type;

CREATE OR REPLACE FUNCTION issues_counted_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO queue_issue_counts AS c (queue_id, issues)
    SELECT queue_id, count(*) FROM new_rows GROUP BY queue_id ORDER BY queue_id
    ON CONFLICT (queue_id) DO UPDATE SET issues = c.issues + excluded.issues;
    INSERT INTO issue_counts AS c (org, queue_id, status, priority, issue_type, issues)
    SELECT org, queue_id, status, priority, issue_type, count(*) FROM new_rows
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (org, queue_id, status, priority, issue_type)
    DO UPDATE SET issues = c.issues + excluded.issues;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION issues_counted_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE queue_issue_counts c SET issues = c.issues - d.n
    FROM (SELECT queue_id, count(*) AS n FROM old_rows GROUP BY queue_id) d
    WHERE c.queue_id = d.queue_id;
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
    INSERT INTO queue_issue_counts AS c (queue_id, issues)
    SELECT queue_id, sum(n) FROM (
        SELECT o.queue_id, -1 AS n FROM old_rows o JOIN new_rows w ON w.pk = o.pk
        WHERE w.queue_id <> o.queue_id
        UNION ALL
        SELECT w.queue_id, 1 AS n FROM old_rows o JOIN new_rows w ON w.pk = o.pk
        WHERE w.queue_id <> o.queue_id
    ) moves GROUP BY queue_id ORDER BY queue_id
    ON CONFLICT (queue_id) DO UPDATE SET issues = c.issues + excluded.issues;
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
