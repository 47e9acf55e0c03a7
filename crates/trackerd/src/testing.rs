//! trackerd in the caller's process, for integration tests of programs that
//! talk to Tracker: `#[tokio::test]`s start one on a free loopback port over
//! a fresh SQLite database, optionally seeded, and point their client at
//! [`TestServer::base`].
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! let server = trackerd::testing::TestServer::builder()
//!     .seed("tests/seed.yaml")
//!     .start()
//!     .await?;
//! let url = format!("{}/v2/myself", server.base());
//! # Ok(()) }
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use tracker_domain::{Clock, SystemClock};
use tracker_store::Store;

use crate::config::{Config, Dsn};
use crate::seed::SeedFile;
use crate::AppState;

/// How to start a [`TestServer`].
#[must_use]
#[derive(Default)]
pub struct Builder {
    seed: Option<PathBuf>,
    tweak: Option<Tweak>,
}

type Tweak = Box<dyn FnOnce(&mut Config) + Send>;

impl Builder {
    /// A seed file applied before serving (the format of `trackerd seed`).
    pub fn seed(mut self, file: impl Into<PathBuf>) -> Self {
        self.seed = Some(file.into());
        self
    }

    /// Changes the configuration (its `database` and `listen` are the
    /// server's own).
    pub fn config(mut self, tweak: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        self.tweak = Some(Box::new(tweak));
        self
    }

    /// Starts the server; it stops when the [`TestServer`] drops.
    pub async fn start(self) -> anyhow::Result<TestServer> {
        let dir = tempfile::tempdir()?;
        let mut config = Config::default();
        if let Some(tweak) = self.tweak {
            tweak(&mut config);
        }
        config.database = Dsn(format!(
            "sqlite://{}",
            dir.path().join("trackerd.db").display()
        ));
        config.attachments.dir = Some(dir.path().join("attachments"));
        let store = crate::db::open(&config.database).await?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        if let Some(seed) = &self.seed {
            SeedFile::load(seed)?
                .apply(store.as_ref(), clock.as_ref())
                .await?;
        }
        let server = Server::start(store, clock, config).await?;
        Ok(TestServer { server, _dir: dir })
    }
}

/// A running in-process trackerd on a free loopback port: stopped
/// gracefully by [`Server::stop`], aborted when dropped. The piece
/// [`TestServer`] (and trackerd's own test kit) build on.
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
        let task = tokio::spawn(crate::serve(state.clone(), listener, async move {
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

/// A trackerd serving in this process. Dropping it aborts the server and
/// removes its database.
pub struct TestServer {
    server: Server,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// `http://127.0.0.1:PORT`, the base URL a client is given.
    pub fn base(&self) -> &str {
        &self.server.base
    }

    /// The server's state: its store, for checks below the API.
    pub fn state(&self) -> &AppState {
        &self.server.state
    }

    /// Stops gracefully: finishes the requests in flight.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.server.stop().await
    }
}
