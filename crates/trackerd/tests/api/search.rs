//! Search: `_search` body forms, ordering, paging, scrolling, `_count`, and
//! permission filtering.

use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    a_query_finds_issues_by_fields_and_full_text,
    a_query_sorts_by_its_own_sort_by,
    a_bad_query_answers_400_naming_the_token_and_position,
    filter_matches_values_lists_ranges_and_functions_and_order_sorts,
    keys_find_issues_by_key_in_key_order,
    queue_finds_the_queues_issues_in_key_order,
    combining_queue_keys_and_query_answers_400,
    count_answers_a_bare_integer,
    expand_and_fields_shape_every_found_issue,
    pages_carry_totals_and_links_and_the_cap_is_10000,
    a_sorted_scroll_walks_every_page_then_ends,
    an_unsorted_scroll_and_clear_release_the_snapshot,
    scroll_rejects_queue_and_keys_and_oversized_pages,
    an_idle_scroll_expires_after_its_ttl,
    a_scroll_opened_on_one_node_is_continued_and_cleared_on_another,
    a_scroll_of_many_pages_is_read_in_order_to_the_end,
    search_and_count_leave_out_issues_the_caller_may_not_read,
    full_text_finds_word_beginnings_in_summary_description_and_comments,
    a_word_that_reads_as_a_number_in_scientific_notation_is_one_word,
    full_text_follows_edits_and_deletions_of_comments,
    custom_fields_and_unindexed_orders_are_answered_in_memory,
    relation_filters_follow_links_in_both_directions,
    changed_finds_issues_by_their_history,
    sorting_by_status_and_assignee_uses_display_names,
    role_grants_let_a_member_find_only_issues_they_hold_a_role_in,
    sql_and_the_in_memory_evaluator_agree_on_the_reference_examples,
    a_followers_or_tags_search_follows_an_issue_moved_to_another_queue,
    a_search_sees_grants_and_names_changed_on_another_node_since_the_last_search,
    a_queue_count_follows_creates_together_moves_and_another_organization,
    a_found_issue_is_written_byte_for_byte_as_its_own_answer,
    a_kept_combination_count_follows_creates_transitions_edits_moves_and_imports,
    a_kept_day_count_follows_creates_imports_edits_moves_and_another_organization,
    a_range_of_updates_holding_most_issues_is_paged_in_key_order,
    words_are_counted_alike_whether_or_not_another_organization_holds_issues,
    words_follow_their_issue_through_edits_comments_and_moves,
);

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> Reply {
    app.post(path).token(token).json(body).await
}

/// A `POST` by Mallory in the other organization.
async fn as_other(app: &TestApp, path: &str, body: Value) -> Reply {
    app.post(path).token(MALLORY).org(OTHER).json(body).await
}

/// The other organization's queue of the same key as ours, TEST.
async fn other_test_queue(app: &TestApp) {
    let queue = json!({"key": "TEST", "name": "Theirs", "lead": "mallory"});
    let r = as_other(app, "/v2/queues", queue).await;
    assert_eq!(r.code(), 201, "{}", r.text());
}

async fn found(app: &TestApp, path: &str, body: Value) -> Vec<String> {
    let r = post(app, path, ALICE, body).await;
    assert_eq!(r.code(), 200, "{}", r.text());
    keys_of(r.json())
}

fn keys_of(v: Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap().to_owned())
        .collect()
}

async fn search(app: &TestApp, body: Value) -> Vec<String> {
    found(app, "/v2/issues/_search", body).await
}

/// TEST-1..4 with known fields; TEST-4 is closed.
async fn dataset(app: &TestApp) {
    app.create_issue(
        json!({"queue": "TEST", "summary": "Login page is slow", "description": "The wheel spins",
               "assignee": "bob", "priority": "critical", "tags": ["web", "perf"], "type": "bug"}),
    )
    .await;
    app.clock.advance(chrono::TimeDelta::days(1));
    app.create_issue(
        json!({"queue": "TEST", "summary": "Invent the wheel", "assignee": "alice",
               "priority": "minor", "tags": ["web"], "deadline": "2026-02-01"}),
    )
    .await;
    app.clock.advance(chrono::TimeDelta::days(1));
    app.create_issue(
        json!({"queue": "TEST", "summary": "Write docs", "followers": ["carol"], "storyPoints": 5}),
    )
    .await;
    app.clock.advance(chrono::TimeDelta::days(1));
    app.create_test_issue("Old task").await;
    let r = post(
        app,
        "/v2/issues/TEST-4/transitions/close/_execute",
        ALICE,
        json!({"resolution": "fixed"}),
    )
    .await;
    assert_eq!(r.code(), 200, "{}", r.text());
}

async fn a_query_finds_issues_by_fields_and_full_text(app: TestApp) {
    dataset(&app).await;
    let q = |s: &str| json!({ "query": s });
    assert_eq!(
        search(&app, q("Queue: TEST Assignee: me()")).await,
        ["TEST-2"]
    );
    assert_eq!(search(&app, q("Assignee: bob@")).await, ["TEST-1"]);
    assert_eq!(
        search(&app, q("Queue: TEST Status: !Closed")).await,
        ["TEST-1", "TEST-2", "TEST-3"]
    );
    assert_eq!(
        search(&app, q("Assignee: empty()")).await,
        ["TEST-3", "TEST-4"]
    );
    assert_eq!(
        search(&app, q("Tags: web Priority: Critical")).await,
        ["TEST-1"]
    );
    assert_eq!(
        search(&app, q("Tags: web OR Followers: carol")).await,
        ["TEST-1", "TEST-2", "TEST-3"]
    );
    assert_eq!(
        search(&app, q("wheel")).await,
        ["TEST-1", "TEST-2"],
        "summary and description"
    );
    assert_eq!(search(&app, q("Summary: wheel")).await, ["TEST-2"]);
    assert_eq!(
        search(&app, q("Created: >= \"2026-01-17\"")).await,
        ["TEST-3", "TEST-4"]
    );
    assert_eq!(
        search(&app, q("Created: \"2026-01-15\"..\"2026-01-16\"")).await,
        ["TEST-1", "TEST-2"]
    );
    assert_eq!(search(&app, q("Deadline: < 2026-03-01")).await, ["TEST-2"]);
    assert_eq!(search(&app, q("\"Story Points\": > 3")).await, ["TEST-3"]);
    assert_eq!(search(&app, q("Resolution: fixed")).await, ["TEST-4"]);
    assert_eq!(search(&app, q("Key: TEST-3")).await, ["TEST-3"]);
    assert_eq!(
        search(&app, q("Summary: #\"Write docs\"")).await,
        ["TEST-3"]
    );
    assert!(search(&app, q("Summary: #\"Write\"")).await.is_empty());
    assert_eq!(
        search(&app, q("Created: < today() - 1d")).await,
        ["TEST-1", "TEST-2"],
        "today is the 18th"
    );
}

async fn a_query_sorts_by_its_own_sort_by(app: TestApp) {
    dataset(&app).await;
    for (body, keys) in [
        (
            json!({"query": "Queue: TEST \"Sort by\": Created DESC"}),
            ["TEST-4", "TEST-3", "TEST-2", "TEST-1"],
        ),
        // One queue, a common column's test, a date first: on SQLite the
        // statement names the queue's date index.
        (
            json!({"query": "Queue: TEST Type: !epic \"Sort by\": Created DESC"}),
            ["TEST-4", "TEST-3", "TEST-2", "TEST-1"],
        ),
        (
            json!({"query": "Queue: TEST Type: !epic \"Sort by\": Updated ASC"}),
            ["TEST-1", "TEST-2", "TEST-3", "TEST-4"],
        ),
        // Priority sorts by display name: Critical, Minor, Normal, Normal; ties by key.
        (
            json!({"query": "Queue: TEST \"Sort by\": Priority ASC"}),
            ["TEST-1", "TEST-2", "TEST-3", "TEST-4"],
        ),
        // The query's own order wins over `order`.
        (
            json!({"query": "Queue: TEST \"Sort by\": Key DESC", "order": "+key"}),
            ["TEST-4", "TEST-3", "TEST-2", "TEST-1"],
        ),
    ] {
        assert_eq!(search(&app, body.clone()).await, keys, "{body}");
    }
}

async fn a_bad_query_answers_400_naming_the_token_and_position(app: TestApp) {
    for (path, query, token, position) in [
        (
            "/v2/issues/_search",
            "Queue: TEST )",
            "\")\"",
            "position 12",
        ),
        (
            "/v2/issues/_count",
            "Assignee: nosuch()",
            "nosuch",
            "position 10",
        ),
    ] {
        let body = post(&app, path, ALICE, json!({ "query": query }))
            .await
            .error(400);
        let msg = body["errorMessages"][0].as_str().unwrap();
        assert!(msg.contains(token) && msg.contains(position), "{msg}");
    }
    for bad in [
        json!({"query": 5}),
        json!({"filter": {"createdAt": {"from": []}}}),
    ] {
        post(&app, "/v2/issues/_search", ALICE, bad)
            .await
            .error(400);
    }
}

