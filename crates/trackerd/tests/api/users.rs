//! `GET /v2/users` and `GET /v2/users/{uid or login}`.

use std::collections::HashSet;

use trackerd::ops::{put_user, UserSpec};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    users_are_listed_page_by_page_with_totals_and_links,
    following_next_links_visits_every_member_once,
    users_from_other_organizations_never_appear,
    a_user_is_found_by_uid_and_by_login,
    a_user_of_another_organization_is_not_found,
    bad_paging_parameters_answer_400,
);

async fn add_members(app: &TestApp, n: usize) {
    let org = app
        .state
        .store
        .organization_by_org_id(ACME)
        .await
        .unwrap()
        .unwrap();
    for i in 0..n {
        let spec = UserSpec {
            login: format!("user{i:03}"),
            first_name: format!("User {i}"),
            last_name: String::new(),
            email: String::new(),
            admin: false,
            password: None,
        };
        put_user(app.state.store.as_ref(), &app.clock, &org, &spec)
            .await
            .unwrap();
    }
}

async fn users_are_listed_page_by_page_with_totals_and_links(app: TestApp) {
    add_members(&app, 5).await; // 5 seeded + 5 = 10
    let r = app.get("/v2/users?perPage=4&page=2").await.status(200);
    let link = r.paged("10", "3");
    for (query, rel) in [
        ("perPage=4&page=3", "next"),
        ("perPage=4&page=1", "prev"),
        ("perPage=4{&page}", "seek"),
    ] {
        let want = format!("<{}/v2/users?{query}>; rel=\"{rel}\"", app.base);
        assert!(link.contains(&want), "no {rel} link in {link}");
    }
    let page: Vec<serde_json::Value> = r.json();
    assert_eq!(page.len(), 4);

    let last: Vec<serde_json::Value> = app.read("/v2/users?perPage=4&page=3").await;
    assert_eq!(last.len(), 2);
    let beyond: Vec<serde_json::Value> = app.read("/v2/users?perPage=4&page=9").await;
    assert!(beyond.is_empty());
}

async fn following_next_links_visits_every_member_once(app: TestApp) {
    add_members(&app, 118).await; // 5 seeded + 118 = 123
    let mut path = "/v2/users/".to_owned();
    let mut logins = Vec::new();
    let mut pages = 0;
    loop {
        let r = app.get(&path).await.status(200);
        assert_eq!(r.header("x-total-count"), "123");
        let next = r
            .header("link")
            .split(", ")
            .find(|l| l.ends_with("rel=\"next\""))
            .map(|l| l[1..l.find('>').unwrap()].to_owned());
        let page: Vec<serde_json::Value> = r.json();
        logins.extend(page.iter().map(|u| u["login"].as_str().unwrap().to_owned()));
        pages += 1;
        match next {
            // The link is absolute, on the server's own address.
            Some(n) => path = n.strip_prefix(&app.base).expect(&n).to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(logins.len(), 123);
    assert_eq!(logins.iter().collect::<HashSet<_>>().len(), 123);
}

async fn users_from_other_organizations_never_appear(app: TestApp) {
    let users: Vec<serde_json::Value> = app.read("/v2/users").await;
    let logins: HashSet<_> = users.iter().map(|u| u["login"].as_str().unwrap()).collect();
    assert_eq!(logins, HashSet::from(ACME_LOGINS));
}

async fn a_user_is_found_by_uid_and_by_login(app: TestApp) {
    let bob: serde_json::Value = app.read("/v2/users/bob").await;
    assert_eq!(bob["login"], "bob");
    assert_eq!(bob["display"], "Bob Baker");
    let uid = bob["uid"].as_i64().unwrap();
    let again: serde_json::Value = app.read(&format!("/v2/users/{uid}")).await;
    assert_eq!(again, bob);
    app.get("/v2/users/BOB").await.status(200);
}

async fn a_user_of_another_organization_is_not_found(app: TestApp) {
    app.get("/v2/users/mallory").await.error(404);
    let mallory = app.get("/v2/users/mallory").token(MALLORY).org(OTHER);
    let mallory: serde_json::Value = mallory.await.json();
    let uid = mallory["uid"].as_i64().unwrap();
    app.get(&format!("/v2/users/{uid}")).await.error(404);
    app.get("/v2/users/nobody").await.error(404);
}

async fn bad_paging_parameters_answer_400(app: TestApp) {
    app.get("/v2/users?perPage=abc").await.error(400);
    app.get("/v2/users?page=0").await.error(400);
}
