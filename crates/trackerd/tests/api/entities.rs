//! Projects, portfolios and goals (`/v2/entities/{type}`) and the older
//! projects API (`/v2/projects`) over the same storage: roles, versions,
//! search, the events log.

use serde_json::{json, Value};
use tracker_domain::Scopes;

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    a_project_is_created_read_with_the_fields_asked_for_and_edited_by_its_lead,
    entity_input_is_checked_and_refused_in_the_envelope,
    another_organization_sees_no_entity_and_no_project,
    a_read_only_token_reads_entities_but_cannot_change_them,
    an_account_without_a_role_reads_an_open_entity_but_not_a_team_only_one_and_changes_neither,
    only_the_author_the_lead_or_an_administrator_deletes_an_entity,
    search_filters_orders_and_pages_the_entities_the_caller_may_read,
    a_project_is_placed_in_a_portfolio_and_a_cycle_is_refused,
    the_events_log_records_every_change_and_pages_both_ways,
    a_project_made_through_either_api_is_seen_and_edited_through_both,
    the_older_projects_api_refuses_bad_input_other_organizations_and_read_only_tokens,
    comments_are_added_listed_paged_edited_and_removed_on_an_entity,
    entity_comments_refuse_bad_input_strangers_read_only_tokens_and_other_authors,
    a_checklist_is_added_edited_moved_and_removed_on_an_entity,
    entity_checklists_refuse_bad_input_strangers_and_read_only_tokens,
    entities_are_linked_seen_from_both_ends_and_unlinked,
    entity_links_refuse_bad_input_strangers_and_read_only_tokens,
    a_temporary_upload_is_attached_to_an_entity_listed_downloaded_and_deleted,
    entity_attachments_refuse_others_uploads_strangers_and_read_only_tokens,
    the_sweep_of_expired_uploads_keeps_the_files_of_entities,
);

/// A read-write token of a seeded Acme member without any role.
async fn token_of(app: &TestApp, login: &str) -> String {
    let store = app.state.store.clone();
    let user = store.user_by_login(login).await.unwrap().unwrap();
    let (token, _) = trackerd::ops::issue_oauth_token(
        store.as_ref(),
        &app.clock,
        user.uid,
        Scopes::READ_WRITE,
        None,
        "entities test",
    )
    .await
    .unwrap();
    token
}

async fn create(app: &TestApp, kind: &str, fields: Value) -> Value {
    let path = format!("/v2/entities/{kind}?fields=summary");
    app.post_json(&path, json!({ "fields": fields }), 201).await
}

/// Creates project `summary` in TEST as alice: the project.
async fn project(app: &TestApp, summary: &str) -> Value {
    let fields = json!({"summary": summary, "queues": "TEST"});
    create(app, "project", fields).await
}

fn path(e: &Value) -> String {
    format!(
        "/v2/entities/{}/{}",
        e["entityType"].as_str().unwrap(),
        e["id"].as_str().unwrap()
    )
}

async fn a_project_is_created_read_with_the_fields_asked_for_and_edited_by_its_lead(app: TestApp) {
    let dave = token_of(&app, "dave").await;
    let p = create(
        &app,
        "project",
        json!({"summary": "Launch", "queues": "TEST", "lead": "dave", "tags": ["a", "a", "b"],
               "start": "2026-02-01", "end": "2026-03-01T00:00:00.000+0000",
               "entityStatus": "in_progress"}),
    )
    .await;
    assert_eq!(p["entityType"], "project");
    assert_eq!(p["version"], 1);
    assert_eq!(p["shortId"], 1);
    assert_eq!(p["id"].as_str().unwrap().len(), 24);
    assert_eq!(p["self"], format!("{}{}", app.base, path(&p)));
    assert_eq!(p["createdBy"]["display"], "Alice Archer");
    assert_eq!(p["fields"], json!({"summary": "Launch"}));

    let got: Value = app
        .read_as(
            &format!("{}?fields=lead,queues,tags,start,end,teamAccess", path(&p)),
            &dave,
        )
        .await;
    let f = &got["fields"];
    assert_eq!(f["lead"]["display"], "Dave");
    assert_eq!(f["queues"][0]["key"], "TEST");
    assert_eq!(f["tags"], json!(["a", "b"]));
    assert_eq!(f["start"], "2026-02-01");
    assert_eq!(f["end"], "2026-03-01");
    assert_eq!(f["teamAccess"], Value::Null, "asked for and unset: null");
    assert!(got.get("attachments").is_none());
    let bare: Value = app.read(&path(&p)).await;
    assert!(bare.get("fields").is_none(), "no fields asked for: {bare}");
    // The same entity below /v3, its links there too.
    let v3: Value = app.read(&path(&p).replace("/v2/", "/v3/")).await;
    assert_eq!(
        v3["self"],
        format!("{}{}", app.base, path(&p).replace("/v2/", "/v3/"))
    );
    let old: Value = app.read("/v3/projects/1").await;
    assert_eq!(old["self"], format!("{}/v3/projects/1", app.base));

    app.clock.advance(chrono::Duration::minutes(5));
    let edited: Value = app
        .patch(&format!("{}?fields=summary,teamUsers", path(&p)))
        .token(&dave)
        .header("If-Match", "\"1\"")
        .json(json!({"fields": {"summary": "Launch v2", "teamUsers": ["erin", "bob"]}}))
        .await
        .status(200)
        .json();
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["fields"]["summary"], "Launch v2");
    assert_eq!(edited["fields"]["teamUsers"][0]["display"], "Erin");
    assert_eq!(edited["updatedAt"], "2026-01-15T12:05:00.000+0000");
    // A client that read version 1 is told the entity moved on.
    app.patch(&path(&p))
        .token(&dave)
        .header("If-Match", "\"1\"")
        .json(json!({"fields": {"summary": "stale"}}))
        .await
        .error(412);
    app.patch(&format!("{}?version=1", path(&p)))
        .json(json!({"fields": {"summary": "stale"}}))
        .await
        .error(409);
    let again: Value = app.read(&format!("{}?fields=summary", path(&p))).await;
    assert_eq!(again["fields"]["summary"], "Launch v2");
    assert_eq!(again["version"], 2);
}