async fn filter_matches_values_lists_ranges_and_functions_and_order_sorts(app: TestApp) {
    dataset(&app).await;
    let f = |filter: Value| json!({ "filter": filter });
    // The reference's own example, misspelt function case and all.
    assert_eq!(
        search(&app, f(json!({"queue": "TEST", "assignee": "Empty()"}))).await,
        ["TEST-3", "TEST-4"]
    );
    assert_eq!(
        search(&app, f(json!({"assignee": "me()"}))).await,
        ["TEST-2"]
    );
    assert_eq!(
        search(&app, f(json!({"assignee": "bob"}))).await,
        ["TEST-1"]
    );
    assert_eq!(
        search(&app, f(json!({"priority": ["critical", "minor"]}))).await,
        ["TEST-1", "TEST-2"]
    );
    assert_eq!(
        search(&app, f(json!({"status": {"key": "closed"}}))).await,
        ["TEST-4"]
    );
    assert_eq!(
        search(
            &app,
            f(json!({"createdAt": {"from": "2026-01-16", "to": "2026-01-17"}}))
        )
        .await,
        ["TEST-2", "TEST-3"]
    );
    assert_eq!(
        search(&app, f(json!({"createdAt": {"from": "2026-01-17"}}))).await,
        ["TEST-3", "TEST-4"]
    );
    assert_eq!(
        search(&app, f(json!({"storyPoints": {"from": 4}}))).await,
        ["TEST-3"]
    );
    assert_eq!(search(&app, f(json!({"tags": "perf"}))).await, ["TEST-1"]);
    assert_eq!(
        search(&app, f(json!({"summary": "wheel\" OR Queue: TEST"}))).await,
        Vec::<String>::new(),
        "a value cannot smuggle in query syntax"
    );
    let mut body = f(json!({"queue": "TEST"}));
    body["order"] = json!(["-createdAt"]);
    assert_eq!(
        search(&app, body).await,
        ["TEST-4", "TEST-3", "TEST-2", "TEST-1"]
    );
    let body = json!({"filter": {"queue": "TEST"}, "order": ["+assignee", "-key"]});
    // Alice Archer, Bob Baker, then the empty ones (last ascending) by key descending.
    assert_eq!(
        search(&app, body).await,
        ["TEST-2", "TEST-1", "TEST-4", "TEST-3"]
    );
    // filter and query together must both hold.
    assert_eq!(
        search(
            &app,
            json!({"filter": {"tags": "web"}, "query": "Priority: Minor"})
        )
        .await,
        ["TEST-2"]
    );
}

async fn keys_find_issues_by_key_in_key_order(app: TestApp) {
    dataset(&app).await;
    assert_eq!(search(&app, json!({"keys": "TEST-3"})).await, ["TEST-3"]);
    assert_eq!(
        search(
            &app,
            json!({"keys": ["TEST-3", "TEST-1", "NOPE-1", "TEST-1"]})
        )
        .await,
        ["TEST-1", "TEST-3"]
    );
}

async fn queue_finds_the_queues_issues_in_key_order(app: TestApp) {
    for n in 0..11 {
        app.create_issue(json!({"queue": "TEST", "summary": format!("n{n}")}))
            .await;
    }
    let got = search(&app, json!({"queue": "TEST"})).await;
    assert_eq!(got.len(), 11);
    assert_eq!(got[1], "TEST-2");
    assert_eq!(got[10], "TEST-11", "natural order, not text order");
    assert!(search(&app, json!({"queue": "NOPE"})).await.is_empty());
    // Other organizations' queues do not resolve.
    assert!(search(&app, json!({"queue": "SECRET"})).await.is_empty());
}

async fn combining_queue_keys_and_query_answers_400(app: TestApp) {
    for body in [
        json!({"queue": "TEST", "keys": ["TEST-1"]}),
        json!({"queue": "TEST", "query": "Status: Open"}),
        json!({"keys": "TEST-1", "filter": {"status": "open"}}),
    ] {
        let r = post(&app, "/v2/issues/_search", ALICE, body).await;
        let e = r.error(400);
        assert_eq!(
            e["errorMessages"][0],
            "You can only use keys, a queue, or a search query"
        );
    }
    // What the official client sends: every form, unused ones null.
    app.create_test_issue("x").await;
    let body = json!({"filter": null, "filterId": null, "query": "Queue: TEST", "keys": null,
                      "queue": null, "order": null});
    assert_eq!(search(&app, body).await, ["TEST-1"]);
}

async fn count_answers_a_bare_integer(app: TestApp) {
    dataset(&app).await;
    let count = |body: Value| {
        let app = &app;
        async move {
            let r = post(app, "/v2/issues/_count", ALICE, body).await;
            assert_eq!(r.code(), 200);
            let text = r.text();
            text.parse::<i64>()
                .unwrap_or_else(|_| panic!("not an integer: {text}"))
        }
    };
    assert_eq!(
        count(json!({"filter": {"queue": "TEST", "assignee": "empty()"}})).await,
        2
    );
    assert_eq!(count(json!({"query": "Status: !Closed"})).await, 3);
    assert_eq!(
        count(json!({})).await,
        4,
        "no criteria: every readable issue"
    );
    assert_eq!(count(json!({"keys": ["TEST-1", "TEST-2"]})).await, 2);
    // A read-only token may count.
    let r = post(
        &app,
        "/v2/issues/_count",
        BOB_RO,
        json!({"query": "Queue: TEST"}),
    )
    .await;
    assert_eq!(r.text(), "4");
}

async fn expand_and_fields_shape_every_found_issue(app: TestApp) {
    dataset(&app).await;
    let r = post(
        &app,
        "/v2/issues/_search?expand=transitions",
        ALICE,
        json!({"keys": ["TEST-1"]}),
    )
    .await;
    let v: Value = r.json();
    assert!(v[0]["transitions"].as_array().unwrap().len() > 1, "{v}");
    assert_eq!(v[0]["assignee"]["display"], "Bob Baker");
    let r = post(
        &app,
        "/v3/issues/_search?fields=summary,tags",
        ALICE,
        json!({"keys": ["TEST-1"]}),
    )
    .await;
    let v: Value = r.json();
    let mut got: Vec<&String> = v[0].as_object().unwrap().keys().collect();
    got.sort();
    assert_eq!(got, ["id", "key", "self", "summary", "tags", "version"]);
    assert!(v[0]["self"].as_str().unwrap().contains("/v3/issues/TEST-1"));
}

async fn pages_carry_totals_and_links_and_the_cap_is_10000(app: TestApp) {
    for n in 0..5 {
        app.create_issue(json!({"queue": "TEST", "summary": format!("n{n}")}))
            .await;
    }
    let r = post(
        &app,
        "/v2/issues/_search?perPage=2&page=2",
        ALICE,
        json!({"query": "Queue: TEST"}),
    )
    .await;
    assert_eq!(r.code(), 200);
    let link = r.paged("5", "3");
    assert!(
        link.contains(&format!(
            "<{}/v2/issues/_search?perPage=2&page=3>; rel=\"next\"",
            app.base
        )),
        "{link}"
    );
    assert!(link.contains("{&page}>; rel=\"seek\""), "{link}");
    assert_eq!(keys_of(r.json()), ["TEST-3", "TEST-4"]);
    let r = post(
        &app,
        "/v2/issues/_search?perPage=2&page=3",
        ALICE,
        json!({"query": "Queue: TEST"}),
    )
    .await;
    assert!(!r.headers()["link"]
        .to_str()
        .unwrap()
        .contains("rel=\"next\""));
    assert_eq!(keys_of(r.json()), ["TEST-5"]);
    // The default page is 50.
    let r = post(&app, "/v2/issues/_search", ALICE, json!({})).await;
    assert!(r.headers()["link"].to_str().unwrap().contains("perPage=50"));
    // 100 × 100 is the last reachable page; one more is refused.
    let r = post(
        &app,
        "/v2/issues/_search?perPage=100&page=100",
        ALICE,
        json!({}),
    )
    .await;
    assert_eq!(r.code(), 200);
    assert!(keys_of(r.json()).is_empty());
    let r = post(
        &app,
        "/v2/issues/_search?perPage=100&page=101",
        ALICE,
        json!({}),
    )
    .await;
    let e = r.error(400);
    assert!(
        e["errorMessages"][0].as_str().unwrap().contains("10000"),
        "{e}"
    );
    let r = post(&app, "/v2/issues/_search?page=0", ALICE, json!({})).await;
    r.error(400);
}

async fn scroll_page(
    app: &TestApp,
    url: &str,
    body: Value,
) -> (Vec<String>, reqwest::header::HeaderMap) {
    let r = post(app, url, ALICE, body).await;
    assert_eq!(r.code(), 200, "{}", r.text());
    let h = r.headers().clone();
    (keys_of(r.json()), h)
}

fn next_of(h: &reqwest::header::HeaderMap, base: &str) -> Option<String> {
    let link = h.get("link")?.to_str().unwrap();
    link.split(", ")
        .find(|l| l.ends_with("rel=\"next\""))
        .map(|l| {
            l[1..l.find('>').unwrap()]
                .trim_start_matches(base)
                .to_owned()
        })
}

/// The page a scroll id names, read again (reading a page that is not the
/// last leaves the snapshot as it was).
async fn still_open(app: &TestApp, id: &str) -> Vec<String> {
    found(app, &format!("/v2/issues/_search?scrollId={id}"), json!({})).await
}

