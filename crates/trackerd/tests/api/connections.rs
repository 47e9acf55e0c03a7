//! Slow, idle and too many clients cannot hold the server (hardening
//! finding 8): header and idle timeouts, a connection limit, and a shutdown
//! that ends by its deadline.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use trackerd::config::Config;

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    clients_that_send_nothing_half_a_request_or_stay_idle_are_disconnected,
    connections_beyond_the_limit_are_closed_and_the_others_are_served,
    shutdown_ends_by_its_deadline_while_a_client_holds_a_half_sent_request,
);

/// A second server on the app's database with `tweak` applied to its
/// configuration.
async fn server(app: &TestApp, tweak: impl FnOnce(&mut Config)) -> Server {
    let mut config = app.state.config.clone();
    tweak(&mut config);
    let state = &app.state;
    Server::start(state.store.clone(), state.clock.clone(), config)
        .await
        .unwrap()
}

async fn connect(server: &Server) -> TcpStream {
    TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Waits for the server to close `s`, answering how long that took;
/// anything it sends first is read and dropped.
async fn closed_within(s: &mut TcpStream, bound: Duration) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(bound, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return start.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("the connection was still open after {bound:?}"),
        }
    }
}

const MYSELF: &str = "GET /v2/myself HTTP/1.1\r\nHost: t\r\nX-Org-ID: 7000001\r\n\
    Authorization: OAuth y0_alice_rw_token_for_tests_only_0001\r\n\r\n";

/// Sends a whole request on `s` and reads the head of its answer.
async fn ask(s: &mut TcpStream) -> String {
    s.write_all(MYSELF.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 8192];
    let n = tokio::time::timeout(Duration::from_secs(20), s.read(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

async fn clients_that_send_nothing_half_a_request_or_stay_idle_are_disconnected(app: TestApp) {
    let server = server(&app, |c| c.connections.header_read_timeout_secs = 1).await;
    let bound = Duration::from_secs(10);

    let mut silent = connect(&server).await;
    let waited = closed_within(&mut silent, bound).await;
    assert!(
        waited >= Duration::from_millis(900),
        "closed too soon: {waited:?}"
    );

    let mut slow = connect(&server).await;
    slow.write_all(b"GET /v2/myself HTTP/1.1\r\nHost: t\r\n")
        .await
        .unwrap();
    closed_within(&mut slow, bound).await;

    let mut idle = connect(&server).await;
    assert!(ask(&mut idle).await.starts_with("HTTP/1.1 200"));
    closed_within(&mut idle, bound).await;

    // Serving goes on for everyone else.
    let mut fresh = connect(&server).await;
    assert!(ask(&mut fresh).await.starts_with("HTTP/1.1 200"));
}

async fn connections_beyond_the_limit_are_closed_and_the_others_are_served(app: TestApp) {
    let server = server(&app, |c| c.connections.max_connections = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = connect(&server).await;
        assert!(ask(&mut s).await.starts_with("HTTP/1.1 200"));
        held.push(s);
    }
    let mut extra = connect(&server).await;
    let waited = closed_within(&mut extra, Duration::from_secs(5)).await;
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    // The held ones still answer; one let go frees a place.
    assert!(ask(&mut held[0]).await.starts_with("HTTP/1.1 200"));
    drop(held.pop());
    let start = Instant::now();
    loop {
        let mut s = connect(&server).await;
        s.write_all(MYSELF.as_bytes()).await.unwrap();
        let mut buf = [0u8; 64];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            if n > 0 {
                assert!(buf.starts_with(b"HTTP/1.1 200"));
                break;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no place came free"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn shutdown_ends_by_its_deadline_while_a_client_holds_a_half_sent_request(app: TestApp) {
    let server = server(&app, |c| {
        c.connections.shutdown_deadline_secs = 1;
        c.connections.header_read_timeout_secs = 60;
        c.connections.body_read_timeout_secs = 60;
    })
    .await;
    let mut half = connect(&server).await;
    let head = "POST /v2/issues/TEST-1/comments HTTP/1.1\r\nHost: t\r\nX-Org-ID: 7000001\r\n\
        Authorization: OAuth y0_alice_rw_token_for_tests_only_0001\r\n\
        Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"text\":";
    half.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = Instant::now();
    tokio::time::timeout(Duration::from_secs(15), server.stop())
        .await
        .expect("the server stopped")
        .unwrap();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
}
