//! The node's own routes: `/metrics`, `/readyz`, `/openapi.json`.

use std::collections::{BTreeMap, BTreeSet};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    metrics_count_requests_by_route_and_status,
    metrics_report_the_database_pool_and_the_auth_cache,
    readiness_answers_200_with_a_database_and_503_without,
    the_openapi_document_lists_every_routed_endpoint_and_nothing_else,
);

/// The samples of `name` in a Prometheus text answer, by their labels.
fn samples(text: &str, name: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, labels) = match series.split_once('{') {
                Some((m, rest)) => (m, rest.strip_suffix('}')?),
                None => (series, ""),
            };
            if metric != name {
                return None;
            }
            let labels = labels
                .split(',')
                .filter(|l| !l.is_empty())
                .filter_map(|l| {
                    let (k, v) = l.split_once('=')?;
                    Some((k.to_owned(), v.trim_matches('"').to_owned()))
                })
                .collect();
            Some((labels, value.parse().ok()?))
        })
        .collect()
}

/// The value of `name` whose labels include `want` (0 when none).
fn value(text: &str, name: &str, want: &[(&str, &str)]) -> f64 {
    samples(text, name)
        .into_iter()
        .filter(|(labels, _)| {
            want.iter()
                .all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, v)| v)
        .sum()
}

async fn scrape(app: &TestApp) -> String {
    let r = app.get("/metrics").anonymous().await.status(200);
    assert!(r.header("content-type").starts_with("text/plain"));
    r.text().to_owned()
}

async fn metrics_count_requests_by_route_and_status(app: TestApp) {
    let before = scrape(&app).await;
    let myself = [
        ("route", "/v2/myself"),
        ("status", "200"),
        ("method", "GET"),
    ];
    assert_eq!(value(&before, "trackerd_http_requests_total", &myself), 0.0);
    for _ in 0..3 {
        assert_eq!(app.get_as("/v2/myself", ALICE).await.status(), 200);
    }
    // Two different issues: one series, the route's pattern.
    for key in ["NOPE-1", "NOPE-2"] {
        let r = app.get_as(&format!("/v3/issues/{key}"), ALICE).await;
        assert_eq!(r.status(), 404);
    }
    app.get("/v2/myself").anonymous().await.status(401);
    app.get("/no/such/path/123").anonymous().await.status(404);

    let after = scrape(&app).await;
    let count = |labels: &[(&str, &str)]| value(&after, "trackerd_http_requests_total", labels);
    assert_eq!(count(&myself), 3.0, "{after}");
    assert_eq!(
        count(&[("route", "/v3/issues/{key}"), ("status", "404")]),
        2.0
    );
    assert_eq!(count(&[("route", "/v2/myself"), ("status", "401")]), 1.0);
    assert_eq!(count(&[("route", "unmatched"), ("status", "404")]), 1.0);
    // The first scrape is counted too, once answered.
    assert_eq!(count(&[("route", "/metrics"), ("status", "200")]), 1.0);
    assert!(
        !after.contains("NOPE-1"),
        "raw paths must not become labels"
    );
    let timed = value(
        &after,
        "trackerd_http_request_duration_seconds_count",
        &[("route", "/v2/myself")],
    );
    assert_eq!(timed, 4.0, "three answered, one refused: all timed");
    assert!(
        value(
            &after,
            "trackerd_http_request_duration_seconds_bucket",
            &[("route", "/v2/myself"), ("le", "+Inf")],
        ) >= 4.0
    );
}

async fn metrics_report_the_database_pool_and_the_auth_cache(app: TestApp) {
    for _ in 0..3 {
        assert_eq!(app.get_as("/v2/myself", ALICE).await.status(), 200);
    }
    let text = scrape(&app).await;
    let pool = |state| value(&text, "trackerd_db_pool_connections", &[("state", state)]);
    assert!(pool("max") >= 1.0, "{text}");
    assert!(pool("idle") + pool("in_use") >= 1.0, "{text}");
    let cache = |cache, result| {
        value(
            &text,
            "trackerd_auth_cache_lookups_total",
            &[("cache", cache), ("result", result)],
        )
    };
    // The first request reads the token from the store, the next two from
    // the cache.
    assert!(cache("tokens", "miss") >= 1.0, "{text}");
    assert!(cache("tokens", "hit") >= 2.0, "{text}");
    assert!(cache("organizations", "hit") >= 2.0, "{text}");
}

