//! Folds the kept counts' appended changes into the counts now and then
//! (`SearchStore::fold_kept_counts`): on PostgreSQL the issues' writers
//! append their day-count changes rather than lock a row every other
//! writer moves too, and a count reads what is not folded yet. Counts are
//! exact either way; folding keeps what they read short. Every node folds:
//! two folds at once fold disjoint changes, so no lease is needed.

use std::time::Duration;

use crate::state::AppState;

/// How often a node folds: at 2 000 creates/s, a count reads at most a
/// few thousand appended rows besides the kept ones.
const EVERY: Duration = Duration::from_secs(2);

pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = state.store.fold_kept_counts().await {
                tracing::warn!(error = %e, "folding the kept counts failed");
            }
        }
    })
}
