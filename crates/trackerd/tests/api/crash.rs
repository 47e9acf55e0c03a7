//! Crashes and several nodes: `trackerd` processes killed with SIGKILL under
//! concurrent writes and started again on the same database, and three
//! processes on one database serving as one. Every write a client was told
//! succeeded must be there afterwards; keys are never handed out twice.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

use crate::cli::{serve, Server};
use crate::oauth_cli::trackerd;

backend_tests!(
    acknowledged_writes_survive_a_kill_during_concurrent_writes,
    three_nodes_on_one_database_serve_as_one_and_survive_losing_one,
    a_bulk_change_survives_killing_a_node_midway_and_changes_every_issue_exactly_once,
);

/// `trackerd serve` on the test's database, in a process of its own.
fn node(app: &TestApp) -> (Server, String) {
    let (server, _, addr) = serve(&["--database", &app.dsn]);
    (server, addr)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> Option<(u16, Value)> {
    let mut req = http
        .request(method, url)
        .header("Authorization", format!("OAuth {ALICE}"))
        .header("X-Org-ID", ACME);
    if let Some(b) = body {
        req = req.json(&b);
    }
    // A request the kill cut off has no answer: it was not acknowledged.
    let r = match req.send().await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("no answer: {e:?}");
            return None;
        }
    };
    let status = r.status().as_u16();
    Some((status, r.json().await.unwrap_or(Value::Null)))
}

/// `GET url` as alice, which must be answered: the body.
async fn get(http: &reqwest::Client, url: String) -> Value {
    let (_, body) = call(http, reqwest::Method::GET, url, None).await.unwrap();
    body
}

/// What the clients were told succeeded: each issue's key with its last
/// acknowledged summary, and the acknowledged comments' ids per issue.
#[derive(Default)]
struct Acked {
    summaries: BTreeMap<String, String>,
    comments: BTreeMap<String, BTreeSet<i64>>,
}

/// One writer: creates an issue, then edits it and comments on it in turn,
/// until `until`; every acknowledged step is recorded.
async fn writer(base: String, w: usize, until: Instant, acked: Arc<Mutex<Acked>>) {
    let http = client();
    let mut n = 0;
    while Instant::now() < until {
        n += 1;
        let summary = format!("w{w} n{n}");
        let Some((201, issue)) = call(
            &http,
            reqwest::Method::POST,
            format!("{base}/v2/issues/"),
            Some(json!({"queue": "TEST", "summary": summary})),
        )
        .await
        else {
            continue;
        };
        let key = issue["key"].as_str().unwrap().to_owned();
        acked.lock().unwrap().summaries.insert(key.clone(), summary);
        for step in 0..3 {
            let edited = format!("w{w} n{n} edit{step}");
            if let Some((200, _)) = call(
                &http,
                reqwest::Method::PATCH,
                format!("{base}/v2/issues/{key}"),
                Some(json!({"summary": edited})),
            )
            .await
            {
                acked.lock().unwrap().summaries.insert(key.clone(), edited);
            }
            if let Some((201, c)) = call(
                &http,
                reqwest::Method::POST,
                format!("{base}/v2/issues/{key}/comments"),
                Some(json!({"text": format!("c{step}")})),
            )
            .await
            {
                acked
                    .lock()
                    .unwrap()
                    .comments
                    .entry(key.clone())
                    .or_default()
                    .insert(c["id"].as_i64().unwrap());
            }
        }
    }
}

/// Every issue of TEST as the server has it: key → (summary, comment ids).
async fn everything(base: &str) -> BTreeMap<String, (String, BTreeSet<i64>)> {
    let http = client();
    let mut out = BTreeMap::new();
    let mut page = 1;
    loop {
        let (status, items) = call(
            &http,
            reqwest::Method::POST,
            format!("{base}/v2/issues/_search?perPage=500&page={page}"),
            Some(json!({"filter": {"queue": "TEST"}})),
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "{items}");
        let items = items.as_array().unwrap().clone();
        for i in &items {
            let key = i["key"].as_str().unwrap().to_owned();
            let comments = get(&http, format!("{base}/v2/issues/{key}/comments")).await;
            let ids = comments
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap())
                .collect();
            let summary = i["summary"].as_str().unwrap().to_owned();
            assert!(
                out.insert(key.clone(), (summary, ids)).is_none(),
                "{key} twice"
            );
        }
        if items.len() < 500 {
            return out;
        }
        page += 1;
    }
}