async fn a_scroll_opened_on_one_node_is_continued_and_cleared_on_another(app: TestApp) {
    for n in 0..3 {
        app.create_issue(json!({"queue": "TEST", "summary": format!("n{n}")}))
            .await;
    }
    let other = app.another_node().await;
    let (first, h) = scroll_page(
        &app,
        "/v2/issues/_search?scrollType=sorted&perScroll=1",
        json!({"query": "Queue: TEST \"Sort by\": Key ASC"}),
    )
    .await;
    assert_eq!(first, ["TEST-1"]);
    let next = next_of(&h, &app.base).unwrap();
    let (second, h) = scroll_page(&other, &next, json!({})).await;
    assert_eq!(second, ["TEST-2"], "the other node serves the next page");
    assert_eq!(h["x-total-count"], "3");
    let id = h["x-scroll-id"].to_str().unwrap().to_owned();
    let token = h["x-scroll-token"].to_str().unwrap().to_owned();
    // Cleared on the first node, gone on both.
    let r = post(
        &app,
        "/v2/system/search/scroll/_clear",
        ALICE,
        json!({ id.clone(): token }),
    )
    .await;
    assert_eq!(r.code(), 200);
    for node in [&app, &other] {
        post(
            node,
            &format!("/v2/issues/_search?scrollId={id}"),
            ALICE,
            json!({}),
        )
        .await
        .error(404);
    }
}

async fn a_scroll_of_many_pages_is_read_in_order_to_the_end(app: TestApp) {
    for n in 0..7 {
        app.create_issue(json!({"queue": "TEST", "summary": format!("n{n}")}))
            .await;
    }
    let mut url =
        "/v2/issues/_search?scrollType=sorted&perScroll=3&scrollTTLMillis=10000".to_owned();
    let mut body = json!({"query": "Queue: TEST \"Sort by\": Key DESC"});
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (keys, h) = scroll_page(&app, &url, body).await;
        pages += 1;
        seen.extend(keys);
        match next_of(&h, &app.base) {
            Some(next) => url = next,
            None => break,
        }
        body = json!({});
    }
    assert_eq!(pages, 3);
    let want: Vec<String> = (1..=7).rev().map(|n| format!("TEST-{n}")).collect();
    assert_eq!(seen, want);
    // A page offset the snapshot never had is not a page.
    let id = between(&url, "scrollId=", &['&', '-']);
    post(
        &app,
        &format!("/v2/issues/_search?scrollId={id}-1"),
        ALICE,
        json!({}),
    )
    .await
    .error(404);
}

async fn a_sorted_scroll_walks_every_page_then_ends(app: TestApp) {
    for n in 0..5 {
        app.create_issue(json!({"queue": "TEST", "summary": format!("n{n}")}))
            .await;
    }
    let body = json!({"query": "Queue: TEST \"Sort by\": Key DESC"});
    let (first, h) = scroll_page(
        &app,
        "/v2/issues/_search?scrollType=sorted&perScroll=2&scrollTTLMillis=10000&expand=transitions",
        body.clone(),
    )
    .await;
    assert_eq!(first, ["TEST-5", "TEST-4"]);
    assert_eq!(h["x-total-count"], "5");
    let id = h["x-scroll-id"].to_str().unwrap().to_owned();
    assert!(!h["x-scroll-token"].is_empty());
    assert!(h["link"].to_str().unwrap().contains("rel=\"first\""));
    let next = next_of(&h, &app.base).unwrap();
    assert!(
        next.contains(&format!("scrollId={id}")) && next.contains("expand=transitions"),
        "{next}"
    );
    // A change after the snapshot does not change which issues it holds.
    app.create_test_issue("late").await;
    let (second, h) = scroll_page(&app, &next, body.clone()).await;
    assert_eq!(second, ["TEST-3", "TEST-2"]);
    assert_eq!(h["x-total-count"], "5");
    let next = next_of(&h, &app.base).unwrap();
    let (third, h) = scroll_page(&app, &next, json!({})).await;
    assert_eq!(third, ["TEST-1"]);
    assert!(
        h.get("x-scroll-id").is_none(),
        "the last page ends the scroll"
    );
    assert!(next_of(&h, &app.base).is_none());
    // A finished scroll is released: its pages are not served again.
    let r = post(&app, &next, ALICE, json!({})).await;
    r.error(404);
    // Everything on one page: no scroll is opened.
    let (all, h) = scroll_page(&app, "/v2/issues/_search?scrollType=sorted", body).await;
    assert_eq!(all.len(), 6);
    assert!(h.get("x-scroll-id").is_none());
}

async fn an_unsorted_scroll_and_clear_release_the_snapshot(app: TestApp) {
    for n in 0..3 {
        app.create_issue(json!({"queue": "TEST", "summary": format!("n{n}")}))
            .await;
    }
    let (first, h) = scroll_page(
        &app,
        "/v2/issues/_search?scrollType=unsorted&perScroll=1",
        json!({"filter": {"queue": "TEST"}, "order": "-key"}),
    )
    .await;
    assert_eq!(first, ["TEST-1"], "unsorted: storage order");
    let id = h["x-scroll-id"].to_str().unwrap().to_owned();
    let token = h["x-scroll-token"].to_str().unwrap().to_owned();
    // Another user cannot read or clear it.
    let r = post(
        &app,
        &format!("/v2/issues/_search?scrollId={id}"),
        BOB_RO,
        json!({}),
    )
    .await;
    r.error(404);
    let r = post(
        &app,
        "/v2/system/search/scroll/_clear",
        BOB_RO,
        json!({ id.clone(): token.clone() }),
    )
    .await;
    assert_eq!(r.code(), 200);
    assert_eq!(still_open(&app, &id).await, ["TEST-2"]);
    // A wrong token clears nothing; the right one clears it.
    post(
        &app,
        "/v2/system/search/scroll/_clear",
        ALICE,
        json!({ id.clone(): "wrong" }),
    )
    .await;
    assert_eq!(still_open(&app, &id).await, ["TEST-2"]);
    let r = post(
        &app,
        "/v2/system/search/scroll/_clear",
        ALICE,
        json!({ id.clone(): token }),
    )
    .await;
    assert_eq!(r.code(), 200);
    let r = post(
        &app,
        &format!("/v2/issues/_search?scrollId={id}"),
        ALICE,
        json!({}),
    )
    .await;
    r.error(404);
    let r = post(
        &app,
        "/v2/system/search/scroll/_clear",
        ALICE,
        json!({ "x": 1 }),
    )
    .await;
    r.error(400);
}

async fn scroll_rejects_queue_and_keys_and_oversized_pages(app: TestApp) {
    for body in [json!({"queue": "TEST"}), json!({"keys": ["TEST-1"]})] {
        let r = post(&app, "/v2/issues/_search?scrollType=sorted", ALICE, body).await;
        let e = r.error(400);
        assert_eq!(e["errorMessages"][0], "Scroll is not supported");
    }
    for q in [
        "perScroll=1001",
        "perScroll=0",
        "scrollTTLMillis=0",
        "scrollType=random",
    ] {
        let url = format!("/v2/issues/_search?scrollType=sorted&{q}");
        let url = url.replace("scrollType=sorted&scrollType", "scrollType");
        let r = post(&app, &url, ALICE, json!({"query": "Queue: TEST"})).await;
        r.error(400);
    }
    let r = post(
        &app,
        "/v2/issues/_search?scrollType=sorted&perScroll=1000",
        ALICE,
        json!({}),
    )
    .await;
    assert_eq!(r.code(), 200);
}

async fn an_idle_scroll_expires_after_its_ttl(app: TestApp) {
    for n in 0..3 {
        app.create_issue(json!({"queue": "TEST", "summary": format!("n{n}")}))
            .await;
    }
    let (_, h) = scroll_page(
        &app,
        "/v2/issues/_search?scrollType=sorted&perScroll=1&scrollTTLMillis=5000",
        json!({"query": "Queue: TEST"}),
    )
    .await;
    let next = next_of(&h, &app.base).unwrap();
    app.clock.advance(chrono::TimeDelta::seconds(4));
    let (second, h) = scroll_page(&app, &next, json!({})).await;
    assert_eq!(second, ["TEST-2"], "each page renews the lifetime");
    let next = next_of(&h, &app.base).unwrap();
    app.clock.advance(chrono::TimeDelta::seconds(6));
    let r = post(&app, &next, ALICE, json!({})).await;
    r.error(404);
}

/// Queue PRIV, which no one is granted (the administrator still reads it).
async fn private_queue(app: &TestApp) {
    let r = post(
        app,
        "/v2/queues",
        ALICE,
        json!({"key": "PRIV", "name": "Private", "lead": "alice"}),
    )
    .await;
    assert_eq!(r.code(), 201, "{}", r.text());
    let nobody = json!({"users": [], "groups": [], "roles": []});
    app.patch("/v2/queues/PRIV/permissions")
        .json(json!({"read": nobody, "create": nobody, "write": nobody}))
        .await
        .status(200);
}

