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
        let mut config = Config {
            listen: "127.0.0.1:0".parse()?,
            ..Config::default()
        };
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
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        config.listen = addr;
        let state = AppState::new(store, clock, config)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(crate::serve(state.clone(), listener, async move {
            stopped.await.ok();
        }));
        Ok(TestServer {
            base: format!("http://{addr}"),
            state,
            stop: Some(stop),
            task,
            _dir: dir,
        })
    }
}

/// A trackerd serving in this process. Dropping it aborts the server and
/// removes its database.
pub struct TestServer {
    base: String,
    state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// `http://127.0.0.1:PORT`, the base URL a client is given.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The server's state: its store, for checks below the API.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops gracefully: finishes the requests in flight.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        (&mut self.task).await??;
        Ok(())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