async fn readiness_answers_200_with_a_database_and_503_without(app: TestApp) {
    let ready = || async {
        app.request(reqwest::Method::GET, "/readyz")
            .send()
            .await
            .unwrap()
    };
    let r = ready().await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    match app.backend() {
        Backend::Postgres => {
            // The database refuses new connections and ends the node's:
            // what a server going down looks like to the node.
            let name = url::Url::parse(&app.dsn).unwrap().path()[1..].to_owned();
            let admin = postgres_url().unwrap();
            let pg = sqlx::PgPool::connect(&admin).await.unwrap();
            let refuse = format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false");
            sqlx::query(&refuse).execute(&pg).await.unwrap();
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            )
            .bind(&name)
            .execute(&pg)
            .await
            .unwrap();
            envelope(ready().await, 503).await;
            // Back: the node is ready again without a restart.
            let allow = format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true");
            sqlx::query(&allow).execute(&pg).await.unwrap();
            assert_eq!(ready().await.status(), 200);
        }
        Backend::Sqlite => {
            // An embedded database cannot go away under its process; its
            // pool can: closed, it answers nothing more.
            app.state.store.close().await;
            envelope(ready().await, 503).await;
        }
    }
    // Liveness is the process's, not the database's.
    app.get("/_trackerd/health").anonymous().await.status(200);
}

async fn the_openapi_document_lists_every_routed_endpoint_and_nothing_else(app: TestApp) {
    let doc: serde_json::Value = app
        .call(reqwest::Method::GET, "/openapi.json")
        .anonymous()
        .await
        .status(200)
        .json();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method == "x-trackerd-methods" {
                for (method, _) in op.as_object().unwrap() {
                    documented.insert((method.to_uppercase(), path.clone()));
                }
            } else {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let mut routed = BTreeSet::new();
    for ep in trackerd::router::endpoints() {
        for path in ep.paths() {
            routed.insert((ep.method.to_string(), path));
        }
    }
    for route in trackerd::router::routes() {
        routed.insert((route.op.method.to_string(), route.op.path));
    }
    for (method, path) in trackerd::control::ROUTES {
        routed.insert((method.to_string(), (*path).to_owned()));
    }
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(missing.is_empty(), "routed, not documented: {missing:?}");
    assert!(extra.is_empty(), "documented, not routed: {extra:?}");
    // Both API versions, and the table's scope as the operation's role.
    let get_issue = &doc["paths"]["/v3/issues/{key}"]["patch"];
    assert_eq!(get_issue["security"][0]["OAuthToken"][0], "tracker:write");
    assert_eq!(get_issue["parameters"][0]["name"], "key");
    assert!(doc["paths"]["/v2/issues/{key}"]["x-trackerd-methods"]["LINK"].is_object());
    assert_eq!(
        doc["paths"]["/v2/myself"]["get"]["responses"]["4XX"]["$ref"],
        "#/components/responses/Error"
    );
    assert!(doc["paths"]["/token"]["post"]["requestBody"]["content"]
        ["application/x-www-form-urlencoded"]
        .is_object());
}

/// Configured apps on both backends (`backend_tests!` starts the kit's).
async fn metrics_guard(backend: Backend) {
    let Some(app) = AppBuilder::new(backend)
        .config(|c| c.metrics.token = Some("scrape-secret".into()))
        .spawn()
        .await
    else {
        return;
    };
    let get = |auth: Option<&str>| {
        let mut r = app.request(reqwest::Method::GET, "/metrics");
        if let Some(a) = auth {
            r = r.header("Authorization", a);
        }
        r.send()
    };
    envelope(get(None).await.unwrap(), 401).await;
    envelope(get(Some("Bearer wrong")).await.unwrap(), 401).await;
    assert_eq!(
        get(Some("Bearer scrape-secret")).await.unwrap().status(),
        200
    );

    let off = AppBuilder::new(backend)
        .config(|c| c.metrics.enabled = false)
        .spawn()
        .await
        .unwrap();
    off.call(reqwest::Method::GET, "/metrics")
        .anonymous()
        .await
        .error(404);
    // Requests are still served, uncounted.
    assert_eq!(off.get_as("/v2/myself", ALICE).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_token_guards_metrics_and_disabled_metrics_are_not_served_sqlite() {
    metrics_guard(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_token_guards_metrics_and_disabled_metrics_are_not_served_postgres() {
    metrics_guard(Backend::Postgres).await;
}