async fn search_and_count_leave_out_issues_the_caller_may_not_read(app: TestApp) {
    private_queue(&app).await;
    app.create_issue(json!({"queue": "PRIV", "summary": "secret plan"}))
        .await;
    app.create_issue(json!({"queue": "PRIV", "summary": "secret shared"}))
        .await;
    app.create_test_issue("public plan").await;
    let r = app
        .patch("/v2/issues/PRIV-2/permissions")
        .json(json!({"access": {"users": {"add": ["bob"]}}}))
        .await;
    assert_eq!(r.code(), 200, "{}", r.text());

    let as_bob = |path: &'static str, body: Value| {
        let app = &app;
        async move {
            let r = post(app, path, BOB_RO, body).await;
            assert_eq!(r.code(), 200);
            r
        }
    };
    let r = as_bob("/v2/issues/_search", json!({"query": "secret OR plan"})).await;
    assert_eq!(r.headers()["x-total-count"], "2");
    assert_eq!(
        keys_of(r.json()),
        ["PRIV-2", "TEST-1"],
        "the access list opens PRIV-2 to bob"
    );
    let r = as_bob("/v2/issues/_count", json!({"query": "secret OR plan"})).await;
    assert_eq!(r.text(), "2");
    let r = as_bob("/v2/issues/_search", json!({"keys": ["PRIV-1"]})).await;
    assert!(keys_of(r.json()).is_empty());
    let r = as_bob("/v2/issues/_search", json!({"queue": "PRIV"})).await;
    assert_eq!(keys_of(r.json()), ["PRIV-2"]);
    let r = as_bob(
        "/v2/issues/_search?scrollType=unsorted&perScroll=1",
        json!({"query": "Queue: PRIV"}),
    )
    .await;
    assert_eq!(r.headers()["x-total-count"], "1");
    // The administrator sees all three.
    let r = post(
        &app,
        "/v2/issues/_count",
        ALICE,
        json!({"query": "secret OR plan"}),
    )
    .await;
    assert_eq!(r.text(), "3");
    // Other organizations see none of it.
    let r = app
        .post("/v2/issues/_count")
        .token(MALLORY)
        .org(OTHER)
        .json(json!({}))
        .await;
    assert_eq!(r.text(), "0");
}

async fn comment(app: &TestApp, key: &str, text: &str) -> Value {
    let r = post(
        app,
        &format!("/v2/issues/{key}/comments"),
        ALICE,
        json!({ "text": text }),
    )
    .await;
    assert_eq!(r.code(), 201, "{}", r.text());
    r.json()
}

async fn full_text_finds_word_beginnings_in_summary_description_and_comments(app: TestApp) {
    dataset(&app).await;
    comment(&app, "TEST-3", "Needs a rollback plan").await;
    app.create_test_issue("Ошибка входа в систему").await;
    let q = |s: &str| json!({ "query": s });
    assert_eq!(search(&app, q("rollback")).await, ["TEST-3"], "a comment");
    assert_eq!(search(&app, q("Comment: roll")).await, ["TEST-3"]);
    assert!(search(&app, q("Summary: rollback")).await.is_empty());
    assert_eq!(
        search(&app, q("whe")).await,
        ["TEST-1", "TEST-2"],
        "the beginning of a word"
    );
    assert!(
        search(&app, q("heel")).await.is_empty(),
        "not the middle of one"
    );
    assert_eq!(
        search(&app, q("\"wheel spins\"")).await,
        ["TEST-1"],
        "every word, anywhere in the issue"
    );
    assert_eq!(search(&app, q("Description: spins")).await, ["TEST-1"]);
    assert_eq!(
        search(&app, q("ОШИБ")).await,
        ["TEST-5"],
        "any alphabet, any case"
    );
    assert_eq!(
        search(&app, q("Summary: \"log-in\" OR Summary: docs")).await,
        ["TEST-3"],
        "words split at punctuation"
    );
    let r = post(&app, "/v2/issues/_count", ALICE, q("wheel OR rollback")).await;
    assert_eq!(r.text(), "3");
}

/// PostgreSQL's text parser reads "5e3a9f01" as the number 5e3 and the
/// word a9f01; a word is a run of letters and digits on both backends.
async fn a_word_that_reads_as_a_number_in_scientific_notation_is_one_word(app: TestApp) {
    let key = app
        .create_issue(json!({"queue": "TEST", "summary": "Build 5e3a9f01 failed",
                             "description": "Seen with 12E45abc"}))
        .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    comment(&app, &key, "Retried as 7e1x").await;
    app.create_test_issue("Rate 5e3 per second").await;
    let q = |s: &str| json!({ "query": s });
    assert_eq!(search(&app, q("5e3a9f01")).await, [key.as_str()]);
    assert_eq!(
        search(&app, q("Summary: 5e3a")).await,
        [key.as_str()],
        "its beginning"
    );
    assert_eq!(
        search(&app, q("Description: 12e45abc")).await,
        [key.as_str()]
    );
    assert_eq!(search(&app, q("Comment: 7e1x")).await, [key.as_str()]);
    assert!(
        search(&app, q("a9f01")).await.is_empty(),
        "not the middle of a word"
    );
    assert_eq!(
        search(&app, q("Summary: 5e3")).await.len(),
        2,
        "a beginning of both"
    );
}

async fn full_text_follows_edits_and_deletions_of_comments(app: TestApp) {
    dataset(&app).await;
    let c = comment(&app, "TEST-2", "first draft").await;
    let q = |s: &str| json!({ "query": s });
    assert_eq!(search(&app, q("draft")).await, ["TEST-2"]);
    let r = app
        .patch(&format!("/v2/issues/TEST-2/comments/{}", c["id"]))
        .json(json!({"text": "final version"}))
        .await;
    assert_eq!(r.code(), 200, "{}", r.text());
    assert!(search(&app, q("draft")).await.is_empty());
    assert_eq!(search(&app, q("final")).await, ["TEST-2"]);
    let r = app
        .delete(&format!("/v2/issues/TEST-2/comments/{}", c["id"]))
        .await;
    assert_eq!(r.code(), 204, "{}", r.text());
    assert!(search(&app, q("final")).await.is_empty());
    let r = app
        .patch("/v2/issues/TEST-2")
        .json(json!({"summary": "Reinvent the axle"}))
        .await;
    assert_eq!(r.code(), 200, "{}", r.text());
    assert_eq!(search(&app, q("axle")).await, ["TEST-2"]);
    assert_eq!(search(&app, q("wheel")).await, ["TEST-1"]);
}

async fn custom_fields_and_unindexed_orders_are_answered_in_memory(app: TestApp) {
    dataset(&app).await;
    let q = |s: &str| json!({ "query": s });
    assert_eq!(search(&app, q("Deadline: 2026-02-01")).await, ["TEST-2"]);
    assert_eq!(search(&app, q("\"Story Points\": >= 5")).await, ["TEST-3"]);
    assert_eq!(
        search(&app, q("Deadline: empty() Status: !Closed")).await,
        ["TEST-1", "TEST-3"]
    );
    assert_eq!(
        search(&app, q("Deadline: 2026-02-01 OR wheel")).await,
        ["TEST-1", "TEST-2"],
        "an exact part ORed with one checked in memory"
    );
    assert_eq!(
        search(&app, q("Queue: TEST \"Sort by\": \"Story Points\" ASC")).await[0],
        "TEST-3"
    );
    let r = post(
        &app,
        "/v2/issues/_search?perPage=1&page=2",
        ALICE,
        q("Deadline: empty()"),
    )
    .await;
    assert_eq!(r.headers()["x-total-count"], "3");
    assert_eq!(keys_of(r.json()), ["TEST-3"]);
}

async fn link(app: &TestApp, from: &str, relationship: &str, to: &str) {
    let r = post(
        app,
        &format!("/v2/issues/{from}/links"),
        ALICE,
        json!({"relationship": relationship, "issue": to}),
    )
    .await;
    assert_eq!(r.code(), 201, "{}", r.text());
}

async fn relation_filters_follow_links_in_both_directions(app: TestApp) {
    dataset(&app).await;
    link(&app, "TEST-1", "depends on", "TEST-2").await;
    link(&app, "TEST-3", "relates", "TEST-1").await;
    let q = |s: &str| json!({ "query": s });
    assert_eq!(search(&app, q("\"Depends On\": TEST-2")).await, ["TEST-1"]);
    assert_eq!(
        search(&app, q("\"Is Dependent By\": TEST-1")).await,
        ["TEST-2"]
    );
    assert_eq!(search(&app, q("Relates: TEST-3")).await, ["TEST-1"]);
    assert_eq!(search(&app, q("Relates: TEST-1")).await, ["TEST-3"]);
    assert_eq!(
        search(&app, q("\"Linked To\": TEST-1")).await,
        ["TEST-2", "TEST-3"]
    );
    assert_eq!(
        search(&app, q("\"Related To Queue\": TEST")).await,
        ["TEST-1", "TEST-3"]
    );
    assert_eq!(
        search(&app, q("\"Depends On\": empty() Status: !Closed")).await,
        ["TEST-2", "TEST-3"]
    );
    assert_eq!(
        search(&app, q("\"Depends On\": TEST-2 OR Deadline: 2026-02-01")).await,
        ["TEST-1", "TEST-2"],
        "a link condition next to one checked in memory"
    );
}

async fn changed_finds_issues_by_their_history(app: TestApp) {
    dataset(&app).await;
    app.clock.advance(chrono::TimeDelta::days(1));
    let r = post(
        &app,
        "/v2/issues/TEST-2/transitions/start_progress/_execute",
        ALICE,
        json!({}),
    )
    .await;
    assert_eq!(r.code(), 200, "{}", r.text());
    let q = |s: &str| json!({ "query": s });
    assert_eq!(
        search(&app, q("Status: changed(from: Open to: \"In Progress\")")).await,
        ["TEST-2"]
    );
    assert_eq!(
        search(&app, q("Status: changed(to: Closed)")).await,
        ["TEST-4"]
    );
    assert_eq!(
        search(&app, q("Status: changed(from: Open by: alice@)")).await,
        ["TEST-2", "TEST-4"],
        "creation sets the status from nothing, so `from` leaves it out"
    );
    assert!(search(&app, q("Status: changed(by: bob@)"))
        .await
        .is_empty());
    assert!(
        search(&app, q("Status: changed(to: Closed date: 2020-01-01)"))
            .await
            .is_empty()
    );
}

