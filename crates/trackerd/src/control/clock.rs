//! The test clock: freeze, set and advance the server's time. The setting
//! is kept in the database; every node reads it at its auth-epoch check
//! (`auth_cache_refresh_ms`), the node that took the call at once.

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use tracker_domain::Clock;
use tracker_store::ClockSetting;

use super::{parse_body, plane, Control};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Applies the stored setting to this node's clock.
pub fn apply(control: &Control, setting: ClockSetting) {
    let frozen = setting
        .frozen_ms
        .and_then(DateTime::<Utc>::from_timestamp_millis);
    control
        .clock
        .set(Duration::milliseconds(setting.offset_ms), frozen);
}

/// Reads the stored setting into this node's clock (other nodes' changes).
pub async fn refresh(state: &AppState) -> Result<(), tracker_store::StoreError> {
    if let Some(control) = &state.control {
        let _held = control.clock_writes.lock().await;
        apply(control, state.store.clock_setting().await?);
    }
    Ok(())
}

fn view(control: &Control) -> Json<Value> {
    let (offset, frozen) = control.clock.setting();
    Json(json!({
        "now": control.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "frozen": frozen.is_some(),
        "offsetSeconds": offset.num_milliseconds() as f64 / 1000.0,
    }))
}

async fn store(state: &AppState, control: &Control, setting: ClockSetting) -> ApiResult<()> {
    let _held = control.clock_writes.lock().await;
    state.store.put_clock_setting(setting).await?;
    apply(control, setting);
    Ok(())
}

/// The setting that makes the clock read `now` (frozen there, or running
/// from there).
fn setting_at(control: &Control, now: DateTime<Utc>, frozen: bool) -> ClockSetting {
    ClockSetting {
        offset_ms: (now - control.clock.base_now()).num_milliseconds(),
        frozen_ms: frozen.then(|| now.timestamp_millis()),
    }
}

/// `GET /_trackerd/clock`.
pub async fn get(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(view(plane(&state)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutBody {
    #[serde(default)]
    now: Option<DateTime<Utc>>,
    #[serde(default)]
    frozen: Option<bool>,
}

/// `PUT /_trackerd/clock` `{"now": "<RFC 3339>", "frozen": bool}`: either
/// may be left out (the time stays, or the clock keeps running or stays
/// frozen).
pub async fn put(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<Value>> {
    let control = plane(&state)?;
    let body: PutBody = parse_body(&body)?;
    if body.now.is_none() && body.frozen.is_none() {
        return Err(ApiError::BadRequest(
            "Send \"now\" (RFC 3339), \"frozen\" (true or false), or both".into(),
        ));
    }
    let frozen = body
        .frozen
        .unwrap_or_else(|| control.clock.setting().1.is_some());
    let now = body.now.unwrap_or_else(|| control.clock.now());
    store(&state, control, setting_at(control, now, frozen)).await?;
    Ok(view(control))
}

/// `DELETE /_trackerd/clock`: back to the real time, running.
pub async fn release(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let control = plane(&state)?;
    store(&state, control, ClockSetting::default()).await?;
    Ok(view(control))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    seconds: f64,
}

/// The furthest one call moves the clock: a hundred years.
const MAX_ADVANCE_SECS: f64 = 100.0 * 366.0 * 24.0 * 3600.0;

/// `POST /_trackerd/clock/advance` `{"seconds": N}` (negative goes back).
pub async fn advance(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<Value>> {
    let control = plane(&state)?;
    let body: AdvanceBody = parse_body(&body)?;
    if !body.seconds.is_finite() || body.seconds.abs() > MAX_ADVANCE_SECS {
        return Err(ApiError::BadRequest(
            "\"seconds\" must be a number of at most a hundred years".into(),
        ));
    }
    let by = Duration::milliseconds((body.seconds * 1000.0).round() as i64);
    let (offset, frozen) = control.clock.setting();
    let setting = ClockSetting {
        offset_ms: (offset + by).num_milliseconds(),
        frozen_ms: frozen.map(|f| (f + by).timestamp_millis()),
    };
    store(&state, control, setting).await?;
    Ok(view(control))
}
