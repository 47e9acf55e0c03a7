//! trackerd served in this process on a free loopback port.

/// trackerd's own in-process server (public, for integrators' tests too).
pub use trackerd::testing::Server;

/// Serves `router` on port 0 and answers its base URL: for mock servers.
pub async fn serve_mock(router: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let addr = listener.local_addr().expect("the port's address");
    let handle = tokio::spawn(async move {
        axum::serve(listener, router)
            .await
            .expect("the mock serves");
    });
    (format!("http://{addr}"), handle)
}