async fn sorting_by_status_and_assignee_uses_display_names(app: TestApp) {
    dataset(&app).await;
    let q = |s: &str| json!({ "query": s });
    // Bob Brown < Alice? By display name: "alice …" < "bob …"; empty last.
    assert_eq!(
        search(&app, q("Queue: TEST \"Sort by\": Assignee ASC")).await,
        ["TEST-2", "TEST-1", "TEST-3", "TEST-4"]
    );
    assert_eq!(
        search(&app, q("Queue: TEST \"Sort by\": Assignee DESC")).await,
        ["TEST-3", "TEST-4", "TEST-1", "TEST-2"]
    );
    // "Closed" < "Open".
    assert_eq!(
        search(&app, q("Queue: TEST \"Sort by\": Status ASC, Key DESC")).await,
        ["TEST-4", "TEST-3", "TEST-2", "TEST-1"]
    );
    assert_eq!(
        search(&app, json!({"queue": "TEST", "order": ["-priority"]})).await,
        ["TEST-3", "TEST-4", "TEST-2", "TEST-1"],
        "Normal, Minor, Critical: by name, as every named field sorts"
    );
}

async fn role_grants_let_a_member_find_only_issues_they_hold_a_role_in(app: TestApp) {
    let r = post(
        &app,
        "/v2/queues",
        ALICE,
        json!({"key": "ROLE", "name": "Roles only", "lead": "alice"}),
    )
    .await;
    assert_eq!(r.code(), 201, "{}", r.text());
    let r = app
        .patch("/v2/queues/ROLE/permissions")
        .json(
            json!({"read": {"users": [], "groups": [], "roles": ["assignee", "follower"]},
                      "create": {"users": [], "groups": [], "roles": []},
                      "write": {"users": [], "groups": [], "roles": []}}),
        )
        .await;
    assert_eq!(r.code(), 200, "{}", r.text());
    app.create_issue(json!({"queue": "ROLE", "summary": "for bob", "assignee": "bob"}))
        .await;
    app.create_issue(json!({"queue": "ROLE", "summary": "watched", "followers": ["bob"]}))
        .await;
    app.create_issue(json!({"queue": "ROLE", "summary": "not bob's"}))
        .await;
    let r = post(
        &app,
        "/v2/issues/_search",
        BOB_RO,
        json!({"query": "Queue: ROLE"}),
    )
    .await;
    assert_eq!(r.code(), 200);
    assert_eq!(r.headers()["x-total-count"], "2");
    assert_eq!(keys_of(r.json()), ["ROLE-1", "ROLE-2"]);
    let r = post(
        &app,
        "/v2/issues/_count",
        BOB_RO,
        json!({"query": "bob OR watched OR not"}),
    )
    .await;
    assert_eq!(r.text(), "2");
}

/// `Followers: x` and `Tags: x` alone are answered from the follower and
/// tag rows, which carry their issue's key order: a move to another queue
/// (a new key) must reach them, or the order and the pages go wrong.
async fn a_followers_or_tags_search_follows_an_issue_moved_to_another_queue(app: TestApp) {
    app.create_queue("DEV", "Dev").await;
    for summary in ["first", "second", "third"] {
        app.create_issue(json!({"queue": "TEST", "summary": summary, "tags": ["Web"],
                                "followers": ["carol"]}))
            .await;
    }
    let r = app.post("/v2/issues/TEST-2/_move?queue=DEV").await;
    assert_eq!(r.code(), 200, "{}", r.text());
    let in_key_order = (vec!["DEV-1", "TEST-1", "TEST-3"], "3".to_owned());
    for q in ["Tags: web", "Tags: WEB", "Followers: carol"] {
        let (keys, total) = answer(&app, q).await;
        assert_eq!(
            (keys.iter().map(String::as_str).collect(), total),
            in_key_order,
            "{q}"
        );
        let r = post(
            &app,
            "/v2/issues/_search?perPage=1&page=2",
            ALICE,
            json!({ "query": q }),
        )
        .await;
        assert_eq!(r.code(), 200, "{}", r.text());
        assert_eq!(keys_of(r.json()), ["TEST-1"], "{q}: the second page");
        assert_eq!(r.headers()["x-total-count"], "3");
        let r = post(&app, "/v2/issues/_count", ALICE, json!({ "query": q })).await;
        assert_eq!(r.text(), "3", "{q}");
    }
    // A follower or tag taken off the moved issue leaves it.
    let r = app
        .patch("/v2/issues/DEV-1")
        .json(json!({"tags": {"remove": ["Web"]}, "followers": {"remove": ["carol"]}}))
        .await;
    assert_eq!(r.code(), 200, "{}", r.text());
    for q in ["Tags: web", "Followers: carol"] {
        assert_eq!(
            answer(&app, q).await,
            (
                vec!["TEST-1".to_owned(), "TEST-3".to_owned()],
                "2".to_owned()
            ),
            "{q}"
        );
    }
}

/// The answer (keys in order) and `X-Total-Count` of a query.
async fn answer(app: &TestApp, query: &str) -> (Vec<String>, String) {
    answer_page(app, query, "perPage=100").await
}

/// [`answer`] for one page (`paging` is the URL's query).
async fn answer_page(app: &TestApp, query: &str, paging: &str) -> (Vec<String>, String) {
    let r = post(
        app,
        &format!("/v2/issues/_search?{paging}"),
        ALICE,
        json!({ "query": query }),
    )
    .await;
    assert_eq!(r.code(), 200, "{query}: {}", r.text());
    let total = r.headers()["x-total-count"].to_str().unwrap().to_owned();
    (keys_of(r.json()), total)
}

/// Every query is answered twice: as SQL, and with a condition on a field
/// without a column (true for every issue) added, which sends the whole
/// query through the in-memory evaluator. Both must give the same issues in
/// the same order.
async fn sql_and_the_in_memory_evaluator_agree_on_the_reference_examples(app: TestApp) {
    let r = post(
        &app,
        "/v2/queues",
        ALICE,
        json!({"key": "DEV", "name": "Development", "lead": "bob"}),
    )
    .await;
    assert_eq!(r.code(), 201, "{}", r.text());
    let today = tracker_domain::Clock::now(&app.clock).date_naive();
    app.create_issue(
        json!({"queue": "TEST", "summary": "Login page is slow", "description": "The wheel spins",
               "assignee": "bob", "priority": "critical", "tags": ["web", "perf"], "type": "bug",
               "followers": ["carol"]}),
    )
    .await;
    app.clock.advance(chrono::TimeDelta::hours(13));
    app.create_issue(
        json!({"queue": "TEST", "summary": "Invent the wheel", "assignee": "alice",
               "priority": "minor", "tags": ["web"],
               "deadline": (today + chrono::TimeDelta::days(2)).to_string()}),
    )
    .await;
    app.clock.advance(chrono::TimeDelta::days(3));
    app.create_issue(
        json!({"queue": "DEV", "summary": "Write docs for Ivan", "followers": ["bob"],
               "storyPoints": 5}),
    )
    .await;
    app.create_issue(
        json!({"queue": "DEV", "summary": "Ошибка входа", "assignee": "carol",
               "priority": "blocker", "type": "bug"}),
    )
    .await;
    app.clock.advance(chrono::TimeDelta::days(40));
    app.create_test_issue("Old task").await;
    app.create_issue(json!({"queue": "DEV", "summary": "Rollback plan", "tags": ["ops"]}))
        .await;
    comment(&app, "DEV-3", "Needs review by Bob").await;
    let r = post(
        &app,
        "/v2/issues/TEST-3/transitions/close/_execute",
        ALICE,
        json!({"resolution": "fixed"}),
    )
    .await;
    assert_eq!(r.code(), 200, "{}", r.text());
    let r = post(
        &app,
        "/v2/issues/TEST-2/transitions/start_progress/_execute",
        ALICE,
        json!({}),
    )
    .await;
    assert_eq!(r.code(), 200, "{}", r.text());
    link(&app, "TEST-1", "depends on", "TEST-2").await;
    link(&app, "DEV-1", "relates", "DEV-3").await;

    let day = |n: i64| (today + chrono::TimeDelta::days(n)).to_string();
    let dated = [
        format!("Created: > \"{}\"", day(0)),
        format!("Created: >= \"{}\"", day(0)),
        format!("Created: < \"{}\"", day(3)),
        format!("Created: <= \"{}\"", day(3)),
        format!("Created: \"{}\"", day(0)),
        format!("Created: \"{}\" .. \"{}\"", day(1), day(3)),
        format!("Updated: < \"{}\" OR Deadline: \"{}\"", day(40), day(2)),
    ];
    let fixed = [
        "Queue: TEST",
        "Queue: \"Development\"",
        "Queue: TEST, DEV \"Sort by\": Created DESC",
        "Description: wheel",
        "Summary: #\"Invent the wheel\"",
        "Summary: #\"Invent ||\"",
        "Summary: !wheel",
        "Summary: ~\"Old task\"",
        "Assignee: bob@",
        "Author: alice",
        "Followers: Carol",
        "Followers: bob, carol",
        "Created: > today() - 2d",
        "Created: < today() - \"1w 1d\"",
        "Status: !Open",
        "Status: Open, \"In Progress\"",
        "Votes: >= 0",
        "Votes: 1 .. 5",
        "Deadline: <= today() + 3d and deadline: >= today()",
        "Assignee: empty()",
        "Assignee: notEmpty() Priority: !Minor",
        "Author: me()",
        "Created: >now()-12h",
        "Created: week()",
        "Created: month()",
        "Resolution: unresolved()",
        "Resolution: Fixed",
        "Status: changed(to: Closed)",
        "Status: changed(from: Open to: \"In Progress\" by: alice@)",
        "Author: me() Resolution: empty()",
        "Followers: me() Resolution: empty()",
        "Queue: TEST AND Status: open OR Priority: critical",
        "Queue: TEST Assignee: me() Status: !Closed \"Sort by\": Updated DESC",
        "Tags: web, ops",
        "Tags: WEB",
        "Tags: ops",
        "Tags: !web",
        "Tags: empty()",
        "Type: Bug \"Sort by\": Priority ASC",
        "wheel",
        "ОШИБКА",
        "review",
        "Comment: bob",
        "\"Comment Author\": alice",
        "\"Depends On\": TEST-2",
        "\"Linked To\": DEV-3 OR \"Is Dependent By\": TEST-1",
        "\"Depends On\": notEmpty()",
        "Key: TEST-1, DEV-2",
        "\"Sort by\": Assignee ASC, Key DESC",
        "\"Sort by\": Status DESC",
        "(Queue: DEV OR Tags: web) Priority: !Blocker \"Sort by\": Summary ASC",
    ];
    let queries: Vec<String> = dated
        .into_iter()
        .chain(fixed.iter().map(|q| (*q).to_owned()))
        .collect();
    let forced = "(Deadline: empty() OR Deadline: notEmpty())";
    let mut nonempty = 0;
    for q in &queries {
        let q = q.as_str();
        let (filter, sort) = match q.find("\"Sort by\"") {
            Some(at) => (&q[..at], &q[at..]),
            None => (q, ""),
        };
        let in_memory = if filter.trim().is_empty() {
            format!("{forced} {sort}")
        } else {
            format!("{forced} ({filter}) {sort}")
        };
        let sql = answer(&app, q).await;
        let memory = answer(&app, &in_memory).await;
        assert_eq!(sql, memory, "{q}");
        if !sql.0.is_empty() && sql.0.len() < 6 {
            nonempty += 1;
        }
    }
    assert!(
        nonempty >= queries.len() * 3 / 4,
        "only {nonempty} of {} queries select something (not everything): the dataset should exercise them",
        queries.len()
    );
}

