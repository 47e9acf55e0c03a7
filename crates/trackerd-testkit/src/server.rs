//! trackerd served in this process on a free loopback port.

use std::sync::Arc;

use tracker_domain::Clock;
use tracker_store::Store;
use trackerd::config::Config;
use trackerd::AppState;

/// A running in-process trackerd: stopped gracefully by [`Server::stop`],
/// aborted when dropped.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Serves `store` on a free loopback port; `config.listen` becomes that
    /// address.
    pub async fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        mut config: Config,
    ) -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        config.listen = addr;
        let state = AppState::new(store, clock, config).map_err(std::io::Error::other)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(trackerd::serve(state.clone(), listener, async move {
            stopped.await.ok();
        }));
        Ok(Server {
            base: format!("http://{addr}"),
            state,
            stop: Some(stop),
            task,
        })
    }

    /// Stops accepting, finishes the requests under way, and answers how
    /// serving ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        (&mut self.task).await??;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

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
