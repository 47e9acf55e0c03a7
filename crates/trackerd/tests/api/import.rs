//! Import: issues, comments and links created with the authors and dates
//! they had in another tracker.

use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    an_imported_issue_keeps_its_key_authors_dates_and_resolution,
    an_imported_key_moves_the_queue_counter_past_it,
    an_imported_issue_is_found_and_logged_by_its_own_dates,
    an_issue_import_needs_its_required_fields_and_dates_in_order,
    an_issue_key_or_unique_value_already_taken_cannot_be_imported,
    only_an_administrator_with_a_writing_token_imports_issues,
    an_imported_comment_keeps_its_author_and_dates_and_leaves_the_issue_update_alone,
    an_imported_comment_must_lie_within_the_issues_life,
    comment_import_needs_write_access_and_the_issue_of_the_organization,
    an_imported_link_keeps_its_author_and_dates_on_both_issues,
    an_imported_link_needs_known_issues_and_dates_within_their_lives,
    link_import_needs_write_access_and_the_issue_of_the_organization,
    an_imported_worklog_record_keeps_its_author_and_dates_and_adds_to_spent,
    a_worklog_import_names_every_bad_field_and_writes_nothing,
    worklog_import_needs_write_access_and_the_issue_of_the_organization,
    an_imported_project_keeps_its_author_and_dates,
    an_entity_import_names_bad_stamps_and_fields_and_is_for_administrators,
);

const CREATED: &str = "2017-08-29T12:34:41.740+0000";
const UPDATED: &str = "2017-09-09T11:24:31.140+0000";
const RESOLVED: &str = "2017-09-08T09:33:42.250+0000";

/// An issue as the reference imports it, without the fields trackerd
/// refuses (access lists, sprints, mailing lists, votes, favorites).
fn full_issue() -> Value {
    json!({
        "queue": "TEST",
        "summary": "Imported",
        "key": "TEST-42",
        "createdAt": CREATED,
        "createdBy": "bob",
        "updatedAt": UPDATED,
        "updatedBy": "carol",
        "resolvedAt": RESOLVED,
        "resolvedBy": "dave",
        "status": "closed",
        "resolution": "fixed",
        "type": "bug",
        "priority": "critical",
        "description": "From elsewhere",
        "start": "2017-09-04",
        "end": "2017-09-07",
        "deadline": "2017-09-07",
        "assignee": "erin",
        "tags": ["old", "imported"],
        "followers": ["bob", "dave"],
        "unique": "legacy-51827",
        "originalEstimation": "PT1H",
        "storyPoints": 1.0,
    })
}

async fn import_issue(app: &TestApp, body: Value) -> Value {
    app.post_json("/v2/issues/_import", body, 200).await
}

/// A resolved issue imported with a long life, to import onto.
async fn imported(app: &TestApp, key: &str) -> Value {
    import_issue(
        app,
        json!({"queue": "TEST", "key": key, "summary": key, "createdAt": CREATED,
               "createdBy": "bob", "updatedAt": UPDATED, "updatedBy": "bob"}),
    )
    .await
}

async fn an_imported_issue_keeps_its_key_authors_dates_and_resolution(app: TestApp) {
    let issue = import_issue(&app, full_issue()).await;
    assert_eq!(issue["key"], "TEST-42");
    assert_eq!(issue["self"], format!("{}/v2/issues/TEST-42", app.base));
    let read: Value = app.read("/v3/issues/TEST-42").await;
    for i in [&issue, &read] {
        assert_eq!(i["createdAt"], CREATED);
        assert_eq!(i["updatedAt"], UPDATED);
        assert_eq!(i["resolvedAt"], RESOLVED);
        assert_eq!(i["createdBy"]["display"], "Bob Baker");
        assert_eq!(i["updatedBy"]["display"], "Carol");
        assert_eq!(i["resolvedBy"]["display"], "Dave");
        assert_eq!(i["status"]["key"], "closed");
        assert_eq!(i["resolution"]["key"], "fixed");
        assert_eq!(i["type"]["key"], "bug");
        assert_eq!(i["priority"]["key"], "critical");
        assert_eq!(i["assignee"]["display"], "Erin");
        assert_eq!(i["description"], "From elsewhere");
        assert_eq!(i["end"], "2017-09-07");
        assert_eq!(i["start"], "2017-09-04");
        assert_eq!(i["unique"], "legacy-51827");
        assert_eq!(i["originalEstimation"], "PT1H");
        assert_eq!(i["tags"], json!(["imported", "old"]));
        assert_eq!(i["followers"].as_array().unwrap().len(), 2);
    }
    // The id carries the creation second, as Tracker's ids do.
    assert!(issue["id"].as_str().unwrap().starts_with("59a55f61"));
}

