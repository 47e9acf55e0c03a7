//! Folds the kept counts' appended changes into the counts now and then
//! (`SearchStore::fold_kept_counts`): on PostgreSQL the issues' writers
//! append their day-count changes rather than lock a row every other
//! writer moves too, and a count reads what is not folded yet. Counts are
//! exact either way; folding keeps what they read short. Every node folds:
//! two folds at once fold disjoint changes, so no lease is needed.
//!
//! A fold is a write, and a write moves the data stamp that every kept
//! answer depends on: folding every few seconds cost a burst of creates
//! one more emptying of the answers after it ended (PostgreSQL reads after
//! creates: 5 191–5 417/s against 6 494–6 651/s without the folder,
//! `issue-bench`). So a node folds once a thousand changes wait (a count
//! then reads at most a few thousand), or whatever waits once a minute.

use std::time::Duration;

use crate::state::AppState;

/// How often a node looks at what waits (a read).
const EVERY: Duration = Duration::from_secs(2);
/// Changes that are folded as soon as they wait.
const MANY: u64 = 1_000;
/// Looks after which whatever waits is folded (a minute).
const ANY_AFTER: u32 = 30;

pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut looks = 0u32;
        loop {
            tick.tick().await;
            looks += 1;
            let at_least = if looks >= ANY_AFTER { 1 } else { MANY };
            match state.store.fold_kept_counts(at_least).await {
                Ok(_) if at_least == 1 => looks = 0,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "folding the kept counts failed"),
            }
        }
    })
}
