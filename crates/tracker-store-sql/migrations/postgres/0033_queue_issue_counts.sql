-- How many issues each queue holds, kept by statement triggers on the issues
-- whatever writes them (a create, a batch of creates, an import, a move, a
-- snapshot restored, an organization's cascade). `Queue: X` alone is the
-- commonest search, and counting a large queue's index entries took 22 ms at
-- 205 000 issues; the kept count is one row. A statement's rows are counted
-- per queue once (a batch of 64 creates is one update, not 64). The row is
-- locked until commit, as the queue's row already is by the key counter, so
-- creates in one queue wait for each other no more than before. Derived
-- data: emptied and rebuilt with the issues by a snapshot restore.
CREATE TABLE queue_issue_counts (
    queue_id BIGINT PRIMARY KEY REFERENCES queues (id) ON DELETE CASCADE,
    issues   BIGINT NOT NULL
);

INSERT INTO queue_issue_counts (queue_id, issues)
SELECT queue_id, count(*) FROM issues GROUP BY queue_id;

CREATE FUNCTION issues_counted_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO queue_issue_counts AS c (queue_id, issues)
    SELECT queue_id, count(*) FROM new_rows GROUP BY queue_id ORDER BY queue_id
    ON CONFLICT (queue_id) DO UPDATE SET issues = c.issues + excluded.issues;
    RETURN NULL;
END $$;

CREATE FUNCTION issues_counted_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE queue_issue_counts c SET issues = c.issues - d.n
    FROM (SELECT queue_id, count(*) AS n FROM old_rows GROUP BY queue_id) d
    WHERE c.queue_id = d.queue_id;
    RETURN NULL;
END $$;

-- A trigger with transition tables cannot name columns (`UPDATE OF`): every
-- update statement joins its old and new rows, and only moves count. Rows are
-- locked in queue order, as by the insert, so two moves cannot deadlock here.
CREATE FUNCTION issues_counted_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
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
    RETURN NULL;
END $$;

CREATE TRIGGER issues_counted_on_insert AFTER INSERT ON issues
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION issues_counted_on_insert();
CREATE TRIGGER issues_counted_on_delete AFTER DELETE ON issues
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION issues_counted_on_delete();
CREATE TRIGGER issues_counted_on_update AFTER UPDATE ON issues
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION issues_counted_on_update();
