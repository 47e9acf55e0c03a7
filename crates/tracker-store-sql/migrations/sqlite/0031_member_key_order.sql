-- `Followers: x` and `Tags: x` at a million issues (issue #16).
--
-- Their matches were listed from the follower or tag index by internal key,
-- then each was looked up by that key for its organization and key order
-- (14 000 lookups for a tag on 14 000 issues: ~22 ms for the count, as much
-- again for the page). The rows now carry their issue's organization and
-- key order, so the count is one range of an index and the first page is
-- its first entries.
ALTER TABLE issue_followers ADD COLUMN org INTEGER;
ALTER TABLE issue_followers ADD COLUMN key_queue TEXT;
ALTER TABLE issue_followers ADD COLUMN key_num INTEGER;
ALTER TABLE issue_tags ADD COLUMN org INTEGER;
ALTER TABLE issue_tags ADD COLUMN key_queue TEXT;
ALTER TABLE issue_tags ADD COLUMN key_num INTEGER;

UPDATE issue_followers SET (org, key_queue, key_num) =
    (SELECT i.org, i.key_queue, i.key_num FROM issues i WHERE i.pk = issue_followers.issue_pk);
UPDATE issue_tags SET (org, key_queue, key_num) =
    (SELECT i.org, i.key_queue, i.key_num FROM issues i WHERE i.pk = issue_tags.issue_pk);

CREATE INDEX issue_followers_by_org_uid_key
    ON issue_followers (org, uid, key_queue, key_num, issue_pk);
CREATE INDEX issue_tags_by_org_tag_key
    ON issue_tags (org, tag COLLATE NOCASE, key_queue, key_num, issue_pk);

-- Whatever writes a row (an issue's write, a batch of creates, a snapshot
-- restored), the row takes its issue's values as it is written...
CREATE TRIGGER issue_followers_keyed AFTER INSERT ON issue_followers BEGIN
    UPDATE issue_followers SET (org, key_queue, key_num) =
        (SELECT i.org, i.key_queue, i.key_num FROM issues i WHERE i.pk = new.issue_pk)
    WHERE issue_pk = new.issue_pk AND uid = new.uid;
END;
CREATE TRIGGER issue_tags_keyed AFTER INSERT ON issue_tags BEGIN
    UPDATE issue_tags SET (org, key_queue, key_num) =
        (SELECT i.org, i.key_queue, i.key_num FROM issues i WHERE i.pk = new.issue_pk)
    WHERE issue_pk = new.issue_pk AND tag = new.tag;
END;

-- ...and follows it when the issue moves to another queue (a new key).
CREATE TRIGGER issue_members_follow_key AFTER UPDATE OF key ON issues
WHEN old.key IS NOT new.key BEGIN
    UPDATE issue_followers SET key_queue = new.key_queue, key_num = new.key_num
    WHERE issue_pk = new.pk;
    UPDATE issue_tags SET key_queue = new.key_queue, key_num = new.key_num
    WHERE issue_pk = new.pk;
END;
