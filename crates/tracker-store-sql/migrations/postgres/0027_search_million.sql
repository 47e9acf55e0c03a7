-- Search at a million issues (issue #16).
--
-- Conditions answered by another table (followers, tags, full text) name
-- their issues by internal key; the page then needs each one's organization
-- and key order. Read from the table, that is a random visit to a wide row
-- per match (a tag on 14 000 issues: 14 000 of them); this index carries
-- the organization and key order by internal key, so the same walk stays in
-- a narrow index.
CREATE INDEX issues_by_pk_org_key ON issues (pk, org, key_queue, key_num);

-- Date ranges (`Created: >= …`, `Updated: a .. b`) ordered by key: the
-- range's entries carry the key order, so the page is sorted from the index
-- alone instead of visiting every issue in the range. They replace the
-- indexes on (org, created_at) and (org, updated_at), their prefixes.
CREATE INDEX issues_by_org_created_key ON issues (org, created_at, key_queue, key_num);
CREATE INDEX issues_by_org_updated_key ON issues (org, updated_at, key_queue, key_num);
DROP INDEX issues_by_org_created;
DROP INDEX issues_by_org_updated;

-- `Followers: x` and `Tags: x` read the matching issues' internal keys from
-- an index on the person or tag alone, then visit each row for its issue;
-- with the issue in the index, they are read from the index alone.
CREATE INDEX issue_followers_by_uid_issue ON issue_followers (uid, issue_pk);
DROP INDEX issue_followers_by_uid;
CREATE INDEX issue_tags_by_lower_tag_issue ON issue_tags (lower(tag), issue_pk);
DROP INDEX issue_tags_by_lower_tag;

-- `{queue, priority}` newest first (the filter form's common shape): the
-- count and the page both from the index, instead of visiting every issue
-- of the queue to test its priority.
CREATE INDEX issues_by_org_queue_priority_created ON issues (org, queue_id, priority, created_at);

-- The planner multiplies the selectivities of conditions on different
-- columns as if they were independent; in a tracker these pairs seldom are
-- (closed issues are old, a queue has its own mix of statuses and
-- priorities, an assignee their own mix of statuses), and the row counts it
-- derives decide between walking an index in key order and sorting the
-- matches. Taken at once, so the new indexes are planned with them.
CREATE STATISTICS issues_queue_status (dependencies, ndistinct, mcv) ON queue_id, status FROM issues;
CREATE STATISTICS issues_queue_priority (dependencies, ndistinct, mcv) ON queue_id, priority FROM issues;
CREATE STATISTICS issues_assignee_status (dependencies, ndistinct, mcv) ON assignee, status FROM issues;
CREATE STATISTICS issues_priority_type (dependencies, ndistinct, mcv) ON priority, issue_type FROM issues;
ANALYZE issues;
ANALYZE issue_followers;
ANALYZE issue_tags;
