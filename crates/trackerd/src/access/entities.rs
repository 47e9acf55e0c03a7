//! Projects, portfolios and goals as handlers reach them: loaded only
//! through the entity roles, changed only as one versioned write
//! ([`write`], [`write_fresh`]) with its event. A bulk change calls the
//! same write once per entity. The edit itself ([`edit`]: fields, a
//! comment, links, and their events) is computed here too, for the edit
//! request and the bulk change worker alike.
//!
//! Who may do what (a choice, recorded in COMPATIBILITY.md): an
//! organization administrator everything; the author, the lead and the team
//! (`teamUsers`) read and change; clients and followers read; anyone else in
//! the organization reads an entity unless its `teamAccess` is `true`
//! (access for the team only). Deleting is for the author, the lead and
//! administrators.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use tracker_domain::permissions::Perm;
use tracker_store::{
    EntityCommentRecord, EntityCommentWrite, EntityLinkRecord, EntityLinkWrite, EntityRecord,
    EntityWrite, NewEntityEvent, WriteOutcome,
};

use crate::access::entity_fields::parse_fields;
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

// ---------------------------------------------------------------------------
// Creating and editing.

/// Checks what a project needs (a name, and queues or a team access
/// setting) once its fields are read.
pub fn check_complete(e: &EntityRecord, creating: bool) -> ApiResult<()> {
    let f = fields_of(e);
    if f.get("summary").and_then(Value::as_str).is_none() {
        return Err(ApiError::field("summary", "Required: the name"));
    }
    if creating
        && e.entity_type == "project"
        && !f.contains_key("queues")
        && !f.contains_key("teamAccess")
    {
        return Err(ApiError::field(
            "queues",
            "A project needs queues or teamAccess",
        ));
    }
    Ok(())
}

/// A fresh entity of `kind` by the caller, before its fields are read.
pub fn fresh(principal: &Principal, kind: &str, now: DateTime<Utc>) -> EntityRecord {
    EntityRecord {
        pk: 0,
        org: principal.org.id,
        id: object_id(now),
        entity_type: kind.to_owned(),
        short_id: 0,
        version: 1,
        created_by: principal.user.uid,
        created_at: now,
        updated_at: now,
        fields: json!({"author": principal.user.uid}).to_string(),
    }
}

/// Creates an entity from a fields object: the one creation both APIs use.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    kind: &str,
    body: &Map<String, Value>,
) -> ApiResult<EntityRecord> {
    let now = state.clock.now();
    let mut e = fresh(principal, kind, now);
    let changes = parse_fields(state, principal.org.id, &mut e, body).await?;
    check_complete(&e, true)?;
    let created = event(principal, now, "Entity created", Value::Array(changes));
    Ok(state.store.create_entity(&e, &created).await?)
}

/// Writes a change of fields (and an optional comment) to an entity read
/// at the version the client saw: the one edit both APIs use.
pub async fn save_edit(
    state: &AppState,
    principal: &Principal,
    e: EntityRecord,
    body: &Map<String, Value>,
    comment: Option<String>,
    links: Vec<EntityLinkRecord>,
) -> ApiResult<EntityRecord> {
    let w = edit(state, principal, e, body, comment, links).await?;
    write(state, &w).await
}

/// The write a change of fields, a comment and links make to `e`, with
/// their events (none when nothing changes): what an edit request and each
/// entity of a bulk change write.
pub async fn edit(
    state: &AppState,
    principal: &Principal,
    mut e: EntityRecord,
    body: &Map<String, Value>,
    comment: Option<String>,
    links: Vec<EntityLinkRecord>,
) -> ApiResult<EntityWrite> {
    let now = state.clock.now();
    let named = named(state, principal.org.id, &links).await?;
    let changes = parse_fields(state, principal.org.id, &mut e, body).await?;
    check_complete(&e, false)?;
    let mut events = Vec::new();
    if !changes.is_empty() {
        events.push(event(
            principal,
            now,
            "Entity updated",
            Value::Array(changes),
        ));
    }
    let comment = comment.map(|text| {
        events.push(comment_event(
            principal,
            now,
            "Comment added",
            None,
            Some(&text),
        ));
        new_comment(principal, now, text, Vec::new())
    });
    if !named.is_empty() {
        events.push(links_event(principal, now, "Link added", &named));
    }
    e.updated_at = now;
    let mut w: EntityWrite = simple_write(e, events);
    w.comment = comment.map(EntityCommentWrite::Insert);
    w.links = links.into_iter().map(EntityLinkWrite::Insert).collect();
    Ok(w)
}

