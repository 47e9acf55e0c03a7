//! What every request shares: the store, the clock, the configuration and
//! this node's caches.

use std::sync::Arc;

use tracker_domain::Clock;
use tracker_store::Store;

use crate::auth::AuthCache;
use crate::blobs::BlobStore;
use crate::config::Config;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
    pub auth: AuthCache,
    /// The key that signs sign-in form tokens, read from the database on
    /// first use (every node signs with the same one).
    form_key: tokio::sync::OnceCell<Vec<u8>>,
    /// Attached files' bytes.
    pub blobs: Arc<dyn BlobStore>,
    /// Turns for searches (`connections.max_concurrent_searches`).
    pub search_slots: tokio::sync::Semaphore,
    /// `/metrics`' counts, unless `metrics.enabled` is off.
    pub metrics: Option<crate::observe::Metrics>,
    /// Identity providers' discovery documents and keys, and the HTTP
    /// client that asks them.
    pub federation: crate::oauth::federation::FederationCache,
    /// The emulator's control plane, when `control_token` is set; its test
    /// clock is then [`Inner::clock`].
    pub control: Option<Arc<crate::control::Control>>,
    /// Issue answers kept between reads (`answers.max_bytes`).
    pub answers: crate::answers::Answers,
    /// Organizations' queues, grants and members as searches read them.
    pub search_facts: crate::routes::search::kept::SearchFacts,
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
        let search_slots = tokio::sync::Semaphore::new(config.connections.max_concurrent_searches);
        let metrics = if config.metrics.enabled {
            Some(crate::observe::Metrics::new()?)
        } else {
            None
        };
        let federation = crate::oauth::federation::FederationCache::new(&config.federation)?;
        let control = crate::control::Control::from_config(&config, clock.clone());
        let clock: Arc<dyn Clock> = match &control {
            Some(control) => control.clock.clone(),
            None => clock,
        };
        let answers = crate::answers::Answers::new(config.answers.max_bytes);
        Ok(Self(Arc::new(Inner {
            store,
            clock,
            config,
            auth: AuthCache::new(),
            form_key: tokio::sync::OnceCell::new(),
            blobs,
            search_slots,
            metrics,
            federation,
            control,
            answers,
            search_facts: crate::routes::search::kept::SearchFacts::new(),
        })))
    }

    /// The key signing the sign-in form's token (see [`Inner::form_key`]).
    pub async fn form_key(&self) -> Result<&[u8], tracker_store::StoreError> {
        self.form_key
            .get_or_try_init(|| async {
                let mut candidate = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut candidate);
                let key = self
                    .store
                    .server_key("signin-form", &hex::encode(candidate))
                    .await?;
                hex::decode(&key).map_err(|_| {
                    tracker_store::StoreError::Invalid("server key signin-form".into())
                })
            })
            .await
            .map(Vec::as_slice)
    }
}
