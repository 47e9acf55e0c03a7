//! What the benchmark binaries share: an in-process trackerd on port 0,
//! random database names, and reading CPU time from `/proc`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tracker_domain::{Clock, SystemClock};
use tracker_store::Store;
use trackerd::config::{Config, Dsn};
use trackerd::AppState;

/// A running in-process trackerd.
pub struct Server {
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Serves `store` on a free loopback port with the default configuration.
pub async fn start_server(store: Arc<dyn Store>, dsn: &str) -> anyhow::Result<Server> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let config = Config {
        listen: addr,
        database: Dsn(dsn.to_owned()),
        ..Config::default()
    };
    let state = AppState::new(store, Arc::new(SystemClock) as Arc<dyn Clock>, config);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(trackerd::serve(state, listener, async move {
        stopped.await.ok();
    }));
    Ok(Server {
        base: format!("http://{addr}"),
        stop,
        task,
    })
}

impl Server {
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.send(()).ok();
        self.task.await??;
        Ok(())
    }
}

/// Ten random lowercase letters, for database names.
pub fn rand_suffix() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..10)
        .map(|_| (b'a' + rng.gen_range(0..26)) as char)
        .collect()
}

pub fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// User + system clock ticks (1/100 s, the kernel's USER_HZ on every
/// mainstream architecture) of the process whose `/proc/<pid>/stat` this is.
pub fn proc_ticks(stat: &Path) -> Option<u64> {
    let s = std::fs::read_to_string(stat).ok()?;
    // The fields after the command name, which may hold spaces.
    let rest = s.rsplit_once(')')?.1.to_owned();
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// User + system CPU time of this process so far.
pub fn cpu_time() -> Duration {
    Duration::from_millis(proc_ticks(Path::new("/proc/self/stat")).unwrap_or(0) * 10)
}
