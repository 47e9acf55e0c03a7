-- Every search is within one organization (`issues.org = ?`), so the
-- queue-scoped search indexes lead with it too: counts and key-ordered pages
-- of a queue are then answered from the index alone.

DROP INDEX issues_by_queue_key;
DROP INDEX issues_by_queue_status;
DROP INDEX issues_by_queue_updated;
DROP INDEX issues_by_queue_created;

CREATE INDEX issues_by_org_queue_key ON issues (org, queue_id, key_queue, key_num);
CREATE INDEX issues_by_org_queue_status ON issues (org, queue_id, status);
CREATE INDEX issues_by_org_queue_updated ON issues (org, queue_id, updated_at);
CREATE INDEX issues_by_org_queue_created ON issues (org, queue_id, created_at);