async fn bobs_count(app: &TestApp) -> String {
    post(
        app,
        "/v2/issues/_count",
        BOB_RO,
        json!({"query": "Queue: PRIV"}),
    )
    .await
    .text()
    .to_owned()
}

/// Searches keep the queues' grants and the members they read, per node,
/// while nothing is committed: a grant or a name changed through another
/// node (or behind the server's back) is seen by the very next search.
async fn a_search_sees_grants_and_names_changed_on_another_node_since_the_last_search(
    app: TestApp,
) {
    private_queue(&app).await;
    app.create_issue(json!({"queue": "PRIV", "summary": "secret", "assignee": "alice"}))
        .await;
    // Twice: the second search is answered with what the first kept.
    for _ in 0..2 {
        assert_eq!(bobs_count(&app).await, "0");
    }
    let other = app.another_node().await;
    other
        .patch("/v2/queues/PRIV/permissions")
        .json(json!({"read": {"users": {"add": ["bob"]}}}))
        .await
        .status(200);
    assert_eq!(
        bobs_count(&app).await,
        "1",
        "the grant made on the other node"
    );

    let by_name = json!({"query": "Assignee: \"Alicia Archer\""});
    assert!(
        search(&app, by_name.clone()).await.is_empty(),
        "no one has that name yet"
    );
    assert_eq!(
        search(&app, json!({"query": "Assignee: alice"})).await,
        ["PRIV-1"]
    );
    crate::rename_in_store(&other, "alice", "Alicia").await;
    assert_eq!(search(&app, by_name).await, ["PRIV-1"], "the new name");
}

/// `_count` of `Queue: TEST` and `Queue: DEV`, and the total of a `_search`
/// whose body names the queue TEST.
async fn queue_counts(app: &TestApp) -> Vec<String> {
    let mut out = Vec::new();
    for q in ["Queue: TEST", "Queue: DEV"] {
        let r = post(app, "/v2/issues/_count", ALICE, json!({ "query": q })).await;
        assert_eq!(r.code(), 200, "{}", r.text());
        out.push(r.text().to_owned());
    }
    let r = post(
        app,
        "/v2/issues/_search?perPage=1",
        ALICE,
        json!({"queue": "TEST"}),
    )
    .await;
    assert_eq!(r.code(), 200, "{}", r.text());
    out.push(r.headers()["x-total-count"].to_str().unwrap().to_owned());
    out
}

/// `Queue: X` alone is counted from the count its issues' triggers keep:
/// creates sharing a transaction, moves both ways and another
/// organization's queue of the same key leave it exact.
async fn a_queue_count_follows_creates_together_moves_and_another_organization(app: TestApp) {
    app.create_queue("DEV", "Dev").await;
    let creates = (0..12).map(|n| {
        app.create_issue(json!({"queue": if n % 3 == 0 { "DEV" } else { "TEST" },
                                "summary": format!("together {n}")}))
    });
    futures_util::future::join_all(creates).await;
    assert_eq!(queue_counts(&app).await, ["8", "4", "8"]);
    for (key, to) in [("TEST-1", "DEV"), ("TEST-2", "DEV"), ("DEV-1", "TEST")] {
        let r = app
            .post(&format!("/v2/issues/{key}/_move?queue={to}"))
            .await;
        assert_eq!(r.code(), 200, "{}", r.text());
    }
    assert_eq!(queue_counts(&app).await, ["7", "5", "7"]);
    // The same counts as a test no count is kept for finds.
    let r = post(
        &app,
        "/v2/issues/_count",
        ALICE,
        json!({"query": "Queue: DEV Summary: together"}),
    )
    .await;
    assert_eq!(r.text(), "5");
    // Another organization's queue named TEST holds none of these.
    other_test_queue(&app).await;
    let r = as_other(&app, "/v2/issues/_count", json!({"query": "Queue: TEST"})).await;
    assert_eq!((r.code(), r.text()), (200, "0"), "{}", r.text());
    assert_eq!(queue_counts(&app).await, ["7", "5", "7"]);
}

/// Each query's `_count`, its first page's `X-Total-Count` and its SQL page
/// against the in-memory evaluator's answer to the same query (a condition
/// on a field without a column, true of every issue, sends it there).
async fn assert_counts_agree(app: &TestApp, step: &str, queries: &[&str]) {
    let forced = "(Deadline: empty() OR Deadline: notEmpty())";
    for q in queries {
        let r = post(app, "/v2/issues/_count", ALICE, json!({ "query": q })).await;
        assert_eq!(r.code(), 200, "{}", r.text());
        let (keys, total) = answer(app, &format!("{forced} ({q})")).await;
        assert_eq!(r.text(), keys.len().to_string(), "{step}: {q}");
        assert_eq!(total, keys.len().to_string(), "{step}: {q}");
        let (sql_keys, sql_total) = answer(app, q).await;
        assert_eq!((sql_keys, sql_total), (keys, total), "{step}: {q}");
    }
}

/// Counts of queue, status, priority and type alone (the kept combination
/// counts) against the in-memory evaluator's.
async fn assert_combination_counts(app: &TestApp, step: &str) {
    let queries = [
        "Status: open",
        "Status: !closed",
        "Queue: TEST Status: open",
        "Queue: DEV OR Priority: minor",
        "Priority: critical, blocker Type: bug",
        "Type: !bug Status: !\"In Progress\"",
    ];
    assert_counts_agree(app, step, &queries).await;
}

/// Counts of queue, status, priority and type alone are sums of the counts
/// the issues' triggers keep per combination: every write that changes an
/// issue's combination moves one count down and another up, and another
/// organization's issues are in none of them.
async fn a_kept_combination_count_follows_creates_transitions_edits_moves_and_imports(
    app: TestApp,
) {
    app.create_queue("DEV", "Dev").await;
    let creates = (0..12).map(|n| {
        let priority = ["critical", "blocker", "minor", "normal"][n % 4];
        app.create_issue(json!({
            "queue": if n % 3 == 0 { "DEV" } else { "TEST" },
            "summary": format!("combination {n}"),
            "priority": priority,
            "type": if n % 2 == 0 { "bug" } else { "task" },
        }))
    });
    futures_util::future::join_all(creates).await;
    assert_combination_counts(&app, "creates together").await;
    assert_eq!(
        post(
            &app,
            "/v2/issues/_count",
            ALICE,
            json!({"query": "Status: open"})
        )
        .await
        .text(),
        "12"
    );
    for (key, transition) in [
        ("TEST-1", "start_progress"),
        ("TEST-2", "close"),
        ("DEV-1", "close"),
    ] {
        let r = post(
            &app,
            &format!("/v2/issues/{key}/transitions/{transition}/_execute"),
            ALICE,
            if transition == "close" {
                json!({"resolution": "fixed"})
            } else {
                json!({})
            },
        )
        .await;
        assert_eq!(r.code(), 200, "{}", r.text());
    }
    assert_combination_counts(&app, "transitions").await;
    let r = app
        .patch("/v2/issues/TEST-3")
        .json(json!({"priority": "blocker", "type": "bug"}))
        .await;
    assert_eq!(r.code(), 200, "{}", r.text());
    // An edit that changes no combination leaves the counts as they are.
    let r = app
        .patch("/v2/issues/TEST-4")
        .json(json!({"summary": "renamed"}))
        .await;
    assert_eq!(r.code(), 200, "{}", r.text());
    assert_combination_counts(&app, "edits").await;
    for (key, to) in [("TEST-1", "DEV"), ("DEV-2", "TEST")] {
        let r = app
            .post(&format!("/v2/issues/{key}/_move?queue={to}"))
            .await;
        assert_eq!(r.code(), 200, "{}", r.text());
    }
    assert_combination_counts(&app, "moves").await;
    let r = app
        .post("/v2/issues/_import")
        .json(
            json!({"queue": "DEV", "summary": "imported", "priority": "critical",
                     "type": "bug", "createdAt": "2017-08-29T12:34:41.740+0000",
                     "createdBy": "alice"}),
        )
        .await;
    assert_eq!(r.code(), 200, "{}", r.text());
    assert_combination_counts(&app, "import").await;
    // Another organization's issue of the same combination counts only there.
    other_test_queue(&app).await;
    let theirs =
        json!({"queue": "TEST", "summary": "theirs", "priority": "critical", "type": "bug"});
    let r = as_other(&app, "/v2/issues", theirs).await;
    assert_eq!(r.code(), 201, "{}", r.text());
    let query = json!({"query": "Priority: critical, blocker Type: bug"});
    let r = as_other(&app, "/v2/issues/_count", query).await;
    assert_eq!((r.code(), r.text()), (200, "1"), "{}", r.text());
    assert_combination_counts(&app, "another organization").await;
}