async fn an_imported_key_moves_the_queue_counter_past_it(app: TestApp) {
    app.create_test_issue("first").await;
    imported(&app, "TEST-7").await;
    let next = app.create_test_issue("after").await;
    assert_eq!(next["key"], "TEST-8");
    // Without a key an import takes the queue's next one.
    let plain = import_issue(
        &app,
        json!({"queue": "TEST", "summary": "x", "createdAt": CREATED, "createdBy": "alice"}),
    )
    .await;
    assert_eq!(plain["key"], "TEST-9");
    assert_eq!(plain["updatedAt"], CREATED);
    assert_eq!(plain["status"]["key"], "open");
    // A lower key, free because it was never used, can be filled in.
    let gap: Value = app
        .post_json(
            "/v2/issues/_import",
            json!({"queue": "TEST", "key": "test-3", "summary": "x",
                     "createdAt": CREATED, "createdBy": "alice"}),
            200,
        )
        .await;
    assert_eq!(gap["key"], "TEST-3");
}

async fn an_imported_issue_is_found_and_logged_by_its_own_dates(app: TestApp) {
    import_issue(&app, full_issue()).await;
    app.create_test_issue("made now").await;
    // By its own dates and resolution, not the import's.
    for (search, want) in [
        (json!({"query": "Created: \"2017-08-29\""}), ["TEST-42"]),
        (json!({"query": "Updated: < \"2018-01-01\""}), ["TEST-42"]),
        (json!({"filter": {"resolution": "fixed"}}), ["TEST-42"]),
    ] {
        assert_eq!(app.found_keys(search.clone()).await, want, "{search}");
    }

    let log: Vec<Value> = app.read("/v2/issues/TEST-42/changelog").await;
    assert_eq!(log[0]["type"], "IssueCreated");
    assert_eq!(log[0]["updatedAt"], CREATED);
    assert_eq!(log[0]["updatedBy"]["display"], "Bob Baker");
}

