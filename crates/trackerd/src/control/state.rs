//! Reset, snapshots and seeding: the data a test starts from.
//!
//! Snapshots live in the database (every node sees them); a restore is one
//! transaction that also bumps the auth epoch, so every node empties its
//! auth cache (this one at once, the others at their next epoch check).

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{parse_body, took_ms};
use crate::error::{ApiError, ApiResult};
use crate::seed::SeedFile;
use crate::state::AppState;

/// The snapshot `reset` goes back to: taken when the plane first starts on
/// a database (after the seed file), and again after every seed by API.
pub const SEED_SNAPSHOT: &str = "seed";

/// Takes the seed snapshot unless the database has one (a node starting
/// beside others, or again, keeps the one taken first); `force` takes it
/// anyway (a seed file was just applied).
pub async fn snapshot_at_start(state: &AppState, force: bool) -> anyhow::Result<()> {
    if state.control.is_some() {
        state
            .store
            .save_snapshot(SEED_SNAPSHOT, state.clock.now().timestamp_millis(), force)
            .await?;
    }
    Ok(())
}

fn valid_name(name: &str) -> ApiResult<()> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "A snapshot name is 1 to 64 letters, digits, '-' and '_'".into(),
        ))
    }
}

fn created_at(ms: i64) -> Value {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or(Value::Null, |t| Value::String(t.to_rfc3339()))
}

/// After the data changed under every cache: this node's caches go at once.
fn forget_cached(state: &AppState) {
    state.auth.invalidate_all();
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    #[serde(default)]
    to: Option<String>,
}

/// `POST /_trackerd/reset`: back to the seed (`{"to": "seed"}`, the
/// default) or to no data at all (`{"to": "empty"}`).
pub async fn reset(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<Value>> {
    let body: ResetBody = parse_body(&body)?;
    let to = body.to.as_deref().unwrap_or(SEED_SNAPSHOT);
    let start = Instant::now();
    match to {
        SEED_SNAPSHOT => {
            if !state.store.restore_snapshot(SEED_SNAPSHOT).await? {
                return Err(ApiError::NotFound(
                    "There is no seed snapshot to reset to".into(),
                ));
            }
        }
        "empty" => state.store.empty_data().await?,
        other => {
            return Err(ApiError::BadRequest(format!(
                "A reset goes to \"seed\" or \"empty\", not {other:?}"
            )))
        }
    }
    forget_cached(&state);
    Ok(Json(json!({ "to": to, "tookMs": took_ms(start) })))
}

/// `GET /_trackerd/snapshots`.
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let list = state.store.list_snapshots().await?;
    Ok(Json(Value::Array(
        list.into_iter()
            .map(|s| json!({ "name": s.name, "createdAt": created_at(s.created_ms), "rows": s.rows }))
            .collect(),
    )))
}

/// `PUT /_trackerd/snapshots/{name}`: the whole state now, replacing a
/// snapshot of that name.
pub async fn save(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    valid_name(&name)?;
    let start = Instant::now();
    let info = state
        .store
        .save_snapshot(&name, state.clock.now().timestamp_millis(), true)
        .await?
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("a snapshot replaced came back empty"))
        })?;
    Ok(Json(json!({
        "name": info.name,
        "createdAt": created_at(info.created_ms),
        "rows": info.rows,
        "tookMs": took_ms(start),
    })))
}

/// `POST /_trackerd/snapshots/{name}/restore`.
pub async fn restore(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    valid_name(&name)?;
    let start = Instant::now();
    if !state.store.restore_snapshot(&name).await? {
        return Err(ApiError::NotFound(format!("Snapshot {name} not found")));
    }
    forget_cached(&state);
    Ok(Json(json!({ "name": name, "tookMs": took_ms(start) })))
}

/// `DELETE /_trackerd/snapshots/{name}`.
pub async fn remove(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    valid_name(&name)?;
    if state.store.delete_snapshot(&name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("Snapshot {name} not found")))
    }
}

/// `POST /_trackerd/seed`: a seed file's content (YAML, or JSON, which is
/// YAML too), checked whole before anything is written, then applied as
/// `--seed` applies it; the seed snapshot is taken again, so a reset comes
/// back to the state with this seed.
pub async fn seed(State(state): State<AppState>, body: Bytes) -> ApiResult<impl IntoResponse> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("The seed must be UTF-8 text".into()))?;
    let seed: SeedFile = serde_yaml_ng::from_str(text)
        .map_err(|e| ApiError::BadRequest(format!("The seed does not parse: {e}")))?;
    seed.validate()
        .map_err(|e| ApiError::BadRequest(format!("The seed is refused: {e:#}")))?;
    let report = seed
        .apply(state.store.as_ref(), state.clock.as_ref())
        .await
        .map_err(ApiError::internal)?;
    // Seeds may change tokens' scopes and members' rights.
    state.store.bump_auth_epoch().await?;
    forget_cached(&state);
    state
        .store
        .save_snapshot(SEED_SNAPSHOT, state.clock.now().timestamp_millis(), true)
        .await?;
    Ok(Json(json!({
        "organizations": report.organizations,
        "users": report.users,
        "tokens": report.tokens,
        "queues": report.queues,
        "applications": report.applications,
    })))
}