/// Ranges of creation and update dates alone (the kept day counts) against
/// the in-memory evaluator's: whole UTC days, partial days on either side,
/// bounds at midnight included or not.
async fn assert_day_counts(app: &TestApp, step: &str) {
    let queries = [
        "Created: >= \"2026-01-16\"",
        "Created: > \"2026-01-16\"",
        "Created: < \"2026-01-17\"",
        "Created: <= \"2026-01-17\"",
        "Created: \"2026-01-17\"",
        "Created: \"2026-01-15\" .. \"2026-01-17\"",
        "Created: >= \"2026-01-16 12:00:00\"",
        "Created: < \"2026-01-17 00:00:00\"",
        "Created: <= \"2026-01-17 00:00:00\"",
        "Created: >= \"2026-01-16\" Created: < \"2026-01-18 06:00:00\"",
        "Created: >= now() - 3d",
        "Created: < \"2017-08-30\"",
        "Updated: >= \"2026-01-17\"",
        "Updated: < \"2026-01-17\"",
        "Updated: today() - 2d .. today()",
        "Updated: \"2026-01-20\"",
        "Updated: < \"2017-09-02\"",
    ];
    assert_counts_agree(app, step, &queries).await;
    // Pages of two issues of a creation range (on PostgreSQL walked a queue
    // at a time, in the order of the queues' keys) are the in-memory
    // evaluator's order cut in pieces, across queues and moves.
    let forced = "(Deadline: empty() OR Deadline: notEmpty())";
    for q in [
        "Created: >= \"2026-01-15\"",
        "Created: > \"2017-01-01\" Created: < \"2026-01-18\"",
    ] {
        let (all, _) = answer(app, &format!("{forced} ({q})")).await;
        assert!(all.len() > 4, "{step}: {q}: {all:?}");
        for (n, expected) in all.chunks(2).enumerate() {
            let paging = format!("perPage=2&page={}", n + 1);
            let (keys, total) = answer_page(app, q, &paging).await;
            assert_eq!(keys, expected, "{step}: {q}, {paging}");
            assert_eq!(total, all.len().to_string(), "{step}: {q}, {paging}");
        }
    }
}

/// Counts of a range of creation or update dates alone sum the counts the
/// issues' triggers keep per day (on PostgreSQL partly as changes not yet
/// folded into them): a create counts on its day, an edit moves its issue's
/// update day, an edit on the same day moves nothing, and another
/// organization's issues are in none of them.
async fn a_kept_day_count_follows_creates_imports_edits_moves_and_another_organization(
    app: TestApp,
) {
    use chrono::{TimeZone, Utc};
    let at = |d: u32, h: u32, m: u32, s: u32, ms: i64| {
        Utc.with_ymd_and_hms(2026, 1, d, h, m, s).unwrap() + chrono::Duration::milliseconds(ms)
    };
    app.create_queue("DEV", "Dev").await;
    app.create_queue("ALPHA", "Alpha").await;
    for (n, when) in [
        at(15, 12, 0, 0, 0),
        at(15, 23, 59, 59, 999),
        at(16, 0, 0, 0, 0),
        at(16, 12, 0, 0, 0),
        at(16, 18, 30, 0, 0),
        at(17, 0, 0, 0, 0),
        at(17, 9, 0, 0, 0),
        at(18, 5, 0, 0, 0),
        at(18, 7, 0, 0, 0),
    ]
    .into_iter()
    .enumerate()
    {
        app.clock.set(when);
        let queue = ["DEV", "TEST", "ALPHA", "TEST"][n % 4];
        app.create_issue(json!({"queue": queue,
                                "summary": format!("day {n}")}))
            .await;
    }
    assert_day_counts(&app, "creates").await;
    let r = app
        .post("/v2/issues/_import")
        .json(json!({"queue": "DEV", "summary": "imported",
                     "createdAt": "2017-08-29T12:34:41.740+0000", "createdBy": "alice",
                     "updatedAt": "2017-09-01T00:00:00.000+0000", "updatedBy": "alice"}))
        .await;
    assert_eq!(r.code(), 200, "{}", r.text());
    assert_day_counts(&app, "import").await;
    app.clock.set(at(20, 10, 0, 0, 0));
    for summary in ["edited", "edited again the same day"] {
        let r = app
            .patch("/v2/issues/TEST-1")
            .json(json!({ "summary": summary }))
            .await;
        assert_eq!(r.code(), 200, "{}", r.text());
    }
    let r = app.post("/v2/issues/DEV-1/_move?queue=TEST").await;
    assert_eq!(r.code(), 200, "{}", r.text());
    assert_day_counts(&app, "edits and a move").await;
    other_test_queue(&app).await;
    let r = as_other(
        &app,
        "/v2/issues",
        json!({"queue": "TEST", "summary": "theirs"}),
    )
    .await;
    assert_eq!(r.code(), 201, "{}", r.text());
    let query = json!({"query": "Created: >= \"2026-01-20\""});
    let r = as_other(&app, "/v2/issues/_count", query).await;
    assert_eq!((r.code(), r.text()), (200, "1"), "{}", r.text());
    assert_day_counts(&app, "another organization").await;
    // Folded or not, the counts are the same; two nodes folding at once
    // fold each change once.
    app.clock.set(at(21, 8, 0, 0, 0));
    let r = app
        .patch("/v2/issues/TEST-2")
        .json(json!({"summary": "edited on another day"}))
        .await;
    assert_eq!(r.code(), 200, "{}", r.text());
    // Fewer changes than asked for wait: nothing is folded (a fold is a
    // write, which empties every kept answer).
    assert_eq!(
        app.state.store.fold_kept_counts(1_000_000).await.unwrap(),
        0
    );
    let other = app.another_node().await;
    let (here, there) = tokio::join!(
        app.state.store.fold_kept_counts(1),
        other.state.store.fold_kept_counts(1)
    );
    let folded = here.unwrap() + there.unwrap();
    // PostgreSQL's writers appended their changes; SQLite's wrote them in
    // place.
    assert_eq!(folded > 0, app.dsn.starts_with("postgres"), "{folded}");
    assert_eq!(app.state.store.fold_kept_counts(1).await.unwrap(), 0);
    assert_day_counts(&app, "folded").await;
    assert_day_counts(&other, "folded, on the other node").await;
}

/// A range of updates holding most of the organization's issues is walked
/// in key order on SQLite (its date index sorted otherwise), a small one
/// sorted; both must page exactly as the in-memory evaluator does.
async fn a_range_of_updates_holding_most_issues_is_paged_in_key_order(app: TestApp) {
    app.create_queue("DEV", "Dev").await;
    for round in 0..5 {
        let creates = (0..40).map(|n| {
            app.create_issue(json!({"queue": if n % 3 == 0 { "TEST" } else { "DEV" },
                                    "summary": format!("dense {round} {n}")}))
        });
        futures_util::future::join_all(creates).await;
    }
    app.clock.advance(chrono::TimeDelta::days(10));
    for key in ["TEST-2", "DEV-7", "DEV-30"] {
        let r = app
            .patch(&format!("/v2/issues/{key}"))
            .json(json!({"summary": "touched"}))
            .await;
        assert_eq!(r.code(), 200, "{}", r.text());
    }
    let forced = "(Deadline: empty() OR Deadline: notEmpty())";
    let today = tracker_domain::Clock::now(&app.clock).date_naive();
    let day = |n: i64| (today + chrono::TimeDelta::days(n)).to_string();
    for (q, want) in [
        (format!("Updated: < \"{}\"", day(-1)), 197),
        (format!("Updated: \"{}\" .. \"{}\"", day(-12), day(-5)), 197),
        (format!("Updated: >= \"{}\"", day(0)), 3),
    ] {
        for page in 1..=3 {
            let paging = format!("perPage=80&page={page}");
            let sql = answer_page(&app, &q, &paging).await;
            assert_eq!(sql.1, want.to_string(), "{q}");
            let memory = answer_page(&app, &format!("{forced} ({q})"), &paging).await;
            assert_eq!(sql, memory, "{q}, page {page}");
        }
    }
}