async fn an_issue_import_needs_its_required_fields_and_dates_in_order(app: TestApp) {
    let with = |changes: Value| {
        let mut body = full_issue();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    let cases = [
        (json!({"queue": null}), "queue"),
        (json!({"summary": null}), "summary"),
        (json!({"createdAt": null}), "createdAt"),
        (json!({"createdBy": null}), "createdBy"),
        (json!({"createdBy": "nobody"}), "createdBy"),
        (json!({"createdAt": "yesterday"}), "createdAt"),
        (
            json!({"createdAt": "2999-01-01T00:00:00.000+0000", "updatedAt": null, "updatedBy": null, "resolvedAt": null, "resolvedBy": null, "resolution": null}),
            "createdAt",
        ),
        (json!({"updatedBy": null}), "updatedBy"),
        (
            json!({"updatedAt": "2017-01-01T00:00:00.000+0000"}),
            "updatedAt",
        ),
        (
            json!({"resolvedAt": "2017-09-10T00:00:00.000+0000"}),
            "resolvedAt",
        ),
        (json!({"resolution": null}), "resolution"),
        (json!({"key": "OPS-3"}), "key"),
        (json!({"key": "TEST-x"}), "key"),
        (json!({"status": "nonsense"}), "status"),
        (json!({"summary": "x".repeat(256)}), "summary"),
        (json!({"access": ["bob"]}), "access"),
        (json!({"votedBy": ["bob"]}), "votedBy"),
        (json!({"priority": "urgentest"}), "priority"),
    ];
    for (change, field) in cases {
        let e = app
            .post("/v2/issues/_import")
            .json(with(change.clone()))
            .await
            .error(422);
        assert!(e["errors"][field].is_string(), "{change}: {e}");
    }
    app.post("/v2/issues/_import")
        .json(json!([1]))
        .await
        .error(400);
    // Nothing was half-written.
    app.get("/v2/issues/TEST-42").await.error(404);
    let next = app.create_test_issue("x").await;
    assert_eq!(next["key"], "TEST-1");
}

async fn an_issue_key_or_unique_value_already_taken_cannot_be_imported(app: TestApp) {
    import_issue(&app, full_issue()).await;
    let mut again = full_issue();
    again["unique"] = json!("another");
    app.post("/v2/issues/_import")
        .json(again)
        .await
        .error_saying(409, "TEST-42");
    let mut same_unique = full_issue();
    same_unique["key"] = json!("TEST-43");
    app.post("/v2/issues/_import")
        .json(same_unique)
        .await
        .error(409);
    // A key an issue had before it moved stays its own.
    app.create_issue(json!({"queue": "OPS", "summary": "moves"}))
        .await;
    app.post("/v2/issues/OPS-1/_move?queue=TEST")
        .await
        .status(200);
    let mut old_key = full_issue();
    old_key["queue"] = json!("OPS");
    old_key["key"] = json!("OPS-1");
    old_key["unique"] = json!("third");
    app.post("/v2/issues/_import")
        .json(old_key)
        .await
        .error(409);
}

async fn only_an_administrator_with_a_writing_token_imports_issues(app: TestApp) {
    app.post("/v2/issues/_import")
        .token(CAROL_EXPIRING)
        .json(full_issue())
        .await
        .error_saying(403, "administrator");
    app.post("/v2/issues/_import")
        .token(BOB_RO)
        .json(full_issue())
        .await
        .error(403);
    // mallory administers the other organization, where TEST is not.
    let e = app
        .post("/v2/issues/_import")
        .token(MALLORY)
        .org(OTHER)
        .json(full_issue())
        .await
        .error(422);
    assert!(e["errors"]["queue"].is_string());
    app.get("/v2/issues/TEST-42").await.error(404);
}

async fn an_imported_comment_keeps_its_author_and_dates_and_leaves_the_issue_update_alone(
    app: TestApp,
) {
    imported(&app, "TEST-5").await;
    let body =
        by_carol_edited_by_dave("2017-09-02T10:00:00.000+0000", json!({"text": "Old words"}));
    let c = import_onto_test_5(&app, "comments", body).await;
    assert_eq!(c["text"], "Old words");
    kept_people_and_dates(&c, "2017-09-02T10:00:00.000+0000");
    assert!(c["id"].is_i64());
    let listed: Vec<Value> = app.read("/v3/issues/TEST-5/comments").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["createdAt"], c["createdAt"]);
    let issue: Value = app.read("/v2/issues/TEST-5").await;
    assert_eq!(issue["updatedAt"], UPDATED);
    assert_eq!(issue["commentWithoutExternalMessageCount"], 1);
    let log: Vec<Value> = app.read("/v2/issues/TEST-5/changelog").await;
    let added = log
        .iter()
        .find(|e| e["type"] == "IssueCommentAdded")
        .unwrap();
    assert_eq!(added["updatedAt"], "2017-09-01T10:00:00.000+0000");
    assert_eq!(added["updatedBy"]["display"], "Carol");
    // Without an update the comment was last changed when written; a user
    // may be named by uid.
    let bob: Value = app.read("/v2/users/bob").await;
    let plain: Value = app
        .post_json(
            "/v2/issues/TEST-5/comments/_import",
            json!({"text": "x", "createdAt": CREATED, "createdBy": bob["uid"]}),
            200,
        )
        .await;
    assert_eq!(plain["updatedAt"], CREATED);
    assert_eq!(plain["createdBy"]["display"], "Bob Baker");
}

