-- How many issues each queue holds, kept by the issues' own triggers
-- whatever writes them (a create, a batch of creates, an import, a move, a
-- snapshot restored, an organization's cascade). `Queue: X` alone is the
-- commonest search, and counting a large queue's index entries took 11 ms
-- at 205 000 issues; the kept count is one row. Derived data: emptied and
-- rebuilt with the issues by a snapshot restore, never copied.
CREATE TABLE queue_issue_counts (
    queue_id INTEGER PRIMARY KEY REFERENCES queues (id) ON DELETE CASCADE,
    issues   INTEGER NOT NULL
);

INSERT INTO queue_issue_counts (queue_id, issues)
SELECT queue_id, count(*) FROM issues GROUP BY queue_id;

CREATE TRIGGER issues_counted_on_insert AFTER INSERT ON issues BEGIN
    INSERT INTO queue_issue_counts (queue_id, issues) VALUES (new.queue_id, 1)
    ON CONFLICT (queue_id) DO UPDATE SET issues = issues + 1;
END;

CREATE TRIGGER issues_counted_on_delete AFTER DELETE ON issues BEGIN
    UPDATE queue_issue_counts SET issues = issues - 1 WHERE queue_id = old.queue_id;
END;

CREATE TRIGGER issues_counted_on_move AFTER UPDATE OF queue_id ON issues
WHEN new.queue_id IS NOT old.queue_id BEGIN
    UPDATE queue_issue_counts SET issues = issues - 1 WHERE queue_id = old.queue_id;
    INSERT INTO queue_issue_counts (queue_id, issues) VALUES (new.queue_id, 1)
    ON CONFLICT (queue_id) DO UPDATE SET issues = issues + 1;
END;
