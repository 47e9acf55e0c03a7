-- Reading an issue gathers its former keys by issue; without this index
-- every read scans the whole alias table.
CREATE INDEX issue_aliases_by_issue ON issue_aliases (issue_pk);