async fn entity_input_is_checked_and_refused_in_the_envelope(app: TestApp) {
    let post = |kind: &str, body: Value| app.post(&format!("/v2/entities/{kind}")).json(body);
    post("project", json!({"fields": {"queues": "TEST"}}))
        .await
        .error_naming(422, "summary");
    let e = post("project", json!({"fields": {"summary": "x"}}))
        .await
        .error(422);
    assert!(
        e["errors"]["queues"].is_string(),
        "a project needs queues or teamAccess: {e}"
    );
    let e = post(
        "project",
        json!({"fields": {"summary": "x", "queues": "NOPE", "entityStatus": "done",
                          "lead": "nobody", "start": "soon", "teamAccess": "yes", "colour": 1}}),
    )
    .await
    .error(422);
    for field in [
        "queues",
        "entityStatus",
        "lead",
        "start",
        "teamAccess",
        "colour",
    ] {
        assert!(e["errors"][field].is_string(), "{field}: {e}");
    }
    post("project", json!({"fields": "summary"}))
        .await
        .error(422);
    post("things", json!({"fields": {"summary": "x"}}))
        .await
        .error(404);
    app.post_text("/v2/entities/portfolio", "{not json")
        .await
        .error(400);
    let p = create(&app, "portfolio", json!({"summary": "P"})).await;
    app.get(&format!("{}?fields=colour", path(&p)))
        .await
        .error(400);
    app.patch(&path(&p))
        .json(json!({"fields": {"summary": " "}}))
        .await
        .error(422);
    app.patch(&path(&p))
        .json(json!({"fields": {"checklistItems": []}}))
        .await
        .error(422);
    // The id names a portfolio: asked for as a project it is not found.
    app.get(&format!(
        "/v2/entities/project/{}",
        p["id"].as_str().unwrap()
    ))
    .await
    .error(404);
    app.get("/v2/entities/portfolio/000000000000000000000000")
        .await
        .error(404);
    app.post("/v2/entities/portfolio/_search")
        .json(json!({"filter": {"colour": "red"}}))
        .await
        .error(422);
    each_refused(
        [
            app.post("/v2/entities/portfolio/_search")
                .json(json!({"query": "x"})),
            app.get(&format!("{}/events/_relative?direction=sideways", path(&p))),
            app.get(&format!("{}/events/_relative?perPage=0", path(&p))),
        ],
        400,
    )
    .await;
}

async fn another_organization_sees_no_entity_and_no_project(app: TestApp) {
    let p = project(&app, "Ours").await;
    let other = |c: Call| c.token(MALLORY).org(OTHER);
    other(app.get(&path(&p))).await.error(404);
    other(app.get(&format!("{}/events/_relative", path(&p))))
        .await
        .error(404);
    other(
        app.patch(&path(&p))
            .json(json!({"fields": {"summary": "theirs"}})),
    )
    .await
    .error(404);
    other(app.delete(&path(&p))).await.error(404);
    let found: Value = other(app.post("/v2/entities/project/_search").json(json!({})))
        .await
        .status(200)
        .json();
    assert_eq!(found["hits"], 0, "{found}");
    let list: Value = other(app.get("/v2/projects")).await.status(200).json();
    assert_eq!(list, json!([]));
    other(app.get("/v2/projects/1")).await.error(404);
    other(app.put("/v2/projects/1").json(json!({"name": "x"})))
        .await
        .error(404);
    other(app.delete("/v2/projects/1")).await.error(404);
    // Their own project numbering starts at 1 as well, and stays theirs.
    let theirs: Value = other(
        app.post("/v2/projects")
            .json(json!({"name": "T", "queues": "SECRET"})),
    )
    .await
    .status(201)
    .json();
    assert_eq!(theirs["id"], "1");
    let ours: Value = app.read("/v2/projects/1").await;
    assert_eq!(ours["name"], "Ours");
}

async fn a_read_only_token_reads_entities_but_cannot_change_them(app: TestApp) {
    let p = create(&app, "goal", json!({"summary": "Grow"})).await;
    let got: Value = app.read_as(&path(&p), BOB_RO).await;
    assert_eq!(got["id"], p["id"]);
    app.get(&format!("{}/events/_relative", path(&p)))
        .token(BOB_RO)
        .await
        .status(200);
    app.post("/v2/entities/goal/_search")
        .token(BOB_RO)
        .json(json!({}))
        .await
        .status(200);
    app.post("/v2/entities/goal")
        .token(BOB_RO)
        .json(json!({"fields": {"summary": "x"}}))
        .await
        .error(403);
    app.patch(&path(&p))
        .token(BOB_RO)
        .json(json!({"fields": {"summary": "x"}}))
        .await
        .error(403);
    app.delete(&path(&p)).token(BOB_RO).await.error(403);
    app.post("/v2/projects")
        .token(BOB_RO)
        .json(json!({"name": "x", "queues": "TEST"}))
        .await
        .error(403);
    let unchanged: Value = app.read(&format!("{}?fields=summary", path(&p))).await;
    assert_eq!(unchanged["fields"]["summary"], "Grow");
    assert_eq!(unchanged["version"], 1);
}

