-- A queue's issue types and their resolutions (issueTypesConfig), as JSON;
-- empty: every type with every resolution, as queues had before.
ALTER TABLE queues ADD COLUMN issue_types TEXT NOT NULL DEFAULT '';