async fn an_imported_comment_must_lie_within_the_issues_life(app: TestApp) {
    imported(&app, "TEST-5").await;
    let cases = [
        (json!({"createdAt": CREATED, "createdBy": "bob"}), "text"),
        (json!({"text": "x", "createdBy": "bob"}), "createdAt"),
        (json!({"text": "x", "createdAt": CREATED}), "createdBy"),
        (
            json!({"text": "x", "createdAt": "2017-01-01T00:00:00.000+0000", "createdBy": "bob"}),
            "createdAt",
        ),
        (
            json!({"text": "x", "createdAt": "2018-01-01T00:00:00.000+0000", "createdBy": "bob"}),
            "createdAt",
        ),
        (
            json!({"text": "x", "createdAt": CREATED, "createdBy": "bob", "updatedAt": UPDATED}),
            "updatedBy",
        ),
        (
            json!({"text": "x", "createdAt": UPDATED, "createdBy": "bob", "updatedAt": CREATED, "updatedBy": "bob"}),
            "updatedAt",
        ),
        (
            json!({"text": "", "createdAt": CREATED, "createdBy": "bob"}),
            "text",
        ),
        (
            json!({"text": "x", "createdAt": CREATED, "createdBy": "mallory"}),
            "createdBy",
        ),
    ];
    each_refused_and_nothing_written(&app, "comments", &cases).await;
}

/// Checks each `(body, field)` of `cases`, imported as one of TEST-5's
/// `what`, is refused with 422 naming `field`, and that none was written.
async fn each_refused_and_nothing_written(app: &TestApp, what: &str, cases: &[(Value, &str)]) {
    let path = format!("/v2/issues/TEST-5/{what}/_import");
    for (body, field) in cases {
        let e = app.post(&path).json(body).await.error(422);
        assert!(e["errors"][*field].is_string(), "{body}: {e}");
    }
    let listed: Vec<Value> = app.read(&format!("/v2/issues/TEST-5/{what}")).await;
    assert!(listed.is_empty(), "{listed:?}");
}

/// `fields` with the people and dates of an import: created by carol at
/// 2017-09-01 10:00, last updated by dave at `updated_at`.
fn by_carol_edited_by_dave(updated_at: &str, mut fields: Value) -> Value {
    fields["createdAt"] = json!("2017-09-01T10:00:00.000+0000");
    fields["createdBy"] = json!("carol");
    fields["updatedAt"] = json!(updated_at);
    fields["updatedBy"] = json!("dave");
    fields
}

/// Imports `body` as one of TEST-5's `what`, which must be accepted: the
/// imported object.
async fn import_onto_test_5(app: &TestApp, what: &str, body: Value) -> Value {
    app.post_json(&format!("/v2/issues/TEST-5/{what}/_import"), body, 200)
        .await
}

/// Checks an imported object kept the people and dates the import gave:
/// created by carol at 2017-09-01 10:00, updated by dave at `updated_at`.
#[track_caller]
fn kept_people_and_dates(v: &Value, updated_at: &str) {
    assert_eq!(v["createdAt"], "2017-09-01T10:00:00.000+0000", "{v}");
    assert_eq!(v["updatedAt"], updated_at, "{v}");
    assert_eq!(v["createdBy"]["display"], "Carol", "{v}");
    assert_eq!(v["updatedBy"]["display"], "Dave", "{v}");
}

/// Checks the import of `body` as one of TEST-5's `what` (`comments`,
/// `worklogs`): refused to readers and strangers, 404 onto a missing issue,
/// and made by a member who may change the issue; no administrator needed
/// (the reference asks for the right to edit the issue).
async fn only_writers_import_onto_the_organizations_issue(app: &TestApp, what: &str, body: &Value) {
    refused_to_readers_and_strangers(app, &format!("/v2/issues/TEST-5/{what}/_import"), body).await;
    app.post(&format!("/v2/issues/TEST-404/{what}/_import"))
        .json(body)
        .await
        .error(404);
    app.post(&format!("/v2/issues/TEST-5/{what}/_import"))
        .token(CAROL_EXPIRING)
        .json(body)
        .await
        .status(200);
}