fn check(acked: &Acked, found: &BTreeMap<String, (String, BTreeSet<i64>)>) {
    for (key, summary) in &acked.summaries {
        let (now, _) = found
            .get(key)
            .unwrap_or_else(|| panic!("acknowledged issue {key} is gone"));
        // A later edit may have been applied without its answer reaching
        // the client (cut off by the kill): the summary is the acknowledged
        // one or a later edit of the same issue by the same writer.
        assert!(
            now == summary || now.starts_with(summary.split(" edit").next().unwrap()),
            "{key}: acknowledged {summary:?}, found {now:?}"
        );
    }
    for (key, ids) in &acked.comments {
        let (_, have) = &found[key];
        let lost: Vec<_> = ids.difference(have).collect();
        assert!(
            lost.is_empty(),
            "{key}: acknowledged comments lost: {lost:?}"
        );
    }
}

async fn acknowledged_writes_survive_a_kill_during_concurrent_writes(app: TestApp) {
    let acked = Arc::new(Mutex::new(Acked::default()));
    let mut kills = 0;
    for round in 0..3 {
        let (server, base) = node(&app);
        let until = Instant::now() + Duration::from_millis(1500);
        let writers: Vec<_> = (0..8)
            .map(|w| tokio::spawn(writer(base.clone(), round * 100 + w, until, acked.clone())))
            .collect();
        tokio::time::sleep(Duration::from_millis(1000)).await;
        // SIGKILL mid-flight: no shutdown, requests cut off wherever they are.
        drop(server);
        kills += 1;
        for w in writers {
            w.await.unwrap();
        }
    }
    let (_server, base) = node(&app);
    let found = everything(&base).await;
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    check(&acked, &found);
    // Keys come from one sequence: no key twice, none reused after a kill.
    let mut numbers: Vec<i64> = found
        .keys()
        .map(|k| k.trim_start_matches("TEST-").parse().unwrap())
        .collect();
    numbers.sort_unstable();
    let next = call(
        &client(),
        reqwest::Method::POST,
        format!("{base}/v2/issues/"),
        Some(json!({"queue": "TEST", "summary": "after"})),
    )
    .await
    .unwrap();
    assert_eq!(next.0, 201);
    let after: i64 = next.1["key"].as_str().unwrap()[5..].parse().unwrap();
    assert!(after > *numbers.last().unwrap_or(&0));
    let comments: usize = acked.comments.values().map(BTreeSet::len).sum();
    println!(
        "crash suite ({}): {kills} kills, {} issues and {comments} comments acknowledged, \
         {} issues found, 0 lost",
        app.backend().name(),
        acked.summaries.len(),
        found.len()
    );
    assert!(
        !acked.summaries.is_empty(),
        "no write was acknowledged at all"
    );
}