/// A new comment of the caller.
pub fn new_comment(
    principal: &Principal,
    now: DateTime<Utc>,
    text: String,
    summonees: Vec<i64>,
) -> EntityCommentRecord {
    EntityCommentRecord {
        pk: 0,
        entity_pk: 0,
        id: object_id(now),
        text,
        summonees,
        author: principal.user.uid,
        updated_by: principal.user.uid,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// A comment's event: its text before and after.
pub fn comment_event(
    principal: &Principal,
    now: DateTime<Utc>,
    display: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> tracker_store::NewEntityEvent {
    let changes = json!([{
        "field": {"id": "comment.text", "display": "Comment text"},
        "from": from,
        "to": to,
    }]);
    event(principal, now, display, changes)
}
// ---------------------------------------------------------------------------
// Links.

/// The relationships an entity link has, and each one's inverse.
const RELATIONSHIPS: [(&str, &str); 3] = [
    ("relates", "relates"),
    ("depends on", "is dependent by"),
    ("is dependent by", "depends on"),
];

fn inverse(relationship: &str) -> &str {
    RELATIONSHIPS
        .iter()
        .find(|(r, _)| *r == relationship)
        .map_or(relationship, |(_, i)| i)
}

/// The link's relationship and other end, seen from `e`.
pub fn seen_from(e: &EntityRecord, l: &EntityLinkRecord) -> (String, i64) {
    if l.entity_pk == e.pk {
        (l.relationship.clone(), l.target_pk)
    } else {
        (inverse(&l.relationship).to_owned(), l.entity_pk)
    }
}

/// New links a body names (one `{relationship, entity}` or a list of them),
/// from `e` to entities the caller may read.
pub async fn parse_links(
    state: &AppState,
    principal: &Principal,
    e: &EntityRecord,
    body: &Value,
) -> ApiResult<Vec<EntityLinkRecord>> {
    let items: Vec<&Value> = match body {
        Value::Array(l) => l.iter().collect(),
        one => vec![one],
    };
    let existing = state.store.entity_links(e.pk).await?;
    let now = state.clock.now();
    let mut out: Vec<EntityLinkRecord> = Vec::new();
    for item in items {
        let relationship = item
            .get("relationship")
            .and_then(Value::as_str)
            .map(|r| r.trim().to_ascii_lowercase())
            .filter(|r| RELATIONSHIPS.iter().any(|(k, _)| k == r))
            .ok_or_else(|| {
                ApiError::field(
                    "relationship",
                    "Expected relates, depends on or is dependent by",
                )
            })?;
        let target_id = item
            .get("entity")
            .and_then(crate::fields::ident)
            .ok_or_else(|| ApiError::field("entity", "Required: the id of an entity"))?;
        let target = state
            .store
            .entity(principal.org.id, &target_id)
            .await?
            .ok_or_else(|| ApiError::field("entity", format!("No entity {target_id}")))?;
        require(principal, &target, Perm::Read)?;
        let linked = |pk: i64| {
            existing.iter().any(|l| seen_from(e, l).1 == pk)
                || out.iter().any(|l| l.target_pk == pk)
        };
        if target.pk == e.pk || linked(target.pk) {
            return Err(ApiError::field(
                "entity",
                format!("{target_id} is this entity or already linked to it"),
            ));
        }
        out.push(EntityLinkRecord {
            pk: 0,
            entity_pk: e.pk,
            target_pk: target.pk,
            relationship,
            created_by: principal.user.uid,
            created_at: now,
        });
    }
    Ok(out)
}

/// The event of added links.
pub fn links_event(
    principal: &Principal,
    now: chrono::DateTime<chrono::Utc>,
    display: &str,
    links: &[(String, String)],
) -> tracker_store::NewEntityEvent {
    let changes: Vec<Value> = links
        .iter()
        .map(|(relationship, entity)| {
            json!({"field": {"id": "links", "display": "Links"},
                   "to": {"relationship": relationship, "entity": entity}})
        })
        .collect();
    event(principal, now, display, Value::Array(changes))
}

/// Each link's relationship and the public id of its other end.
pub async fn named(
    state: &AppState,
    org: i64,
    links: &[EntityLinkRecord],
) -> ApiResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for l in links {
        if let Some(t) = state.store.entity_by_pk(org, l.target_pk).await? {
            out.push((l.relationship.clone(), t.id));
        }
    }
    Ok(out)
}
