-- The data stamp (tracker_store::AccessStore::data_stamp): one counter
-- that every change to the data tables moves inside its own transaction, so
-- a commit by any connection or process (another trackerd, an admin command)
-- is seen by the next read of it. A cached issue answer is served only while
-- the counter still reads what it read before the answer was rendered.
-- SQLite has no statement-level triggers: each changed row moves it, at the
-- cost of one single-row update inside the same transaction.
-- Tables left out (bookkeeping no answer depends on) are listed in
-- tracker-store-sql's UNSTAMPED_TABLES; a test holds the schema to it.
CREATE TABLE data_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    gen INTEGER NOT NULL
);
INSERT INTO data_generation (id, gen) VALUES (1, 0);

CREATE TRIGGER data_stamp_organizations_i AFTER INSERT ON organizations BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_organizations_u AFTER UPDATE ON organizations BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_organizations_d AFTER DELETE ON organizations BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_users_i AFTER INSERT ON users BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_users_u AFTER UPDATE ON users BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_users_d AFTER DELETE ON users BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_memberships_i AFTER INSERT ON memberships BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_memberships_u AFTER UPDATE ON memberships BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_memberships_d AFTER DELETE ON memberships BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_queues_i AFTER INSERT ON queues BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_queues_u AFTER UPDATE ON queues BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_queues_d AFTER DELETE ON queues BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issues_i AFTER INSERT ON issues BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issues_u AFTER UPDATE ON issues BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issues_d AFTER DELETE ON issues BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_aliases_i AFTER INSERT ON issue_aliases BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_aliases_u AFTER UPDATE ON issue_aliases BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_aliases_d AFTER DELETE ON issue_aliases BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_followers_i AFTER INSERT ON issue_followers BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_followers_u AFTER UPDATE ON issue_followers BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_followers_d AFTER DELETE ON issue_followers BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_tags_i AFTER INSERT ON issue_tags BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_tags_u AFTER UPDATE ON issue_tags BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_tags_d AFTER DELETE ON issue_tags BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_comments_i AFTER INSERT ON comments BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_comments_u AFTER UPDATE ON comments BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_comments_d AFTER DELETE ON comments BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_links_i AFTER INSERT ON links BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_links_u AFTER UPDATE ON links BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_links_d AFTER DELETE ON links BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_changelog_i AFTER INSERT ON changelog BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_changelog_u AFTER UPDATE ON changelog BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_changelog_d AFTER DELETE ON changelog BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_oauth_apps_i AFTER INSERT ON oauth_apps BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_oauth_apps_u AFTER UPDATE ON oauth_apps BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_oauth_apps_d AFTER DELETE ON oauth_apps BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_service_accounts_i AFTER INSERT ON service_accounts BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_service_accounts_u AFTER UPDATE ON service_accounts BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_service_accounts_d AFTER DELETE ON service_accounts BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_groups_i AFTER INSERT ON groups BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_groups_u AFTER UPDATE ON groups BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_groups_d AFTER DELETE ON groups BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_group_members_i AFTER INSERT ON group_members BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_group_members_u AFTER UPDATE ON group_members BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_group_members_d AFTER DELETE ON group_members BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_queue_grants_i AFTER INSERT ON queue_grants BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_queue_grants_u AFTER UPDATE ON queue_grants BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_queue_grants_d AFTER DELETE ON queue_grants BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_access_i AFTER INSERT ON issue_access BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_access_u AFTER UPDATE ON issue_access BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_access_d AFTER DELETE ON issue_access BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_worklog_i AFTER INSERT ON worklog BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_worklog_u AFTER UPDATE ON worklog BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_worklog_d AFTER DELETE ON worklog BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_components_i AFTER INSERT ON components BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_components_u AFTER UPDATE ON components BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_components_d AFTER DELETE ON components BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_versions_i AFTER INSERT ON versions BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_versions_u AFTER UPDATE ON versions BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_versions_d AFTER DELETE ON versions BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_components_i AFTER INSERT ON issue_components BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_components_u AFTER UPDATE ON issue_components BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_components_d AFTER DELETE ON issue_components BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_versions_i AFTER INSERT ON issue_versions BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_versions_u AFTER UPDATE ON issue_versions BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_issue_versions_d AFTER DELETE ON issue_versions BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_applications_i AFTER INSERT ON applications BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_applications_u AFTER UPDATE ON applications BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_applications_d AFTER DELETE ON applications BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_remote_links_i AFTER INSERT ON remote_links BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_remote_links_u AFTER UPDATE ON remote_links BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_remote_links_d AFTER DELETE ON remote_links BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_attachments_i AFTER INSERT ON attachments BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_attachments_u AFTER UPDATE ON attachments BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_attachments_d AFTER DELETE ON attachments BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_field_categories_i AFTER INSERT ON field_categories BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_field_categories_u AFTER UPDATE ON field_categories BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_field_categories_d AFTER DELETE ON field_categories BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_custom_fields_i AFTER INSERT ON custom_fields BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_custom_fields_u AFTER UPDATE ON custom_fields BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_custom_fields_d AFTER DELETE ON custom_fields BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_templates_i AFTER INSERT ON templates BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_templates_u AFTER UPDATE ON templates BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_templates_d AFTER DELETE ON templates BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_sprints_i AFTER INSERT ON sprints BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_sprints_u AFTER UPDATE ON sprints BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_sprints_d AFTER DELETE ON sprints BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_entities_i AFTER INSERT ON entities BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_entities_u AFTER UPDATE ON entities BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_entities_d AFTER DELETE ON entities BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_entity_events_i AFTER INSERT ON entity_events BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_entity_events_u AFTER UPDATE ON entity_events BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_entity_events_d AFTER DELETE ON entity_events BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_entity_comments_i AFTER INSERT ON entity_comments BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_entity_comments_u AFTER UPDATE ON entity_comments BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_entity_comments_d AFTER DELETE ON entity_comments BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_entity_links_i AFTER INSERT ON entity_links BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_entity_links_u AFTER UPDATE ON entity_links BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_entity_links_d AFTER DELETE ON entity_links BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_entity_attachments_i AFTER INSERT ON entity_attachments BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_entity_attachments_u AFTER UPDATE ON entity_attachments BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_entity_attachments_d AFTER DELETE ON entity_attachments BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_emulator_clock_i AFTER INSERT ON emulator_clock BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_emulator_clock_u AFTER UPDATE ON emulator_clock BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_emulator_clock_d AFTER DELETE ON emulator_clock BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_federation_providers_i AFTER INSERT ON federation_providers BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_federation_providers_u AFTER UPDATE ON federation_providers BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_federation_providers_d AFTER DELETE ON federation_providers BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_federated_identities_i AFTER INSERT ON federated_identities BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_federated_identities_u AFTER UPDATE ON federated_identities BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
CREATE TRIGGER data_stamp_federated_identities_d AFTER DELETE ON federated_identities BEGIN UPDATE data_generation SET gen = gen + 1 WHERE id = 1; END;