async fn three_nodes_on_one_database_serve_as_one_and_survive_losing_one(app: TestApp) {
    let nodes: Vec<(Server, String)> = (0..3).map(|_| node(&app)).collect();
    let bases: Vec<String> = nodes.iter().map(|(_, b)| b.clone()).collect();
    // Creates spread over the nodes at once: one key sequence.
    let acked = Arc::new(Mutex::new(Acked::default()));
    let until = Instant::now() + Duration::from_millis(1500);
    let writers: Vec<_> = (0..9)
        .map(|w| tokio::spawn(writer(bases[w % 3].clone(), w, until, acked.clone())))
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let views: Vec<_> = futures_join(&bases).await;
    assert!(
        views.windows(2).all(|v| v[0] == v[1]),
        "the nodes disagree on the issues"
    );
    check(&acked.lock().unwrap(), &views[0]);
    // A scroll opened on one node continues on another.
    let http = client();
    let r = http
        .post(format!(
            "{}/v2/issues/_search?scrollType=sorted&perScroll=2",
            bases[0]
        ))
        .header("Authorization", format!("OAuth {ALICE}"))
        .header("X-Org-ID", ACME)
        .json(&json!({"filter": {"queue": "TEST"}, "order": "+key"}))
        .send()
        .await
        .unwrap();
    let id = r.headers()["x-scroll-id"].to_str().unwrap().to_owned();
    let (status, page) = call(
        &http,
        reqwest::Method::POST,
        format!("{}/v2/issues/_search?scrollId={id}", bases[1]),
        Some(json!({})),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{page}");
    assert_eq!(page.as_array().unwrap().len(), 2);
    // A token revoked on the shared database is refused by every node.
    let revoked = issue_token(&app).await;
    for base in &bases {
        assert_eq!(myself(base, &revoked).await, 200);
    }
    let started = Instant::now();
    trackerd(&app.dsn, &["token", "revoke", "--token", &revoked], None);
    for base in &bases {
        while myself(base, &revoked).await != 401 {
            // Nodes look for revocations every `auth_cache_refresh_ms`
            // (1 s by default); a second more for a loaded CI machine.
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "revocation did not reach {base} within two seconds"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let revocation_ms = started.elapsed().as_millis();
    // One node killed: the others go on.
    let mut nodes = nodes;
    drop(nodes.remove(0));
    for base in &bases[1..] {
        let (status, _) = call(
            &http,
            reqwest::Method::POST,
            format!("{base}/v2/issues/"),
            Some(json!({"queue": "TEST", "summary": "still here"})),
        )
        .await
        .unwrap();
        assert_eq!(status, 201);
    }
    println!(
        "three nodes ({}): {} issues acknowledged across nodes, 0 duplicate keys, \
         revocation reached all nodes in {revocation_ms} ms, a node killed and the others served",
        app.backend().name(),
        acked.lock().unwrap().summaries.len()
    );
}

async fn futures_join(bases: &[String]) -> Vec<BTreeMap<String, (String, BTreeSet<i64>)>> {
    let mut out = Vec::new();
    for b in bases {
        out.push(everything(b).await);
    }
    out
}

/// A fresh token of alice's, issued by the admin command.
async fn issue_token(app: &TestApp) -> String {
    trackerd(&app.dsn, &["token", "issue", "--login", "alice"], None)
        .split_whitespace()
        .find(|w| w.starts_with("y0_"))
        .unwrap()
        .to_owned()
}

async fn myself(base: &str, token: &str) -> u16 {
    crate::cli::myself(base, token, ACME)
        .await
        .status()
        .as_u16()
}

/// Two node processes work on one bulk change over a thousand issues; one
/// is killed (SIGKILL) midway and started again. The change completes, and
/// every issue was changed exactly once and whole: both fields of the edit
/// and one changelog entry, never one without the other.
async fn a_bulk_change_survives_killing_a_node_midway_and_changes_every_issue_exactly_once(
    app: TestApp,
) {
    // The test's own app stays out of the work: only the processes run it.
    let app = app.restarted_with(|c| c.jobs.worker = false).await;
    let keys = crate::bulkchange::many_issues(app.state.store.as_ref(), 1000).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("trackerd.toml");
    // A short lease, so the killed node's items pass to the other soon.
    std::fs::write(
        &config,
        "[jobs]\nlease_ms = 1500\npoll_interval_ms = 50\nbatch_size = 10\n",
    )
    .unwrap();
    let config = config.to_str().unwrap().to_owned();
    let start = || {
        let (server, _, addr) = serve(&["--database", &app.dsn, "--config", &config]);
        (server, addr)
    };
    let (a, base_a) = start();
    let (_b, base_b) = start();
    let http = client();
    let (status, op) = call(
        &http,
        reqwest::Method::POST,
        format!("{base_a}/v2/bulkchange/_update"),
        Some(json!({"issues": keys, "values": {"summary": "bulk changed", "tags": {"add": ["crash"]}}})),
    )
    .await
    .unwrap();
    assert_eq!(status, 201, "{op}");
    let id = op["id"].as_str().unwrap().to_owned();
    let progress = |base: String| {
        let http = http.clone();
        let id = id.clone();
        async move {
            let v = get(&http, format!("{base}/v2/bulkchange/{id}")).await;
            v
        }
    };
    let at_kill = poll_until(
        (Duration::from_secs(60), Duration::from_millis(10)),
        "no progress",
        || progress(base_b.clone()),
        |v| v["executionIssuePercent"].as_i64().unwrap() >= 10,
    )
    .await;
    // SIGKILL in the middle of the work: items leased, a write maybe open.
    drop(a);
    assert_ne!(at_kill["status"], "COMPLETE", "{at_kill}");
    let (_a, _) = start();
    let done = poll_until(
        (Duration::from_secs(240), Duration::from_millis(100)),
        "the bulk change did not finish",
        || progress(base_b.clone()),
        bulk_change_ended,
    )
    .await;
    assert_eq!(done["status"], "COMPLETE", "{done}");
    assert_eq!(done["totalCompletedIssues"], 1000, "{done}");
    let store = app.state.store.clone();
    let org = store.organization_by_org_id(ACME).await.unwrap().unwrap();
    let mut edits = 0;
    for key in &keys {
        let issue = store
            .issue_by_key_or_id(org.id, key)
            .await
            .unwrap()
            .unwrap();
        let log = history(store.as_ref(), issue.pk, 100).await;
        let updates: Vec<_> = log.iter().filter(|e| e.kind == "IssueUpdated").collect();
        assert_eq!(updates.len(), 1, "{key}: {} edits", updates.len());
        assert!(
            updates[0].fields.contains("summary") && updates[0].fields.contains("tags"),
            "{key}: {}",
            updates[0].fields
        );
        assert_eq!(issue.summary, "bulk changed", "{key}");
        assert_eq!(issue.tags, ["crash"], "{key}");
        assert_eq!(issue.version, 2, "{key}");
        edits += updates.len();
    }
    println!(
        "bulk change crash ({}): killed one of two nodes at {}%, restarted; \
         1000 issues, {edits} edits, each exactly once",
        app.backend().name(),
        at_kill["executionIssuePercent"]
    );
}