/// Checks the import at `path` of `body` is refused to a read-only token
/// (403) and, as if nothing were there, to another organization (404).
async fn refused_to_readers_and_strangers(app: &TestApp, path: &str, body: &Value) {
    app.post(path).token(BOB_RO).json(body).await.error(403);
    app.post(path)
        .token(MALLORY)
        .org(OTHER)
        .json(body)
        .await
        .error(404);
}

async fn comment_import_needs_write_access_and_the_issue_of_the_organization(app: TestApp) {
    imported(&app, "TEST-5").await;
    let body = json!({"text": "x", "createdAt": CREATED, "createdBy": "bob"});
    only_writers_import_onto_the_organizations_issue(&app, "comments", &body).await;
}

async fn an_imported_link_keeps_its_author_and_dates_on_both_issues(app: TestApp) {
    imported(&app, "TEST-5").await;
    imported(&app, "TEST-6").await;
    let link = json!({"relationship": "depends on", "issue": "TEST-6"});
    let body = by_carol_edited_by_dave("2017-09-03T10:00:00.000+0000", link);
    let l = import_onto_test_5(&app, "links", body).await;
    assert_eq!(l["object"]["key"], "TEST-6");
    assert_eq!(l["direction"], "outward");
    assert_eq!(l["type"]["id"], "depends");
    kept_people_and_dates(&l, "2017-09-03T10:00:00.000+0000");
    let back: Vec<Value> = app.read("/v2/issues/TEST-6/links").await;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0]["direction"], "inward");
    assert_eq!(back[0]["createdAt"], l["createdAt"]);
    assert_eq!(back[0]["updatedBy"]["display"], "Dave");
    for key in ["TEST-5", "TEST-6"] {
        let issue: Value = app.read(&format!("/v2/issues/{key}")).await;
        assert_eq!(issue["updatedAt"], UPDATED, "{key}");
        let log: Vec<Value> = app.read(&format!("/v2/issues/{key}/changelog")).await;
        let linked = log.iter().find(|e| e["type"] == "IssueLinked").unwrap();
        assert_eq!(linked["updatedAt"], "2017-09-01T10:00:00.000+0000");
    }
    // The same link again is refused like any duplicate link.
    app.post("/v2/issues/TEST-5/links/_import")
        .json(json!({"relationship": "depends on", "issue": "TEST-6",
                     "createdAt": CREATED, "createdBy": "carol"}))
        .await
        .error(422);
}

async fn an_imported_link_needs_known_issues_and_dates_within_their_lives(app: TestApp) {
    imported(&app, "TEST-5").await;
    imported(&app, "TEST-6").await;
    let ok = json!({"relationship": "relates", "issue": "TEST-6", "createdAt": CREATED, "createdBy": "bob"});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        if v.is_null() {
            b.as_object_mut().unwrap().remove(k);
        } else {
            b[k] = v;
        }
        b
    };
    let cases = [
        (with("relationship", Value::Null), "relationship"),
        (with("relationship", json!("befriends")), "relationship"),
        (with("issue", Value::Null), "issue"),
        (with("issue", json!("TEST-404")), "issue"),
        (with("issue", json!("TEST-5")), "issue"),
        (with("createdAt", Value::Null), "createdAt"),
        (with("createdBy", json!("nobody")), "createdBy"),
        (
            with("createdAt", json!("2016-01-01T00:00:00.000+0000")),
            "createdAt",
        ),
        (
            with("createdAt", json!("2019-01-01T00:00:00.000+0000")),
            "createdAt",
        ),
        (with("updatedBy", json!("bob")), "updatedAt"),
    ];
    each_refused_and_nothing_written(&app, "links", &cases).await;
}

