//! What every request shares: the store, the clock, the configuration and
//! this node's caches.

use std::sync::Arc;

use tracker_domain::Clock;
use tracker_store::Store;

use crate::auth::AuthCache;
use crate::config::Config;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
    pub auth: AuthCache,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: Config) -> Self {
        Self(Arc::new(Inner {
            store,
            clock,
            config,
            auth: AuthCache::new(),
        }))
    }
}
