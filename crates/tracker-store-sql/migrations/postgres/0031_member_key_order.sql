-- `Followers: x` and `Tags: x` at a million issues (issue #16).
--
-- Their matches were listed from the follower or tag index by internal key,
-- then each was looked up by that key for its organization and key order
-- (a tag on 14 000 issues: 14 000 lookups for the count, as many for the
-- page). The rows now carry their issue's organization and key order, so
-- the count is one range of an index and the first page is its first
-- entries.
ALTER TABLE issue_followers
    ADD COLUMN org BIGINT,
    ADD COLUMN key_queue TEXT COLLATE "C",
    ADD COLUMN key_num BIGINT;
ALTER TABLE issue_tags
    ADD COLUMN org BIGINT,
    ADD COLUMN key_queue TEXT COLLATE "C",
    ADD COLUMN key_num BIGINT;

UPDATE issue_followers f SET org = i.org, key_queue = i.key_queue, key_num = i.key_num
FROM issues i WHERE i.pk = f.issue_pk;
UPDATE issue_tags t SET org = i.org, key_queue = i.key_queue, key_num = i.key_num
FROM issues i WHERE i.pk = t.issue_pk;

CREATE INDEX issue_followers_by_org_uid_key
    ON issue_followers (org, uid, key_queue, key_num, issue_pk);
CREATE INDEX issue_tags_by_org_tag_key
    ON issue_tags (org, lower(tag), key_queue, key_num, issue_pk);
-- The planner knows an expression index's values only from statistics: without
-- them it kept to the old `lower(tag)` index and visited each row.
ANALYZE issue_followers;
ANALYZE issue_tags;

-- Whatever writes a row (an issue's write, a batch of creates, a snapshot
-- restored), the row takes its issue's values as it is written...
CREATE FUNCTION trackerd_key_issue_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT i.org, i.key_queue, i.key_num INTO NEW.org, NEW.key_queue, NEW.key_num
    FROM issues i WHERE i.pk = NEW.issue_pk;
    RETURN NEW;
END
$$;
CREATE TRIGGER issue_followers_keyed BEFORE INSERT ON issue_followers
    FOR EACH ROW EXECUTE FUNCTION trackerd_key_issue_member();
CREATE TRIGGER issue_tags_keyed BEFORE INSERT ON issue_tags
    FOR EACH ROW EXECUTE FUNCTION trackerd_key_issue_member();

-- ...and follows it when the issue moves to another queue (a new key).
CREATE FUNCTION trackerd_issue_members_follow_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE issue_followers SET key_queue = NEW.key_queue, key_num = NEW.key_num
    WHERE issue_pk = NEW.pk;
    UPDATE issue_tags SET key_queue = NEW.key_queue, key_num = NEW.key_num
    WHERE issue_pk = NEW.pk;
    RETURN NULL;
END
$$;
CREATE TRIGGER issue_members_follow_key AFTER UPDATE OF key ON issues
    FOR EACH ROW WHEN (OLD.key IS DISTINCT FROM NEW.key)
    EXECUTE FUNCTION trackerd_issue_members_follow_key();
