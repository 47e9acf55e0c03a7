//! Queues as handlers reach them: by key or id, live or deleted, and only
//! through the access rules.

use tracker_domain::permissions::Perm;
use tracker_store::QueueRecord;

use crate::access::Guard;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Queue keys are 1–15 Latin letters (Tracker upper-cases them).
pub fn valid_queue_key(key: &str) -> bool {
    (1..=15).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_uppercase())
}

/// The queue with this key or id, deleted ones included.
pub async fn find_any(
    state: &AppState,
    principal: &Principal,
    key: &str,
) -> ApiResult<QueueRecord> {
    match key.parse::<i64>() {
        Ok(id) => state.store.queue_by_id(principal.org.id, id).await?,
        Err(_) => {
            state
                .store
                .queue_by_key(principal.org.id, &key.to_ascii_uppercase())
                .await?
        }
    }
    .ok_or_else(|| ApiError::NotFound(format!("Queue {key} not found")))
}

pub async fn find_live(
    state: &AppState,
    principal: &Principal,
    key: &str,
) -> ApiResult<QueueRecord> {
    let q = find_any(state, principal, key).await?;
    if q.deleted_at.is_some() {
        return Err(ApiError::NotFound(format!("Queue {key} not found")));
    }
    Ok(q)
}

/// The live queue, if the caller holds `perm` on it.
pub async fn find_for(
    state: &AppState,
    principal: &Principal,
    key: &str,
    perm: Perm,
) -> ApiResult<QueueRecord> {
    let q = find_live(state, principal, key).await?;
    Guard::new(state, principal).require_queue(&q, perm).await?;
    Ok(q)
}
