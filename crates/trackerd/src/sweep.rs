//! The sweep: forgets temporary uploads nobody attached, removes blobs no
//! row names (left by a write that failed between its blob and its row, or a
//! removal that failed after its row), and forgets federated sign-ins that
//! expired. One node at a time sweeps, under a lease in the database.

use std::time::Duration;

use futures_util::StreamExt;

use crate::blobs;
use crate::state::AppState;

const LEASE: &str = "attachment-sweep";
/// A blob younger than this may be an upload whose row is not written yet.
const ORPHAN_GRACE_SECS: i64 = 3600;
/// Rows or keys handled per statement.
const BATCH: usize = 500;

/// What one sweep removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub temporary: usize,
    pub orphans: usize,
    pub federation_logins: u64,
}

/// Sweeps every `attachments.sweep_interval_secs` while the server runs.
pub fn spawn(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let every = state.config.attachments.sweep_interval_secs;
    if every == 0 {
        return None;
    }
    let holder = hex::encode(rand::random::<[u8; 8]>());
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(every));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match leased_sweep(&state, &holder, every).await {
                Ok(Some(s)) if s != Swept::default() => {
                    tracing::info!(
                        temporary = s.temporary,
                        orphans = s.orphans,
                        federation_logins = s.federation_logins,
                        "sweep"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = format!("{e:#}"), "sweep failed"),
            }
        }
    }))
}

async fn leased_sweep(state: &AppState, holder: &str, every: u64) -> anyhow::Result<Option<Swept>> {
    let now_ms = state.clock.now().timestamp_millis();
    let ttl_ms = i64::try_from(every.saturating_mul(2000)).unwrap_or(i64::MAX);
    if !state
        .store
        .claim_lease(LEASE, holder, now_ms, ttl_ms)
        .await?
    {
        return Ok(None);
    }
    sweep(state).await.map(Some)
}

/// One sweep. Temporary uploads expire by the server's clock (their
/// `createdAt`); blobs are judged by the store's own modification times.
pub async fn sweep(state: &AppState) -> anyhow::Result<Swept> {
    let mut swept = Swept::default();
    let ttl = chrono::Duration::seconds(
        i64::try_from(state.config.attachments.temporary_ttl_secs).unwrap_or(i64::MAX / 1000),
    );
    let before = state.clock.now() - ttl;
    loop {
        let expired = state
            .store
            .expire_temporary_attachments(before, BATCH as i64)
            .await?;
        for blob in &expired {
            blobs::remove_file(state.blobs.as_ref(), blob).await;
        }
        swept.temporary += expired.len();
        if expired.len() < BATCH {
            break;
        }
    }
    swept.federation_logins = state
        .store
        .forget_federation_logins(state.clock.now())
        .await?;
    let old = chrono::Utc::now() - chrono::Duration::seconds(ORPHAN_GRACE_SECS);
    let mut keys = state.blobs.list_before(old).chunks(BATCH);
    while let Some(chunk) = keys.next().await {
        let chunk: Vec<String> = chunk.into_iter().collect::<anyhow::Result<_>>()?;
        swept.orphans += orphans(state, &chunk).await?;
    }
    Ok(swept)
}

/// Removes the blobs of `keys` no row names; a thumbnail goes with its file.
async fn orphans(state: &AppState, keys: &[String]) -> anyhow::Result<usize> {
    let owners: Vec<String> = keys.iter().map(|k| blobs::owner(k).to_owned()).collect();
    let known = state.store.known_blobs(&owners).await?;
    let mut removed = 0;
    for (key, owner) in keys.iter().zip(&owners) {
        if !known.contains(owner) {
            if let Err(e) = state.blobs.delete(key).await {
                tracing::warn!(error = %e, blob = key, "removing an orphaned blob failed");
            } else {
                removed += 1;
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use crate::blobs::owner;

    #[test]
    fn a_thumbnail_belongs_to_its_file() {
        assert_eq!(owner("thumbnails/3/ab12.png"), "3/ab12");
        assert_eq!(owner("3/ab12"), "3/ab12");
        assert_eq!(owner("thumbnails/x"), "thumbnails/x");
    }
}
