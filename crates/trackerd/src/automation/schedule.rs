//! Auto-actions on their schedule: every node's loop looks for due
//! auto-actions each `automation.tick_ms` (one node at a time, under the
//! lease `automation-scheduler`); a run is taken by moving the auto-action's
//! next run time from the value read in one statement
//! ([`tracker_store::AutomationStore::claim_run`]), so each period's run
//! happens on exactly one node even should two tick at once. "Now" is the
//! server's clock: tests move a manual clock instead of sleeping.

use serde_json::{json, Map, Value};
use tracker_store::TemplateRecord;

use super::{robot, run_actions, AUTOACTION, DEPTH};
use crate::state::AppState;

const LEASE: &str = "automation-scheduler";
/// Tracker's default period: once an hour.
pub const DEFAULT_INTERVAL_MS: i64 = 3_600_000;
/// The shortest period accepted: a minute.
pub const MIN_INTERVAL_MS: i64 = 60_000;

/// An auto-action's period, from its content.
pub fn interval_ms(body: &Map<String, Value>) -> i64 {
    body.get("intervalMillis")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_INTERVAL_MS)
        .max(MIN_INTERVAL_MS)
}

/// Runs the auto-actions due now; answers how many ran here.
pub async fn tick(state: &AppState, holder: &str) -> anyhow::Result<usize> {
    let now = state.clock.now().timestamp_millis();
    // Held for half a minute at least, so renewed (written) at most every
    // fifteen seconds (see `claim_lease`): a node that stops leaves the
    // schedule to another within that, while auto-actions run at most once
    // a minute.
    let ttl = i64::try_from(state.config.automation.tick_ms.saturating_mul(3))
        .unwrap_or(60_000)
        .max(30_000);
    if !state.store.claim_lease(LEASE, holder, now, ttl).await? {
        return Ok(0);
    }
    let mut ran = 0;
    for t in state.store.templates_of_kind(AUTOACTION).await? {
        let body: Map<String, Value> = serde_json::from_str(&t.body).unwrap_or_default();
        if !body.get("active").and_then(Value::as_bool).unwrap_or(true) {
            continue;
        }
        let every = interval_ms(&body);
        let Some(due) = state.store.next_run(t.pk).await? else {
            // First seen: its first run is one period after its creation.
            let first = t.created_at.timestamp_millis().saturating_add(every);
            state.store.claim_run(t.pk, None, first).await?;
            continue;
        };
        if due > now {
            continue;
        }
        // Periods missed (a node down) are not made up: one run, then the
        // next period from now.
        if !state
            .store
            .claim_run(t.pk, Some(due), now.saturating_add(every))
            .await?
        {
            continue;
        }
        let processed = run(state, &t, &body).await;
        state.store.finish_run(t.pk, now, processed).await?;
        ran += 1;
    }
    Ok(ran)
}

/// One run: the actions on every issue of the queue the filter finds.
async fn run(state: &AppState, t: &TemplateRecord, body: &Map<String, Value>) -> i64 {
    match run_inner(state, t, body).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(autoaction = t.pk, error = %e, "an auto-action run failed");
            0
        }
    }
}

async fn run_inner(
    state: &AppState,
    t: &TemplateRecord,
    body: &Map<String, Value>,
) -> crate::error::ApiResult<i64> {
    let Some(queue_id) = t.queue_id else {
        return Ok(0);
    };
    let Some(queue) = state.store.queue_by_id(t.org, queue_id).await? else {
        return Ok(0);
    };
    if queue.deleted_at.is_some() {
        return Ok(0);
    }
    let robot = robot(state, t.org).await?;
    let mut search = Map::new();
    match (
        body.get("filter"),
        body.get("query").and_then(Value::as_str),
    ) {
        (_, Some(q)) if !q.trim().is_empty() => {
            search.insert(
                "query".into(),
                json!(format!("Queue: {} AND ({q})", queue.key)),
            );
        }
        (Some(Value::Object(f)), _) => {
            let mut f = f.clone();
            f.insert("queue".into(), json!(queue.key));
            search.insert("filter".into(), Value::Object(f));
        }
        _ => {
            search.insert("filter".into(), json!({ "queue": queue.key }));
        }
    }
    let pks = crate::routes::search::matching_pks(state, &robot, &search).await?;
    for pk in &pks {
        DEPTH
            .scope(1, run_actions(state, t, body, *pk, "Autoaction"))
            .await;
    }
    Ok(pks.len() as i64)
}
