//! Opens the backend a DSN names.

use std::sync::Arc;

use anyhow::Context;
use tracker_store::Store;

use crate::config::Dsn;

pub async fn open(dsn: &Dsn) -> anyhow::Result<Arc<dyn Store>> {
    let raw = dsn.expose();
    let store: Arc<dyn Store> = if let Some(path) = raw.strip_prefix("sqlite://") {
        // The data directory is created on first start, so the README's run
        // command works on a fresh checkout.
        let file = path.split('?').next().unwrap_or(path);
        if let Some(dir) = std::path::Path::new(file).parent() {
            if !dir.as_os_str().is_empty() && file != ":memory:" {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the data directory {}", dir.display()))?;
            }
        }
        Arc::new(
            tracker_store_sql::SqliteStore::connect(raw)
                .await
                .with_context(|| format!("opening {dsn}"))?,
        )
    } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
        Arc::new(
            tracker_store_sql::PostgresStore::connect(raw)
                .await
                .with_context(|| format!("connecting to {dsn}"))?,
        )
    } else {
        anyhow::bail!("unsupported database {dsn}: use sqlite://PATH or postgres://…");
    };
    store
        .migrate()
        .await
        .with_context(|| format!("migrating {} database", store.backend()))?;
    Ok(store)
}
