//! What every request shares: the store, the clock, the configuration and
//! this node's caches.

use std::sync::Arc;

use tracker_domain::Clock;
use tracker_store::Store;

use crate::auth::AuthCache;
use crate::blobs::BlobStore;
use crate::config::Config;
use crate::routes::search::scroll::Scrolls;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
    pub auth: AuthCache,
    /// Open search scrolls (this node's memory).
    pub scrolls: Scrolls,
    /// Attached files' bytes.
    pub blobs: Arc<dyn BlobStore>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Fails when the configured blob store cannot be opened.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: Config,
    ) -> anyhow::Result<Self> {
        let blobs = crate::blobs::from_config(&config)?;
        Ok(Self(Arc::new(Inner {
            store,
            clock,
            config,
            auth: AuthCache::new(),
            scrolls: Default::default(),
            blobs,
        })))
    }
}
