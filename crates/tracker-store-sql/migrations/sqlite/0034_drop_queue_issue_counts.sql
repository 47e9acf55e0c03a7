-- The queues' counts (migration 0032) are also the sums of the kept
-- combination counts (migration 0033) over a queue's rows, a few hundred at
-- most: `Queue: X` alone is counted from those, and the issues' writers
-- keep one table of counts instead of two (issue #16).
DROP TRIGGER issues_counted_on_insert;
DROP TRIGGER issues_counted_on_delete;
DROP TRIGGER issues_counted_on_move;
DROP TABLE queue_issue_counts;