async fn an_account_without_a_role_reads_an_open_entity_but_not_a_team_only_one_and_changes_neither(
    app: TestApp,
) {
    let erin = token_of(&app, "erin").await;
    let open = project(&app, "Open").await;
    let closed = create(
        &app,
        "project",
        json!({"summary": "Closed", "teamAccess": true, "clients": ["bob"]}),
    )
    .await;
    app.get(&path(&open)).token(&erin).await.status(200);
    app.patch(&path(&open))
        .token(&erin)
        .json(json!({"fields": {"summary": "mine"}}))
        .await
        .error(403);
    app.delete(&path(&open)).token(&erin).await.error(403);
    app.get(&path(&closed)).token(&erin).await.error(403);
    app.get(&format!("{}/events/_relative", path(&closed)))
        .token(&erin)
        .await
        .error(403);
    let found: Value = app
        .post("/v2/entities/project/_search")
        .token(&erin)
        .json(json!({}))
        .await
        .status(200)
        .json();
    assert_eq!(found["hits"], 1, "only the open project: {found}");
    assert_eq!(found["values"][0]["id"], open["id"]);
    let list: Value = app.read_as("/v2/projects", &erin).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    app.get(&format!("/v2/projects/{}", closed["shortId"]))
        .token(&erin)
        .await
        .error(403);
    // A client reads the team's project; following it opens it to erin.
    app.get(&path(&closed)).token(BOB_RO).await.status(200);
    app.patch(&path(&closed))
        .json(json!({"fields": {"followers": ["erin"]}}))
        .await
        .status(200);
    app.get(&path(&closed)).token(&erin).await.status(200);
    app.patch(&path(&closed))
        .token(&erin)
        .json(json!({"fields": {"summary": "mine"}}))
        .await
        .error(403);
}

async fn only_the_author_the_lead_or_an_administrator_deletes_an_entity(app: TestApp) {
    let dave = token_of(&app, "dave").await;
    let erin = token_of(&app, "erin").await;
    let p = create(
        &app,
        "portfolio",
        json!({"summary": "P", "lead": "erin", "teamUsers": ["dave"]}),
    )
    .await;
    // A team member changes the entity but does not delete it.
    app.patch(&path(&p))
        .token(&dave)
        .json(json!({"fields": {"description": "by the team"}}))
        .await
        .status(200);
    app.delete(&path(&p)).token(&dave).await.error(403);
    app.delete(&path(&p)).token(&erin).await.status(204);
    app.get(&path(&p)).await.error(404);
    app.delete(&path(&p)).await.error(404);
    let found: Value = app
        .post_json("/v2/entities/portfolio/_search", json!({}), 200)
        .await;
    assert_eq!(found["hits"], 0);
}

