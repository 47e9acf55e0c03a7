//! Projects, portfolios and goals as handlers reach them: loaded only
//! through the entity roles, changed only as one versioned write
//! ([`write`], [`write_fresh`]) with its event. A bulk change calls the
//! same write once per entity.
//!
//! Who may do what (a choice, recorded in COMPATIBILITY.md): an
//! organization administrator everything; the author, the lead and the team
//! (`teamUsers`) read and change; clients and followers read; anyone else in
//! the organization reads an entity unless its `teamAccess` is `true`
//! (access for the team only). Deleting is for the author, the lead and
//! administrators.

use serde_json::{Map, Value};
use tracker_domain::permissions::Perm;
use tracker_store::{EntityRecord, EntityWrite, NewEntityEvent, WriteOutcome};

use crate::access::issues::{pause, too_fast, ATTEMPTS};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::ids::object_id;
use crate::state::AppState;

/// The kinds of entity, as paths name them.
pub const KINDS: [&str; 3] = ["project", "portfolio", "goal"];

/// The kind a path names (`project`, `Portfolio`, …), lower-cased.
pub fn kind(segment: &str) -> ApiResult<&'static str> {
    KINDS
        .iter()
        .find(|k| k.eq_ignore_ascii_case(segment))
        .copied()
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "Unknown entity type {segment:?}: expected project, portfolio or goal"
            ))
        })
}

/// An entity's fields document.
pub fn fields_of(e: &EntityRecord) -> Map<String, Value> {
    serde_json::from_str(&e.fields).unwrap_or_default()
}

/// The uid a field holds, if any.
pub fn uid_of(fields: &Map<String, Value>, key: &str) -> Option<i64> {
    fields.get(key).and_then(Value::as_i64)
}

/// The uids a list field holds.
pub fn uids_of(fields: &Map<String, Value>, key: &str) -> Vec<i64> {
    fields
        .get(key)
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

/// What the caller may do to the entity, by role.
pub fn allows(principal: &Principal, e: &EntityRecord, perm: Perm) -> bool {
    if principal.org_admin {
        return true;
    }
    let f = fields_of(e);
    let uid = principal.user.uid;
    let author = uid_of(&f, "author") == Some(uid) || e.created_by == uid;
    let lead = uid_of(&f, "lead") == Some(uid);
    let team = uids_of(&f, "teamUsers").contains(&uid);
    match perm {
        Perm::Grant => author || lead,
        Perm::Write | Perm::Create => author || lead || team,
        Perm::Read => {
            author
                || lead
                || team
                || uids_of(&f, "clients").contains(&uid)
                || uids_of(&f, "followers").contains(&uid)
                || f.get("teamAccess") != Some(&Value::Bool(true))
        }
    }
}

pub fn require(principal: &Principal, e: &EntityRecord, perm: Perm) -> ApiResult<()> {
    if allows(principal, e, perm) {
        return Ok(());
    }
    let action = match perm {
        Perm::Read => "read",
        Perm::Grant => "delete",
        _ => "change",
    };
    Err(ApiError::Forbidden(format!(
        "You do not have permission to {action} {} {}",
        e.entity_type, e.id
    )))
}

/// The entity of kind `kind` with public id `id`, if the caller may do
/// `perm` to it.
pub async fn load_for(
    state: &AppState,
    principal: &Principal,
    kind: &str,
    id: &str,
    perm: Perm,
) -> ApiResult<EntityRecord> {
    let e = state
        .store
        .entity(principal.org.id, id)
        .await?
        .filter(|e| e.entity_type == kind)
        .ok_or_else(|| ApiError::NotFound(format!("The {kind} {id} was not found")))?;
    require(principal, &e, perm)?;
    Ok(e)
}

/// [`load_for`] with the permission the request's scope implies.
pub async fn load(
    state: &AppState,
    principal: &Principal,
    kind: &str,
    id: &str,
) -> ApiResult<EntityRecord> {
    load_for(state, principal, kind, id, crate::access::wanted(principal)).await
}

/// An event of the caller at `now`.
pub fn event(
    principal: &Principal,
    now: chrono::DateTime<chrono::Utc>,
    display: &str,
    changes: Value,
) -> NewEntityEvent {
    NewEntityEvent {
        id: object_id(now),
        author: principal.user.uid,
        created_at: now,
        display: display.to_owned(),
        changes: changes.to_string(),
    }
}

/// A write of `e` with `events` and nothing else.
pub fn simple_write(e: EntityRecord, events: Vec<NewEntityEvent>) -> EntityWrite {
    EntityWrite {
        entity: e,
        events,
        comment: None,
        links: Vec::new(),
        attachment: None,
        job_item: None,
    }
}

/// Entity writes carry no bulk-change item (yet), so none can be taken.
fn no_job_item() -> ApiError {
    ApiError::internal(anyhow::anyhow!(
        "an entity write reported a bulk-change item it does not carry"
    ))
}

/// Writes one entity's change, turning a lost race into Tracker's `409`:
/// the single write path of an entity (handlers and bulk changes).
pub async fn write(state: &AppState, w: &EntityWrite) -> ApiResult<EntityRecord> {
    match state.store.write_entity(w).await? {
        (WriteOutcome::Written, Some(e)) => Ok(e),
        (WriteOutcome::Written, None) => Err(ApiError::NotFound("The entity was not found".into())),
        (WriteOutcome::VersionConflict, _) => Err(ApiError::Conflict(
            "The entity was changed by someone else; read it again and retry".into(),
        )),
        (WriteOutcome::ItemTaken, _) => Err(no_job_item()),
    }
}

/// [`write`] for a change that does not depend on the version the client
/// read (a comment, a checklist item): on a lost race the entity is read
/// again and the change made again on the fresh copy.
pub async fn write_fresh<F>(
    state: &AppState,
    principal: &Principal,
    mut e: EntityRecord,
    mut change: F,
) -> ApiResult<EntityRecord>
where
    F: FnMut(EntityRecord) -> ApiResult<EntityWrite>,
{
    for attempt in 0..ATTEMPTS {
        let (kind, id) = (e.entity_type.clone(), e.id.clone());
        match state.store.write_entity(&change(e)?).await? {
            (WriteOutcome::Written, Some(saved)) => return Ok(saved),
            (WriteOutcome::Written, None) => {
                return Err(ApiError::NotFound(format!("The {kind} {id} was not found")))
            }
            (WriteOutcome::VersionConflict, _) => {
                pause(attempt).await;
                e = load(state, principal, &kind, &id).await?;
            }
            (WriteOutcome::ItemTaken, _) => return Err(no_job_item()),
        }
    }
    Err(too_fast())
}
