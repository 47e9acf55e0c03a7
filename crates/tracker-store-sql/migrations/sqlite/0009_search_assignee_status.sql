-- "My open issues" (`Assignee: me() Status: …`) is the most common pair of
-- conditions: counted from the index alone and paged in key order.
CREATE INDEX issues_by_org_assignee_status_key ON issues (org, assignee, status, key_queue, key_num);
