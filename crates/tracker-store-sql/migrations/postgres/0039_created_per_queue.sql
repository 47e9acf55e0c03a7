-- Issues created since a date in key order (`Created: >= <a month ago>`,
-- issue #16): a queue's keys are given in creation order, so the range's
-- issues sit at the end of every queue, and the page was a bounded sort of
-- all of the range's entries of `(org, created_at, key)` (42 466 of
-- 1 000 000 issues: 3.8 ms to read them, 4.2 ms to sort them). Walked a
-- queue at a time in its key's order instead, each queue's part of the
-- range read from this index alone and sorted by number, the first page
-- reads only the first queues' parts (two queues, 6 144 entries: 1.4 ms).
-- It replaces `(org, queue_id, created_at)`, whose every use it serves: a
-- create writes as many index entries as before.
CREATE INDEX issues_by_org_queue_created_key
    ON issues (org, queue_id, created_at) INCLUDE (key_num, pk);
DROP INDEX issues_by_org_queue_created;

-- The queues in the byte order of their keys, the order issue keys sort in
-- (`key_queue` is `COLLATE "C"`), whatever the database's collation.
CREATE INDEX queues_by_org_key_bytes ON queues (org, key COLLATE "C");