async fn link_import_needs_write_access_and_the_issue_of_the_organization(app: TestApp) {
    imported(&app, "TEST-5").await;
    imported(&app, "TEST-6").await;
    let body = json!({"relationship": "relates", "issue": "TEST-6", "createdAt": CREATED, "createdBy": "bob"});
    refused_to_readers_and_strangers(&app, "/v2/issues/TEST-5/links/_import", &body).await;
    // An issue of another organization is not there to link to.
    let e = app
        .post("/v2/issues/TEST-5/links/_import")
        .json(json!({"relationship": "relates", "issue": "SECRET-1", "createdAt": CREATED, "createdBy": "bob"}))
        .await
        .error(422);
    assert!(e["errors"]["issue"].is_string());
}

async fn an_imported_worklog_record_keeps_its_author_and_dates_and_adds_to_spent(app: TestApp) {
    imported(&app, "TEST-5").await;
    // The official client's path (plural), with the reference's fields.
    let work = json!({"start": "2017-09-01T09:00:00.000+0000", "duration": "PT1H30M",
                      "comment": "Old work"});
    let body = by_carol_edited_by_dave("2017-09-02T10:00:00.000+0000", work);
    let w = import_onto_test_5(&app, "worklogs", body).await;
    assert_eq!(w["duration"], "PT1H30M");
    assert_eq!(w["comment"], "Old work");
    assert_eq!(w["start"], "2017-09-01T09:00:00.000+0000");
    kept_people_and_dates(&w, "2017-09-02T10:00:00.000+0000");
    // The singular path too; the two records add up on the issue.
    app.post("/v2/issues/TEST-5/worklog/_import")
        .json(json!({"start": CREATED, "duration": "PT30M",
                     "createdAt": CREATED, "createdBy": "bob"}))
        .await
        .status(200);
    let listed: Vec<Value> = app.read("/v2/issues/TEST-5/worklog").await;
    assert_eq!(listed.len(), 2);
    let issue: Value = app.read("/v2/issues/TEST-5").await;
    assert_eq!(issue["spent"], "PT2H");
    // History, not a change now.
    assert_eq!(issue["updatedAt"], UPDATED);
    let log: Vec<Value> = app.read("/v2/issues/TEST-5/changelog").await;
    let added: Vec<&Value> = log
        .iter()
        .filter(|e| e["type"] == "IssueWorklogAdded")
        .collect();
    assert_eq!(added.len(), 2, "{log:?}");
    assert!(added
        .iter()
        .any(|e| e["updatedAt"] == "2017-09-01T10:00:00.000+0000"
            && e["updatedBy"]["display"] == "Carol"));
    // The organization's worklog search finds the record by its author.
    let found: Vec<Value> = app.read("/v2/worklog?createdBy=carol").await;
    assert_eq!(found.len(), 1, "{found:?}");
}

async fn a_worklog_import_names_every_bad_field_and_writes_nothing(app: TestApp) {
    imported(&app, "TEST-5").await;
    let e = app
        .post("/v2/issues/TEST-5/worklogs/_import")
        .json(json!({"duration": "an hour", "comment": 5,
                     "createdAt": "2018-01-01T00:00:00.000+0000", "createdBy": "mallory"}))
        .await
        .error(422);
    for field in ["start", "duration", "comment", "createdAt", "createdBy"] {
        assert!(e["errors"][field].is_string(), "{field}: {e}");
    }
    app.post("/v2/issues/TEST-5/worklogs/_import")
        .json(
            json!({"start": CREATED, "duration": "PT1H", "createdAt": UPDATED,
                     "createdBy": "bob", "updatedAt": CREATED, "updatedBy": "bob"}),
        )
        .await
        .error_naming(422, "updatedAt");
    app.post("/v2/issues/TEST-5/worklogs/_import")
        .json(json!([]))
        .await
        .error(400);
    let listed: Vec<Value> = app.read("/v2/issues/TEST-5/worklog").await;
    assert!(listed.is_empty());
    let issue: Value = app.read("/v2/issues/TEST-5").await;
    assert!(issue.get("spent").is_none_or(Value::is_null), "{issue}");
}

