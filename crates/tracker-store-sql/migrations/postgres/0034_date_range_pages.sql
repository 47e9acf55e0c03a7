-- Issues created since a date, in key order (issue #16). The first page of
-- such a range with few issues is sorted from the range's index entries
-- (search.rs, `FENCED_RANGE_MATCHES_MAX`); without the issue's internal key
-- in the index, each entry was a visit to its row. Same columns, same
-- order, the key added: the new index replaces the old one, its prefix.
CREATE INDEX issues_by_org_created_key_pk ON issues (org, created_at, key_queue, key_num) INCLUDE (pk);
DROP INDEX issues_by_org_created_key;
