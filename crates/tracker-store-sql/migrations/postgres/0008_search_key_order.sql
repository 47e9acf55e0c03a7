-- The common one-field filters find their issues already in key order (the
-- default order of a search), so the first page of `Assignee: x` reads fifty
-- index entries instead of sorting every match.

CREATE INDEX issues_by_org_assignee_key ON issues (org, assignee, key_queue, key_num);
CREATE INDEX issues_by_org_author_key ON issues (org, author, key_queue, key_num);
CREATE INDEX issues_by_org_queue_status_key ON issues (org, queue_id, status, key_queue, key_num);
CREATE INDEX issues_by_org_status_key ON issues (org, status, key_queue, key_num);
CREATE INDEX issues_by_org_priority_key ON issues (org, priority, issue_type, key_queue, key_num);

DROP INDEX issues_by_org_status;
DROP INDEX issues_by_org_priority;
DROP INDEX issues_by_org_queue_status;