async fn worklog_import_needs_write_access_and_the_issue_of_the_organization(app: TestApp) {
    imported(&app, "TEST-5").await;
    let body = json!({"start": CREATED, "duration": "PT1H", "createdAt": CREATED,
                      "createdBy": "bob"});
    only_writers_import_onto_the_organizations_issue(&app, "worklogs", &body).await;
}

async fn an_imported_project_keeps_its_author_and_dates(app: TestApp) {
    let p: Value = app.post_json("/v2/entities/project/_import?fields=summary,author,entityStatus", json!({
            "fields": {"summary": "From elsewhere", "queues": "TEST", "entityStatus": "at_risk"},
            "createdAt": CREATED,
            "createdBy": "bob",
            "updatedAt": UPDATED,
            "updatedBy": "bob",
        }), 201).await;
    assert_eq!(p["createdAt"], CREATED, "{p}");
    assert_eq!(p["updatedAt"], UPDATED, "{p}");
    assert_eq!(p["createdBy"]["display"], "Bob Baker", "{p}");
    assert_eq!(p["fields"]["author"]["display"], "Bob Baker", "{p}");
    assert_eq!(p["fields"]["entityStatus"], "at_risk", "{p}");
    let id = p["id"].as_str().unwrap();
    let events: Value = app
        .read(&format!("/v2/entities/project/{id}/events/_relative"))
        .await;
    let first = &events["events"][0];
    assert_eq!(first["display"], "Entity created", "{events}");
    assert_eq!(first["author"]["display"], "Bob Baker", "{events}");
    assert_eq!(first["date"], CREATED, "{events}");
    // It is an entity like any other: found, read, changed.
    let got: Value = app
        .read(&format!("/v2/entities/project/{id}?fields=summary"))
        .await;
    assert_eq!(got["fields"]["summary"], "From elsewhere");
}

async fn an_entity_import_names_bad_stamps_and_fields_and_is_for_administrators(app: TestApp) {
    let good = json!({"fields": {"summary": "x", "queues": "TEST"},
                      "createdAt": CREATED, "createdBy": "bob"});
    for (path, body, status) in [
        ("project", json!([1]), 400),
        (
            "project",
            json!({"fields": {"summary": "x", "queues": "TEST"}}),
            422,
        ),
        (
            "project",
            json!({"fields": {"summary": "x", "queues": "TEST"},
                           "createdAt": "yesterday", "createdBy": "bob"}),
            422,
        ),
        (
            "project",
            json!({"fields": {"summary": "x", "queues": "TEST"},
                           "createdAt": CREATED, "createdBy": "nobody"}),
            422,
        ),
        (
            "project",
            json!({"fields": {"summary": "x", "queues": "TEST"}, "createdAt": UPDATED,
                           "createdBy": "bob", "updatedAt": CREATED, "updatedBy": "bob"}),
            422,
        ),
        (
            "project",
            json!({"fields": {"colour": "red"}, "createdAt": CREATED,
                           "createdBy": "bob"}),
            422,
        ),
        (
            "project",
            json!({"fields": 3, "createdAt": CREATED, "createdBy": "bob"}),
            422,
        ),
        ("starship", good.clone(), 404),
    ] {
        app.post(&format!("/v2/entities/{path}/_import"))
            .json(&body)
            .await
            .error(status);
    }
    // carol is a member, not an administrator; bob's token only reads;
    // mallory's organization has no bob.
    app.post("/v2/entities/project/_import")
        .token(CAROL_EXPIRING)
        .json(&good)
        .await
        .error(403);
    app.post("/v2/entities/project/_import")
        .token(BOB_RO)
        .json(&good)
        .await
        .error(403);
    let found: Value = app
        .post_json("/v2/entities/project/_search", json!({}), 200)
        .await;
    assert_eq!(found["hits"], 0, "{found}");
}