async fn search_filters_orders_and_pages_the_entities_the_caller_may_read(app: TestApp) {
    let a = create(
        &app,
        "project",
        json!({"summary": "Alpha rocket", "queues": "TEST", "entityStatus": "in_progress",
               "followers": ["bob"], "lead": "dave"}),
    )
    .await;
    let b = create(
        &app,
        "project",
        json!({"summary": "Beta rocket", "queues": "TEST", "entityStatus": "draft"}),
    )
    .await;
    let c = create(
        &app,
        "project",
        json!({"summary": "Gamma", "queues": "OPS", "entityStatus": "in_progress"}),
    )
    .await;
    let search = |query: &str, body: Value| {
        app.post(&format!("/v2/entities/project/_search{query}"))
            .json(body)
    };
    let ids = |found: &Value| -> Vec<Value> {
        found["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].clone())
            .collect()
    };
    let all: Value = search("", json!({})).await.status(200).json();
    assert_eq!(all["hits"], 3);
    assert_eq!(all["pages"], 1);
    assert_eq!(
        ids(&all),
        vec![a["id"].clone(), b["id"].clone(), c["id"].clone()]
    );
    let found: Value = search(
        "?fields=entityStatus,followers",
        json!({"filter": {"entityStatus": "in_progress", "followers": "notEmpty()"}}),
    )
    .await
    .status(200)
    .json();
    assert_eq!(ids(&found), vec![a["id"].clone()]);
    assert_eq!(found["values"][0]["fields"]["entityStatus"], "in_progress");
    assert_eq!(
        found["values"][0]["fields"]["followers"][0]["display"],
        "Bob Baker"
    );
    let found: Value = search("", json!({"filter": {"lead": "dave"}}))
        .await
        .status(200)
        .json();
    assert_eq!(ids(&found), vec![a["id"].clone()]);
    let found: Value = search("", json!({"filter": {"lead": "empty()"}}))
        .await
        .status(200)
        .json();
    assert_eq!(found["hits"], 2);
    let found: Value = search("", json!({"input": "ROCKET"}))
        .await
        .status(200)
        .json();
    assert_eq!(found["hits"], 2);
    let found: Value = search(
        "",
        json!({"filter": {"entityStatus": ["draft", "in_progress"]},
                                        "orderBy": "summary", "orderAsc": false}),
    )
    .await
    .status(200)
    .json();
    assert_eq!(
        ids(&found),
        vec![c["id"].clone(), b["id"].clone(), a["id"].clone()]
    );
    assert_eq!(found["orderBy"], "summary");
    let page: Value = search("?perPage=2&page=2", json!({}))
        .await
        .status(200)
        .json();
    assert_eq!(page["hits"], 3);
    assert_eq!(page["pages"], 2);
    assert_eq!(ids(&page), vec![c["id"].clone()]);
    let portfolio = create(&app, "portfolio", json!({"summary": "Space"})).await;
    app.patch(&path(&c))
        .json(json!({"fields": {"parentEntity": portfolio["id"]}}))
        .await
        .status(200);
    let roots: Value = search("", json!({"rootOnly": true}))
        .await
        .status(200)
        .json();
    assert_eq!(ids(&roots), vec![a["id"].clone(), b["id"].clone()]);
}

async fn a_project_is_placed_in_a_portfolio_and_a_cycle_is_refused(app: TestApp) {
    let outer = create(&app, "portfolio", json!({"summary": "Outer"})).await;
    let inner = create(
        &app,
        "portfolio",
        json!({"summary": "Inner", "parentEntity": outer["shortId"]}),
    )
    .await;
    let p = create(
        &app,
        "project",
        json!({"summary": "P", "teamAccess": false, "parentEntity": inner["id"]}),
    )
    .await;
    let got: Value = app.read(&format!("{}?fields=parentEntity", path(&p))).await;
    let parent = &got["fields"]["parentEntity"];
    assert_eq!(parent["id"], inner["id"]);
    assert_eq!(parent["display"], "Inner");
    assert_eq!(parent["self"], format!("{}{}", app.base, path(&inner)));
    app.patch(&path(&outer))
        .json(json!({"fields": {"parentEntity": inner["id"]}}))
        .await
        .error_naming(422, "parentEntity");
    app.patch(&path(&outer))
        .json(json!({"fields": {"parentEntity": outer["id"]}}))
        .await
        .error(422);
    // A project is no parent.
    app.patch(&path(&outer))
        .json(json!({"fields": {"parentEntity": p["id"]}}))
        .await
        .error(422);
    // Removing the parent leaves its children without one.
    app.delete(&path(&inner)).await.status(204);
    let got: Value = app.read(&format!("{}?fields=parentEntity", path(&p))).await;
    assert_eq!(got["fields"]["parentEntity"], Value::Null);
}

async fn the_events_log_records_every_change_and_pages_both_ways(app: TestApp) {
    let p = project(&app, "v0").await;
    for n in 1..=4 {
        app.clock.advance(chrono::Duration::minutes(1));
        app.patch(&path(&p))
            .json(json!({"fields": {"summary": format!("v{n}")}}))
            .await
            .status(200);
    }
    // A change that changes nothing is no event.
    app.patch(&path(&p))
        .json(json!({"fields": {"summary": "v4"}}))
        .await
        .status(200);
    let events = |query: &str| app.get(&format!("{}/events/_relative{query}", path(&p)));
    let all: Value = events("").await.status(200).json();
    let list = all["events"].as_array().unwrap();
    assert_eq!(list.len(), 5, "{all}");
    assert_eq!(list[0]["display"], "Entity created");
    assert_eq!(list[1]["display"], "Entity updated");
    assert_eq!(list[1]["author"]["display"], "Alice Archer");
    assert_eq!(list[1]["date"], "2026-01-15T12:01:00.000+0000");
    let change = &list[1]["changes"][0];
    assert_eq!(change["field"]["id"], "summary");
    assert_eq!(change["from"], "v0");
    assert_eq!(change["to"], "v1");
    assert_eq!(all["hasNext"], false);
    assert_eq!(all["hasPrev"], false);
    let id = |n: usize| list[n]["id"].as_str().unwrap().to_owned();

    let first: Value = events("?perPage=2").await.status(200).json();
    assert_eq!(first["events"].as_array().unwrap().len(), 2);
    assert_eq!(first["hasNext"], true);
    let next: Value = events(&format!("?perPage=2&from={}", id(1)))
        .await
        .status(200)
        .json();
    assert_eq!(next["events"][0]["id"], id(2));
    assert_eq!(next["events"][1]["id"], id(3));
    assert_eq!(next["hasPrev"], true);
    assert_eq!(next["hasNext"], true);
    let top: Value = events("?newEventsOnTop=true&perPage=1")
        .await
        .status(200)
        .json();
    assert_eq!(top["events"][0]["id"], id(4));
    let back: Value = events("?direction=backward&perPage=1")
        .await
        .status(200)
        .json();
    assert_eq!(back["events"][0]["id"], id(4));
    let around: Value = events(&format!("?selected={}&perPage=3", id(2)))
        .await
        .status(200)
        .json();
    let got = each_of(&around["events"], "id");
    assert_eq!(got, vec![json!(id(1)), json!(id(2)), json!(id(3))]);
    events("?selected=nosuch").await.error(400);
}

async fn a_project_made_through_either_api_is_seen_and_edited_through_both(app: TestApp) {
    let old: Value = app
        .post_json(
            "/v2/projects?expand=queues",
            json!({"name": "Old style", "queues": "TEST", "status": "IN_PROGRESS",
                     "startDate": "2026-02-01", "lead": "dave", "description": "d"}),
            201,
        )
        .await;
    assert_eq!(old["id"], "1");
    assert_eq!(old["self"], format!("{}/v2/projects/1", app.base));
    assert_eq!(old["name"], "Old style");
    assert_eq!(old["key"], "Old style");
    assert_eq!(old["status"], "in_progress");
    assert_eq!(old["startDate"], "2026-02-01");
    assert_eq!(old["lead"]["display"], "Dave");
    assert_eq!(old["queues"][0]["key"], "TEST");
    assert_eq!(old["version"], 1);
    let entity_path = format!("/v2/entities/project/{}", old["entityId"].as_str().unwrap());
    let e: Value = app
        .read(&format!(
            "{entity_path}?fields=summary,entityStatus,start,lead,queues"
        ))
        .await;
    assert_eq!(e["shortId"], 1);
    assert_eq!(e["fields"]["summary"], "Old style");
    assert_eq!(e["fields"]["entityStatus"], "in_progress");
    assert_eq!(e["fields"]["start"], "2026-02-01");

    app.patch(&entity_path)
        .json(json!({"fields": {"summary": "New style", "queues": ["TEST", "OPS"]}}))
        .await
        .status(200);
    let seen: Value = app.read("/v2/projects/1").await;
    assert_eq!(seen["name"], "New style");
    assert_eq!(seen["version"], 2);
    assert!(seen.get("queues").is_none(), "queues only when expanded");
    app.put("/v2/projects/1?version=1")
        .json(json!({"name": "stale"}))
        .await
        .error(409);
    let put: Value = app
        .put("/v2/projects/1?version=2")
        .json(json!({"name": "Put", "status": "launched", "endDate": "2026-04-01"}))
        .await
        .status(200)
        .json();
    assert_eq!(put["version"], 3);
    assert_eq!(put["status"], "launched");
    let patched: Value = app
        .patch("/v2/projects/1")
        .header("If-Match", "\"3\"")
        .json(json!({"description": "patched"}))
        .await
        .status(200)
        .json();
    assert_eq!(patched["description"], "patched");
    let e: Value = app
        .read(&format!("{entity_path}?fields=summary,end,description"))
        .await;
    assert_eq!(
        e["fields"],
        json!({"summary": "Put", "end": "2026-04-01", "description": "patched"})
    );
    // Both ids find it.
    let by_entity_id: Value = app
        .read(&format!(
            "/v2/projects/{}",
            old["entityId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(by_entity_id["id"], "1");

    let made = create(
        &app,
        "project",
        json!({"summary": "Entity made", "teamAccess": false}),
    )
    .await;
    let list: Value = app.read("/v2/projects?expand=queues").await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["queues"].as_array().unwrap().len(), 2);
    assert_eq!(list[1]["id"], made["shortId"].to_string());
    assert_eq!(list[1]["name"], "Entity made");

    let queues: Value = app.read("/v2/projects/1/queues").await;
    let keys = each_of(&queues, "key");
    assert_eq!(keys, vec![json!("TEST"), json!("OPS")]);
    assert_eq!(queues[0]["self"], format!("{}/v2/queues/TEST", app.base));

    app.delete("/v2/projects/1").await.status(204);
    app.get(&entity_path).await.error(404);
    app.get("/v2/projects/1").await.error(404);
}

async fn the_older_projects_api_refuses_bad_input_other_organizations_and_read_only_tokens(
    app: TestApp,
) {
    app.post("/v2/projects")
        .json(json!({"queues": "TEST"}))
        .await
        .error_naming(422, "name");
    for body in [
        json!({"name": "x"}),
        json!({"name": "x", "queues": "TEST", "status": "DONE"}),
        json!({"name": "x", "queues": "TEST", "colour": "red"}),
    ] {
        app.post("/v2/projects").json(body).await.error(422);
    }
    app.post("/v2/projects").body("[").await.error(400);
    app.post("/v2/projects")
        .json(json!({"name": "P", "queues": "TEST"}))
        .await
        .status(201);
    app.put("/v2/projects/1")
        .json(json!({"startDate": "soon"}))
        .await
        .error(422);
    app.get("/v2/projects/99").await.error(404);
    app.get("/v2/projects/1").token(BOB_RO).await.status(200);
    each_refused(
        [
            app.put("/v2/projects/1")
                .token(BOB_RO)
                .json(json!({"name": "x"})),
            app.delete("/v2/projects/1").token(BOB_RO),
        ],
        403,
    )
    .await;
    let dave = token_of(&app, "dave").await;
    // A member without a role reads the open project, changes nothing.
    app.get("/v2/projects/1/queues")
        .token(&dave)
        .await
        .status(200);
    app.put("/v2/projects/1")
        .token(&dave)
        .json(json!({"name": "x"}))
        .await
        .error(403);
    app.get("/v2/projects/1/queues")
        .token(MALLORY)
        .org(OTHER)
        .await
        .error(404);
}

async fn comments_are_added_listed_paged_edited_and_removed_on_an_entity(app: TestApp) {
    let dave = token_of(&app, "dave").await;
    let p = create(
        &app,
        "project",
        json!({"summary": "Talk", "teamAccess": true, "teamUsers": ["dave"]}),
    )
    .await;
    let comments = format!("{}/comments", path(&p));
    let first: Value = app
        .post(&comments)
        .token(&dave)
        .json(json!({"text": "first", "summonees": ["erin"]}))
        .await
        .status(201)
        .json();
    let n = app.numeric_id(&first, &comments);
    assert_eq!(first["longId"].as_str().unwrap().len(), 24);
    assert_eq!(first["text"], "first");
    assert_eq!(first["createdBy"]["display"], "Dave");
    assert_eq!(first["summonees"][0]["display"], "Erin");
    for text in ["second", "third"] {
        app.post(&comments)
            .json(json!({"text": text, "isAddToFollowers": false}))
            .await
            .status(201);
    }
    let e: Value = app.read(&format!("{}?fields=followers", path(&p))).await;
    let followers = each_of(&e["fields"]["followers"], "display");
    assert_eq!(
        followers,
        vec![json!("Dave")],
        "the commenter follows unless told not to"
    );
    assert_eq!(e["version"], 4, "each comment is a change of the entity");

    let list: Value = app.read(&comments).await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(list[0], first);
    let page = app.get(&format!("{comments}?perPage=2")).await.status(200);
    assert!(page.header("link").contains("rel=\"next\""));
    let rel: Value = app
        .read(&format!(
            "{comments}/_relative?perPage=1&from={}",
            first["longId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(rel["comments"][0]["text"], "second");
    assert_eq!(rel["hasPrev"], true);
    assert_eq!(rel["hasNext"], true);
    let rel: Value = app
        .read(&format!("{comments}/_relative?newCommentsOnTop=true"))
        .await;
    assert_eq!(rel["comments"][0]["text"], "third");
    let by_long: Value = app
        .read(&format!("{comments}/{}", first["longId"].as_str().unwrap()))
        .await;
    assert_eq!(by_long["id"], n);

    let edited: Value = app
        .patch(&format!("{comments}/{n}"))
        .token(&dave)
        .json(json!({"text": "first, edited"}))
        .await
        .status(200)
        .json();
    assert_eq!(edited["text"], "first, edited");
    assert_eq!(edited["version"], 2);
    assert_eq!(
        edited["summonees"][0]["display"], "Erin",
        "kept when not given"
    );
    app.delete(&format!("{comments}/{n}"))
        .token(&dave)
        .await
        .status(204);
    app.get(&format!("{comments}/{n}")).await.error(404);
    let events: Value = app.read(&format!("{}/events/_relative", path(&p))).await;
    let displays = each_of(&events["events"], "display");
    assert!(displays.contains(&json!("Comment added")), "{displays:?}");
    assert!(displays.contains(&json!("Comment changed")), "{displays:?}");
    assert!(displays.contains(&json!("Comment removed")), "{displays:?}");
}

async fn entity_comments_refuse_bad_input_strangers_read_only_tokens_and_other_authors(
    app: TestApp,
) {
    let dave = token_of(&app, "dave").await;
    let erin = token_of(&app, "erin").await;
    let p = create(
        &app,
        "goal",
        json!({"summary": "G", "teamUsers": ["dave", "erin"], "teamAccess": true}),
    )
    .await;
    let comments = format!("{}/comments", path(&p));
    app.post(&comments)
        .json(json!({"text": " "}))
        .await
        .error(422);
    app.post(&comments).json(json!({})).await.error(422);
    app.post(&comments)
        .json(json!({"text": "x", "summonees": ["nobody"]}))
        .await
        .error(422);
    app.post(&comments)
        .json(json!({"text": "x", "attachmentIds": ["1"]}))
        .await
        .error(422);
    app.post(&comments).body("{").await.error(400);
    app.get(&format!("{comments}/999")).await.error(404);
    app.get(&format!("{comments}/_relative?from=1&selected=1"))
        .await
        .error(400);
    let c: Value = app
        .post(&comments)
        .token(&dave)
        .json(json!({"text": "mine"}))
        .await
        .status(201)
        .json();
    let one = format!("{comments}/{}", c["id"]);
    // Another team member may comment, not edit dave's comment.
    app.patch(&one)
        .token(&erin)
        .json(json!({"text": "hers"}))
        .await
        .error(403);
    app.delete(&one).token(&erin).await.error(403);
    app.post(&comments)
        .token(BOB_RO)
        .json(json!({"text": "x"}))
        .await
        .error(403);
    app.patch(&one)
        .token(BOB_RO)
        .json(json!({"text": "x"}))
        .await
        .error(403);
    app.delete(&one).token(BOB_RO).await.error(403);
    // Without a role, a team-only goal's comments are not for reading.
    let carol_like = token_of(&app, "bob").await;
    app.get(&comments).token(&carol_like).await.error(403);
    let other = |c: Call| c.token(MALLORY).org(OTHER);
    other(app.get(&comments)).await.error(404);
    other(app.get(&one)).await.error(404);
    other(app.post(&comments).json(json!({"text": "x"})))
        .await
        .error(404);
    other(app.delete(&one)).await.error(404);
    let still: Value = app.read(&one).await;
    assert_eq!(still["text"], "mine");
}

async fn a_checklist_is_added_edited_moved_and_removed_on_an_entity(app: TestApp) {
    let p = create(&app, "portfolio", json!({"summary": "With a list"})).await;
    let items = format!("{}/checklistItems", path(&p));
    let added: Value = app
        .post_json(
            &items,
            json!([{"text": "one"}, {"text": "two", "assignee": "bob"}, {"text": "three"}]),
            200,
        )
        .await;
    assert_eq!(added["id"], p["id"], "the answer is the entity");
    assert_eq!(added["version"], 2);
    let list = added["fields"]["checklistItems"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[1]["assignee"]["display"], "Bob Baker");
    assert_eq!(list[0]["checked"], false);
    let id = |n: usize| list[n]["id"].as_str().unwrap().to_owned();
    assert_eq!(list[0]["self"], format!("{}{items}/{}", app.base, id(0)));
    let one: Value = app
        .post_json(
            &items,
            json!({"text": "four", "deadline": {"date": "2026-01-01T00:00:00.000+0000"}}),
            200,
        )
        .await;
    assert_eq!(
        one["fields"]["checklistItems"][3]["deadline"]["isExceeded"],
        true
    );
    let changed: Value = app
        .edit(
            &format!("{items}/{}", id(0)),
            json!({"checked": true, "text": "one!"}),
        )
        .await;
    assert_eq!(changed["fields"]["checklistItems"][0]["text"], "one!");
    assert_eq!(changed["fields"]["checklistItems"][0]["checked"], true);
    // The reference's whole-list PATCH names items by id; the rest stay.
    let many: Value = app
        .edit(&items, json!({"id": id(2), "text": "three!"}))
        .await;
    let texts = |v: &Value| -> Vec<Value> {
        v["fields"]["checklistItems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["text"].clone())
            .collect()
    };
    assert_eq!(
        texts(&many),
        vec![json!("one!"), json!("two"), json!("three!"), json!("four")]
    );
    let moved: Value = app
        .post_json(
            &format!("{items}/{}/_move", id(2)),
            json!({"before": id(0)}),
            200,
        )
        .await;
    assert_eq!(texts(&moved)[0], "three!");
    let removed: Value = app
        .delete(&format!("{items}/{}", id(1)))
        .await
        .status(200)
        .json();
    assert_eq!(
        texts(&removed),
        vec![json!("three!"), json!("one!"), json!("four")]
    );
    let got: Value = app
        .read(&format!("{}?fields=checklistItems", path(&p)))
        .await;
    assert_eq!(texts(&got), texts(&removed));
    let cleared: Value = app.delete(&items).await.status(200).json();
    assert_eq!(cleared["fields"]["checklistItems"], json!([]));
    let events: Value = app.read(&format!("{}/events/_relative", path(&p))).await;
    assert_eq!(
        events["events"].as_array().unwrap().len(),
        8,
        "created + seven changes"
    );
    assert_eq!(
        events["events"][1]["changes"][0]["field"]["id"],
        "checklistItems"
    );
}

async fn entity_checklists_refuse_bad_input_strangers_and_read_only_tokens(app: TestApp) {
    let p = create(&app, "project", json!({"summary": "L", "teamAccess": true})).await;
    let items = format!("{}/checklistItems", path(&p));
    app.post(&items).json(json!({})).await.error(422);
    app.post(&items)
        .json(json!({"text": "x", "assignee": "nobody"}))
        .await
        .error(422);
    app.post(&items).json(json!("text")).await.error(400);
    let added: Value = app.post_json(&items, json!({"text": "x"}), 200).await;
    let item = added["fields"]["checklistItems"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch(&format!("{items}/nosuch"))
        .json(json!({"checked": true}))
        .await
        .error(404);
    each_refused(
        [
            app.patch(&items).json(json!([{"text": "no id"}])),
            app.post(&format!("{items}/{item}/_move"))
                .json(json!({"before": item})),
        ],
        422,
    )
    .await;
    app.delete(&format!("{items}/nosuch")).await.error(404);
    app.post(&items)
        .token(BOB_RO)
        .json(json!({"text": "x"}))
        .await
        .error(403);
    app.delete(&items).token(BOB_RO).await.error(403);
    let dave = token_of(&app, "dave").await;
    app.post(&items)
        .token(&dave)
        .json(json!({"text": "x"}))
        .await
        .error(403);
    let other = |c: Call| c.token(MALLORY).org(OTHER);
    other(app.post(&items).json(json!({"text": "x"})))
        .await
        .error(404);
    other(app.delete(&format!("{items}/{item}")))
        .await
        .error(404);
    let got: Value = app
        .read(&format!("{}?fields=checklistItems", path(&p)))
        .await;
    assert_eq!(got["fields"]["checklistItems"].as_array().unwrap().len(), 1);
}

async fn entities_are_linked_seen_from_both_ends_and_unlinked(app: TestApp) {
    let a = project(&app, "A").await;
    let b = project(&app, "B").await;
    let g = create(&app, "goal", json!({"summary": "G"})).await;
    let links = |e: &Value| format!("{}/links", path(e));
    let made: Value = app
        .post_json(
            &links(&a),
            json!([{"relationship": "depends on", "entity": b["id"]},
                     {"relationship": "relates", "entity": g["id"]}]),
            201,
        )
        .await;
    assert_eq!(made.as_array().unwrap().len(), 2);
    let from_a: Value = app
        .read(&format!("{}?fields=summary,entityStatus", links(&a)))
        .await;
    assert_eq!(from_a[0]["type"], "depends on");
    assert_eq!(from_a[0]["linkFieldValues"]["id"], b["id"]);
    assert_eq!(from_a[0]["linkFieldValues"]["summary"], "B");
    assert_eq!(from_a[1]["type"], "relates");
    let from_b: Value = app.read(&format!("{}?fields=id,summary", links(&b))).await;
    assert_eq!(
        from_b[0]["type"], "is dependent by",
        "seen from the other end: {from_b}"
    );
    assert_eq!(
        from_b[0]["linkFieldValues"],
        json!({"id": a["id"], "summary": "A"})
    );
    // Linking through an edit of the entity: one write with the edit.
    let c = project(&app, "C").await;
    let edited: Value = app
        .edit(
            &path(&c),
            json!({"fields": {"summary": "C2"}, "comment": "linked",
                     "links": [{"relationship": "is dependent by", "entity": a["id"]}]}),
        )
        .await;
    assert_eq!(edited["version"], 2);
    let from_a: Value = app.read(&links(&a)).await;
    assert_eq!(from_a.as_array().unwrap().len(), 3);
    assert_eq!(from_a[2]["type"], "depends on");
    let comments: Value = app.read(&format!("{}/comments", path(&c))).await;
    assert_eq!(comments[0]["text"], "linked");

    app.delete(&format!(
        "{}?right={}",
        links(&b),
        a["id"].as_str().unwrap()
    ))
    .await
    .status(204);
    let from_a: Value = app.read(&links(&a)).await;
    assert_eq!(
        from_a.as_array().unwrap().len(),
        2,
        "removed from either end"
    );
    let events: Value = app.read(&format!("{}/events/_relative", path(&b))).await;
    assert_eq!(events["events"][1]["display"], "Link removed");
}

async fn entity_links_refuse_bad_input_strangers_and_read_only_tokens(app: TestApp) {
    let a = project(&app, "A").await;
    let b = create(&app, "portfolio", json!({"summary": "B"})).await;
    let hidden = create(
        &app,
        "portfolio",
        json!({"summary": "H", "teamAccess": true}),
    )
    .await;
    let links = format!("{}/links", path(&a));
    app.post(&links)
        .json(json!({"relationship": "blocks", "entity": b["id"]}))
        .await
        .error(422);
    app.post(&links)
        .json(json!({"relationship": "relates"}))
        .await
        .error(422);
    app.post(&links)
        .json(json!({"relationship": "relates", "entity": "nosuch"}))
        .await
        .error(422);
    app.post(&links)
        .json(json!({"relationship": "relates", "entity": a["id"]}))
        .await
        .error(422);
    app.post(&links)
        .json(json!({"relationship": "relates", "entity": b["id"]}))
        .await
        .status(201);
    app.post(&links)
        .json(json!({"relationship": "depends on", "entity": b["id"]}))
        .await
        .error(422);
    app.delete(&links).await.error(400);
    app.delete(&format!("{links}?right=nosuch"))
        .await
        .error(404);
    let dave = token_of(&app, "dave").await;
    // Writing a's links needs a role on a; a member may not link to what
    // they cannot see either.
    app.post(&links)
        .token(&dave)
        .json(json!({"relationship": "relates", "entity": hidden["id"]}))
        .await
        .error(403);
    app.post(&links)
        .token(BOB_RO)
        .json(json!({"relationship": "relates", "entity": hidden["id"]}))
        .await
        .error(403);
    app.delete(&format!("{links}?right={}", b["id"].as_str().unwrap()))
        .token(BOB_RO)
        .await
        .error(403);
    let other = |c: Call| c.token(MALLORY).org(OTHER);
    other(app.get(&links)).await.error(404);
    other(
        app.post(&links)
            .json(json!({"relationship": "relates", "entity": b["id"]})),
    )
    .await
    .error(404);
    other(app.delete(&format!("{links}?right={}", b["id"].as_str().unwrap())))
        .await
        .error(404);
    let seen: Value = app.read(&links).await;
    assert_eq!(seen.as_array().unwrap().len(), 1);
}

/// A temporary upload of `token`'s account: its id.
async fn temporary(app: &TestApp, token: &str, name: &str, bytes: &[u8]) -> String {
    let r = crate::attachments::upload_as(app, token, ACME, "/v2/attachments", name, bytes)
        .await
        .status(201);
    r.json::<Value>()["id"].as_str().unwrap().to_owned()
}

async fn a_temporary_upload_is_attached_to_an_entity_listed_downloaded_and_deleted(app: TestApp) {
    let p = project(&app, "Files").await;
    let file = temporary(&app, ALICE, "plan.txt", b"the plan").await;
    let files = format!("{}/attachments", path(&p));
    let attached: Value = app
        .post(&format!("{files}/{file}?fields=summary"))
        .await
        .status(200)
        .json();
    assert_eq!(attached["version"], 2);
    assert_eq!(attached["fields"]["summary"], "Files");
    assert_eq!(attached["attachments"][0]["id"], file);
    assert_eq!(attached["attachments"][0]["name"], "plan.txt");
    assert_eq!(
        attached["attachments"][0]["self"],
        format!("{}/v2/attachments/{file}", app.base)
    );
    let list: Value = app.read(&files).await;
    assert_eq!(list, attached["attachments"]);
    let one: Value = app.read(&format!("{files}/{file}")).await;
    assert_eq!(one["size"], 8);
    let expanded: Value = app.read(&format!("{}?expand=attachments", path(&p))).await;
    assert_eq!(expanded["attachments"], list);
    // A reader of the project downloads it by its content link.
    let (status, _, bytes) =
        crate::attachments::fetch(&app, one["content"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, b"the plan");
    let bob: Value = app
        .read_as(&format!("/v2/attachments/{file}"), BOB_RO)
        .await;
    assert_eq!(bob["name"], "plan.txt");
    // Once the entity's, the file is no longer a temporary upload to attach elsewhere.
    app.post("/v2/issues")
        .json(json!({"queue": "TEST", "summary": "steal", "attachmentIds": [file]}))
        .await
        .error(422);
    app.post(&format!("{files}/{file}")).await.error(422);
    app.delete(&format!("{files}/{file}")).await.status(204);
    app.get(&format!("{files}/{file}")).await.error(404);
    app.get(&format!("/v2/attachments/{file}")).await.error(404);
    let list: Value = app.read(&files).await;
    assert_eq!(list, json!([]));
    let events: Value = app.read(&format!("{}/events/_relative", path(&p))).await;
    let displays = each_of(&events["events"], "display");
    assert_eq!(
        displays,
        vec![
            json!("Entity created"),
            json!("File added"),
            json!("File removed")
        ]
    );
}

async fn entity_attachments_refuse_others_uploads_strangers_and_read_only_tokens(app: TestApp) {
    let p = create(
        &app,
        "goal",
        json!({"summary": "G", "teamAccess": true, "teamUsers": ["dave"]}),
    )
    .await;
    let files = format!("{}/attachments", path(&p));
    let dave = token_of(&app, "dave").await;
    let daves = temporary(&app, &dave, "d.txt", b"dave's").await;
    // Someone else's upload, or no upload at all, cannot be attached.
    app.post(&format!("{files}/{daves}")).await.error(422);
    app.post(&format!("{files}/nosuch")).await.error(422);
    app.post(&format!("{files}/{daves}"))
        .token(BOB_RO)
        .await
        .error(403);
    let erin = token_of(&app, "erin").await;
    let erins = temporary(&app, &erin, "e.txt", b"erin's").await;
    app.post(&format!("{files}/{erins}"))
        .token(&erin)
        .await
        .error(403);
    app.post(&format!("{files}/{daves}"))
        .token(&dave)
        .await
        .status(200);
    each_refused(
        [
            app.get(&files).token(&erin),
            app.get(&format!("/v2/attachments/{daves}")).token(&erin),
            app.delete(&format!("{files}/{daves}")).token(BOB_RO),
        ],
        403,
    )
    .await;
    app.delete(&format!("{files}/999")).await.error(404);
    let other = |c: Call| c.token(MALLORY).org(OTHER);
    other(app.get(&files)).await.error(404);
    other(app.get(&format!("{files}/{daves}"))).await.error(404);
    other(app.delete(&format!("{files}/{daves}")))
        .await
        .error(404);
    other(app.get(&format!("/v2/attachments/{daves}")))
        .await
        .error(404);
    let list: Value = app.read(&files).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

async fn the_sweep_of_expired_uploads_keeps_the_files_of_entities(app: TestApp) {
    let p = project(&app, "Kept").await;
    let files = format!("{}/attachments", path(&p));
    let kept = temporary(&app, ALICE, "kept.txt", b"kept").await;
    let forgotten = temporary(&app, ALICE, "forgotten.txt", b"forgotten").await;
    app.post(&format!("{files}/{kept}")).await.status(200);
    app.clock.advance(chrono::Duration::days(30));
    trackerd::sweep::sweep(&app.state).await.unwrap();
    app.get(&format!("/v2/attachments/{forgotten}"))
        .await
        .error(404);
    let one: Value = app.read(&format!("{files}/{kept}")).await;
    let (status, _, bytes) =
        crate::attachments::fetch(&app, one["content"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, b"kept");
}