/// `_count` and `X-Total-Count` of words against the in-memory evaluator's
/// count of the same query.
async fn assert_word_counts(app: &TestApp, want: &[(&str, usize)]) {
    let forced = "(Deadline: empty() OR Deadline: notEmpty())";
    for (q, n) in want {
        let r = post(app, "/v2/issues/_count", ALICE, json!({ "query": q })).await;
        assert_eq!((r.code(), r.text()), (200, n.to_string().as_str()), "{q}");
        let (keys, total) = answer(app, q).await;
        assert_eq!((keys.len(), total), (*n, n.to_string()), "{q}");
        assert_eq!(answer(app, &format!("{forced} ({q})")).await.0, keys, "{q}");
    }
}

/// On SQLite, words alone are counted by FTS5 alone while no other
/// organization holds an issue, and each match is checked for its
/// organization once one does: the counts must not tell the two apart.
async fn words_are_counted_alike_whether_or_not_another_organization_holds_issues(app: TestApp) {
    for summary in [
        "Resize the wheel",
        "Resizing logs",
        "Wheel of time",
        "Other",
    ] {
        app.create_issue(json!({"queue": "TEST", "summary": summary, "description": "resize"}))
            .await;
    }
    let want = [
        ("resiz", 4),
        ("Summary: resiz", 2),
        ("wheel", 2),
        ("Summary: \"wheel resize\"", 1),
        ("nothing", 0),
    ];
    assert_word_counts(&app, &want).await;
    other_test_queue(&app).await;
    for summary in ["Resize theirs", "Their wheel"] {
        let theirs = json!({"queue": "TEST", "summary": summary, "description": "resize"});
        let r = as_other(&app, "/v2/issues", theirs).await;
        assert_eq!(r.code(), 201, "{}", r.text());
    }
    assert_word_counts(&app, &want).await;
    let r = as_other(&app, "/v2/issues/_count", json!({"query": "resiz"})).await;
    assert_eq!((r.code(), r.text()), (200, "2"), "{}", r.text());
}

/// Pages of issues are written from documents that serialize themselves,
/// single issues from the `Value` of the same documents: the two must not
/// drift apart, down to the order of keys.
async fn a_found_issue_is_written_byte_for_byte_as_its_own_answer(app: TestApp) {
    let c = app
        .post("/v2/components")
        .json(json!({"queue": "TEST", "name": "Backend"}))
        .await
        .status(201)
        .json::<Value>();
    let v = app
        .post("/v2/versions")
        .json(json!({"queue": "TEST", "name": "1.0"}))
        .await
        .status(201)
        .json::<Value>();
    app.create_issue(json!({"queue": "TEST", "summary": "Parent"}))
        .await;
    app.create_issue(json!({
        "queue": "TEST",
        "summary": "Child \"quoted\" ✓",
        "description": "Line one\nline two",
        "parent": "TEST-1",
        "assignee": "bob",
        "followers": ["bob", "alice"],
        "tags": ["b", "a"],
        "components": [c["id"]],
        "fixVersions": [v["id"]],
        "priority": "critical",
        "type": "bug",
    }))
    .await;
    app.post("/v2/issues/TEST-2/checklistItems")
        .json(json!({"text": "check", "checked": true}))
        .await
        .status(200);
    app.post("/v2/issues/TEST-2/transitions/start_progress/_execute")
        .json(json!({}))
        .await
        .status(200);
    app.post("/v2/issues/TEST-2/transitions/resolve/_execute")
        .json(json!({"resolution": "fixed"}))
        .await
        .status(200);
    for query in ["", "?expand=transitions", "?fields=summary,tags,queue"] {
        let own = app
            .get(&format!("/v2/issues/TEST-2{query}"))
            .await
            .status(200);
        let own = own.text();
        let sep = if query.is_empty() { "?" } else { "&" };
        for page in ["", "perPage=1&page=1", "scrollType=sorted&perScroll=1"] {
            let path = format!("/v2/issues/_search{query}{sep}{page}");
            let body = json!({"filter": {"queue": "TEST", "type": "bug"}});
            let r = post(&app, &path, ALICE, body).await;
            assert_eq!(r.code(), 200, "{path}: {}", r.text());
            assert_eq!(r.text(), format!("[{own}]"), "{path}");
        }
    }
    // What the comparison covers is there.
    let v: Value = app.read("/v2/issues/TEST-2").await;
    for field in [
        "parent",
        "followers",
        "components",
        "fixVersions",
        "checklistItems",
        "resolution",
        "previousStatus",
        "resolvedAt",
    ] {
        assert!(v.get(field).is_some(), "{field}: {v}");
    }
}

/// Each answer (keys in key order and total, and the count) of words,
/// against the in-memory evaluator's; PostgreSQL keeps a row per issue and
/// word, under the issue's key, which every write of text or key rewrites.
async fn assert_words_agree(app: &TestApp, step: &str, want: &[(&str, &[&str])]) {
    let forced = "(Deadline: empty() OR Deadline: notEmpty())";
    for (q, keys) in want {
        let want = (
            keys.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>(),
            keys.len().to_string(),
        );
        assert_eq!(answer(app, q).await, want, "{step}: {q}");
        assert_eq!(
            answer(app, &format!("{forced} ({q})")).await,
            want,
            "{step}: {q} in memory"
        );
        let r = post(app, "/v2/issues/_count", ALICE, json!({ "query": q })).await;
        assert_eq!(r.text(), want.1, "{step}: {q} counted");
        if keys.len() > 1 {
            let (page, total) = answer_page(app, q, "perPage=1&page=2").await;
            assert_eq!(
                (page, total),
                (vec![want.0[1].clone()], want.1),
                "{step}: {q} page 2"
            );
        }
    }
}

async fn words_follow_their_issue_through_edits_comments_and_moves(app: TestApp) {
    app.create_queue("DEV", "Dev").await;
    for (summary, description) in [
        ("Resize the wheel", "It spins"),
        ("Logs", "Resizing wheels"),
        ("Other", "nothing"),
    ] {
        app.create_issue(json!({"queue": "TEST", "summary": summary, "description": description}))
            .await;
    }
    assert_words_agree(
        &app,
        "created",
        &[
            ("resiz", &["TEST-1", "TEST-2"]),
            ("Summary: resiz", &["TEST-1"]),
            ("Description: wheel", &["TEST-2"]),
            ("wheel resiz", &["TEST-1", "TEST-2"]),
            ("Summary: \"wheel resize\"", &["TEST-1"]),
            ("spin", &["TEST-1"]),
        ],
    )
    .await;

    // A word that leaves the summary, one that comes, one that moves from
    // the description to the summary.
    for (key, patch) in [
        ("TEST-1", json!({"summary": "Nothing here"})),
        (
            "TEST-3",
            json!({"summary": "Wheel resized", "description": "Other"}),
        ),
        (
            "TEST-2",
            json!({"summary": "Resizing", "description": "logs"}),
        ),
    ] {
        let r = app.patch(&format!("/v2/issues/{key}")).json(patch).await;
        assert_eq!(r.code(), 200, "{}", r.text());
    }
    let comment = app.comment("TEST-3", "It spins faster").await;
    assert_words_agree(
        &app,
        "edited",
        &[
            ("resiz", &["TEST-2", "TEST-3"]),
            ("Summary: resiz", &["TEST-2", "TEST-3"]),
            ("Description: wheel", &[]),
            ("wheel", &["TEST-3"]),
            ("spin", &["TEST-1", "TEST-3"]),
            ("Comments: spin", &["TEST-3"]),
            ("Description: spin", &["TEST-1"]),
            ("nothing", &["TEST-1"]),
        ],
    )
    .await;

    // The moved issue's words go with its new key, and sort by it.
    let r = app.post("/v2/issues/TEST-3/_move?queue=DEV").await;
    assert_eq!(r.code(), 200, "{}", r.text());
    let path = format!("/v2/issues/DEV-1/comments/{}", comment["id"]);
    let r = app.patch(&path).json(json!({"text": "It rotates"})).await;
    assert_eq!(r.code(), 200, "{}", r.text());
    assert_words_agree(
        &app,
        "moved",
        &[
            ("resiz", &["DEV-1", "TEST-2"]),
            ("Summary: wheel", &["DEV-1"]),
            ("spin", &["TEST-1"]),
            ("Comments: rotat", &["DEV-1"]),
        ],
    )
    .await;
    let r = app.delete(&path).await;
    assert_eq!(r.code(), 204, "{}", r.text());
    let r = app
        .patch("/v2/issues/DEV-1")
        .json(json!({"summary": "Spinning wheel"}))
        .await;
    assert_eq!(r.code(), 200, "{}", r.text());
    assert_words_agree(
        &app,
        "edited after the move",
        &[
            ("resiz", &["TEST-2"]),
            ("spin", &["DEV-1", "TEST-1"]),
            ("rotat", &[]),
            ("wheel spin", &["DEV-1"]),
        ],
    )
    .await;

    // A prefix beginning more words than PostgreSQL expands one to (16) is
    // read as its range; one beginning none finds nothing beside any other.
    let many: Vec<String> = ('a'..='q').map(|c| format!("val{c}")).collect();
    app.create_issue(json!({"queue": "TEST", "summary": many.join(" "),
                            "description": "Spinning"}))
        .await;
    assert_words_agree(
        &app,
        "a prefix of many words",
        &[
            ("val", &["TEST-4"]),
            ("spin val", &["TEST-4"]),
            ("Summary: valq", &["TEST-4"]),
            ("spin zzz", &[]),
            ("spin", &["DEV-1", "TEST-1", "TEST-4"]),
        ],
    )
    .await;
}
