//! Turns stored records into Tracker's JSON, with the short reference
//! objects (`{"self","id","key","display"}`) that point from one object to
//! another. A [`Renderer`] lives for one request and remembers what it has
//! looked up, so a list of issues by the same people costs one lookup each.

use std::collections::HashMap;

use serde_json::{json, Map, Value};
use tracker_domain::dictionaries::{self, Entry};
use tracker_domain::workflow;
use tracker_store::{IssueRecord, QueueRecord, Store, User};

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::extract::Links;
use crate::fields::{ARRAY_FIELDS, GLOBAL_FIELDS};
use crate::state::AppState;

/// A reference to a queue, as every answer that names one shows it.
pub fn queue_ref(links: &Links, q: &QueueRecord) -> Value {
    json!({
        "self": links.api(&format!("queues/{}", q.key)),
        "id": q.id.to_string(),
        "key": q.key,
        "display": q.name,
    })
}

pub struct Renderer<'a> {
    pub links: &'a Links,
    store: &'a dyn Store,
    org: i64,
    users: HashMap<i64, Option<User>>,
    queues: HashMap<i64, Option<QueueRecord>>,
    issues: HashMap<i64, Option<(String, String, String)>>,
    /// Names of each queue's components and versions by id, read once per
    /// queue: a page of issues of one queue costs two lookups.
    catalogs: HashMap<i64, Catalog>,
    /// The request's time, where answers depend on it (a checklist
    /// deadline's `isExceeded`).
    now: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether anything rendered so far depended on `now`: such an answer
    /// is not the same a moment later, so it is never kept (see
    /// [`crate::answers`]).
    timed: std::cell::Cell<bool>,
}

#[derive(Default)]
struct Catalog {
    components: HashMap<i64, String>,
    versions: HashMap<i64, String>,
}

impl<'a> Renderer<'a> {
    /// The store this renderer reads references from.
    /// The time deadlines are judged at, when the renderer was told it.
    pub fn now(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.timed.set(true);
        self.now
    }

    /// Whether what was rendered so far is the same whenever it is
    /// rendered from the same data (it did not depend on the time).
    pub fn timeless(&self) -> bool {
        !self.timed.get()
    }

    /// The organization the renderer answers for.
    pub fn org(&self) -> i64 {
        self.org
    }

    pub fn store(&self) -> &'a dyn Store {
        self.store
    }
}

pub fn time(t: &chrono::DateTime<chrono::Utc>) -> Value {
    Value::String(tracker_api::time::format(t))
}

impl<'a> Renderer<'a> {
    pub fn new(links: &'a Links, store: &'a dyn Store, org: i64) -> Self {
        Self {
            links,
            store,
            org,
            users: HashMap::new(),
            queues: HashMap::new(),
            issues: HashMap::new(),
            catalogs: HashMap::new(),
            now: None,
            timed: std::cell::Cell::new(false),
        }
    }

    pub fn at(mut self, now: chrono::DateTime<chrono::Utc>) -> Self {
        self.now = Some(now);
        self
    }

    /// Records what the caller already holds, so rendering does not read it
    /// again (the creating user and the target queue of a create).
    pub fn knowing(mut self, user: &User, queue: Option<&QueueRecord>) -> Self {
        self.users.insert(user.uid, Some(user.clone()));
        if let Some(q) = queue {
            self.queues.insert(q.id, Some(q.clone()));
        }
        self
    }

    /// Records queues the caller has read already (a search reads all of
    /// its organization's).
    pub fn knowing_queues(mut self, queues: &[QueueRecord]) -> Self {
        for q in queues {
            self.queues.insert(q.id, Some(q.clone()));
        }
        self
    }

    pub fn entry(&self, collection: &str, e: Entry) -> Value {
        json!({
            "self": self.links.api(&format!("{collection}/{}", e.id)),
            "id": e.id.to_string(),
            "key": e.key,
            "display": e.display,
        })
    }

    /// A dictionary reference by key; unknown keys (data from a newer
    /// version) render as their bare key rather than failing the request.
    pub fn dict(&self, collection: &str, dict: &'static [Entry], key: &str) -> Value {
        match dictionaries::by_key(dict, key) {
            Some(e) => self.entry(collection, e),
            None => json!({ "id": key, "key": key, "display": key }),
        }
    }

    pub fn status(&self, key: &str) -> Value {
        let mut v = self.dict("statuses", dictionaries::STATUSES, key);
        v["type"] = json!(dictionaries::status_type(key));
        v
    }
    pub fn priority(&self, key: &str) -> Value {
        self.dict("priorities", dictionaries::PRIORITIES, key)
    }
    pub fn issue_type(&self, key: &str) -> Value {
        self.dict("issuetypes", dictionaries::ISSUE_TYPES, key)
    }
    pub fn resolution(&self, key: &str) -> Value {
        self.dict("resolutions", dictionaries::RESOLUTIONS, key)
    }

    /// Looks up in one statement the users not known yet (a page of
    /// issues names many).
    pub async fn know_users(&mut self, uids: impl IntoIterator<Item = i64>) -> ApiResult<()> {
        let mut missing: Vec<i64> = uids
            .into_iter()
            .filter(|u| !self.users.contains_key(u))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        for u in self.store.users_by_uids(&missing).await? {
            self.users.insert(u.uid, Some(u));
        }
        for uid in missing {
            self.users.entry(uid).or_insert(None);
        }
        Ok(())
    }

    /// Adds to the object `v` who created the record and when, and when it
    /// last changed; who changed it too, for records that keep it.
    pub async fn authorship(
        &mut self,
        v: &mut Value,
        (created_by, created_at): (i64, &chrono::DateTime<chrono::Utc>),
        (updated_by, updated_at): (Option<i64>, &chrono::DateTime<chrono::Utc>),
    ) -> ApiResult<()> {
        v["createdBy"] = self.user(created_by).await?;
        if let Some(uid) = updated_by {
            v["updatedBy"] = self.user(uid).await?;
        }
        v["createdAt"] = time(created_at);
        v["updatedAt"] = time(updated_at);
        Ok(())
    }

    pub async fn user(&mut self, uid: i64) -> ApiResult<Value> {
        if !self.users.contains_key(&uid) {
            let u = self.store.user_by_uid(uid).await?;
            self.users.insert(uid, u);
        }
        let display = match self.users.get(&uid) {
            Some(Some(u)) => u.display(),
            _ => uid.to_string(),
        };
        Ok(json!({
            "self": self.links.api(&format!("users/{uid}")),
            "id": uid.to_string(),
            "display": display,
        }))
    }

    pub async fn users(&mut self, uids: &[i64]) -> ApiResult<Value> {
        let mut out = Vec::with_capacity(uids.len());
        for uid in uids {
            out.push(self.user(*uid).await?);
        }
        Ok(Value::Array(out))
    }

    pub async fn queue_record(&mut self, id: i64) -> ApiResult<Option<QueueRecord>> {
        if !self.queues.contains_key(&id) {
            let q = self.store.queue_by_id(self.org, id).await?;
            self.queues.insert(id, q);
        }
        Ok(self.queues.get(&id).cloned().flatten())
    }

    pub fn queue_ref(&self, q: &QueueRecord) -> Value {
        queue_ref(self.links, q)
    }

    pub async fn queue(&mut self, id: i64) -> ApiResult<Value> {
        Ok(match self.queue_record(id).await? {
            Some(q) => self.queue_ref(&q),
            None => json!({ "id": id.to_string() }),
        })
    }

    pub fn issue_ref_of(&self, i: &IssueRecord) -> Value {
        json!({
            "self": self.links.api(&format!("issues/{}", i.key)),
            "id": i.id,
            "key": i.key,
            "display": i.summary,
        })
    }

    /// A user field's value is stored as `{"uid": …, "login": …}` (the
    /// login for the query language); it is answered as a user reference.
    async fn stored_users(&mut self, v: Value) -> ApiResult<Value> {
        let uid = |x: &Value| match x {
            Value::Object(o) if o.len() == 2 && o.contains_key("login") => {
                o.get("uid").and_then(Value::as_i64)
            }
            _ => None,
        };
        match v {
            Value::Array(items) if items.iter().any(|x| uid(x).is_some()) => {
                let mut out = Vec::with_capacity(items.len());
                for x in items {
                    out.push(match uid(&x) {
                        Some(u) => self.user(u).await?,
                        None => x,
                    });
                }
                Ok(Value::Array(out))
            }
            other => match uid(&other) {
                Some(u) => self.user(u).await,
                None => Ok(other),
            },
        }
    }

    pub async fn issue_ref(&mut self, pk: i64) -> ApiResult<Value> {
        if !self.issues.contains_key(&pk) {
            let i = self.store.issue_by_pk(self.org, pk).await?;
            self.issues.insert(pk, i.map(|i| (i.id, i.key, i.summary)));
        }
        Ok(match self.issues.get(&pk) {
            Some(Some((id, key, summary))) => json!({
                "self": self.links.api(&format!("issues/{key}")),
                "id": id,
                "key": key,
                "display": summary,
            }),
            _ => Value::Null,
        })
    }

    async fn catalog(&mut self, queue_id: i64) -> ApiResult<&Catalog> {
        if !self.catalogs.contains_key(&queue_id) {
            let org = self.org;
            let components = self.store.list_components(org, Some(queue_id)).await?;
            let versions = self.store.list_versions(org, Some(queue_id)).await?;
            let catalog = Catalog {
                components: components.into_iter().map(|c| (c.pk, c.name)).collect(),
                versions: versions.into_iter().map(|v| (v.pk, v.name)).collect(),
            };
            self.catalogs.insert(queue_id, catalog);
        }
        Ok(&self.catalogs[&queue_id])
    }

    /// An issue's components and versions as reference objects.
    async fn catalog_refs(&mut self, i: &IssueRecord, m: &mut Map<String, Value>) -> ApiResult<()> {
        if i.components.is_empty() && i.fix_versions.is_empty() && i.affected_versions.is_empty() {
            return Ok(());
        }
        let links = self.links;
        let catalog = self.catalog(i.queue_id).await?;
        let refs = |collection: &str, names: &HashMap<i64, String>, ids: &[i64]| {
            Value::Array(
                ids.iter()
                    .map(|id| {
                        json!({
                            "self": links.api(&format!("{collection}/{id}")),
                            "id": id.to_string(),
                            "display": names.get(id).cloned().unwrap_or_else(|| id.to_string()),
                        })
                    })
                    .collect(),
            )
        };
        for (field, collection, names, ids) in [
            (
                "components",
                "components",
                &catalog.components,
                &i.components,
            ),
            (
                "fixVersions",
                "versions",
                &catalog.versions,
                &i.fix_versions,
            ),
            (
                "affectedVersions",
                "versions",
                &catalog.versions,
                &i.affected_versions,
            ),
        ] {
            if !ids.is_empty() {
                m.insert(field.into(), refs(collection, names, ids));
            }
        }
        Ok(())
    }

    /// The full issue as `GET /v2/issues/{key}` answers it. Absent values are
    /// left out, as Tracker does.
    pub async fn issue(&mut self, i: &IssueRecord) -> ApiResult<Value> {
        let mut m = Map::new();
        m.insert(
            "self".into(),
            json!(self.links.api(&format!("issues/{}", i.key))),
        );
        m.insert("id".into(), json!(i.id));
        m.insert("key".into(), json!(i.key));
        m.insert("version".into(), json!(i.version));
        if let Some(t) = &i.last_comment_updated_at {
            m.insert("lastCommentUpdatedAt".into(), time(t));
        }
        m.insert("summary".into(), json!(i.summary));
        if let Some(p) = i.parent_pk {
            let r = self.issue_ref(p).await?;
            if !r.is_null() {
                m.insert("parent".into(), r);
            }
        }
        if !i.aliases.is_empty() {
            m.insert("aliases".into(), json!(i.aliases));
        }
        m.insert("updatedBy".into(), self.user(i.updated_by).await?);
        if let Some(d) = &i.description {
            m.insert("description".into(), json!(d));
        }
        m.insert("type".into(), self.issue_type(&i.issue_type));
        m.insert("priority".into(), self.priority(&i.priority));
        m.insert("createdAt".into(), time(&i.created_at));
        if !i.followers.is_empty() {
            m.insert("followers".into(), self.users(&i.followers).await?);
        }
        m.insert("createdBy".into(), self.user(i.author).await?);
        m.insert("votes".into(), json!(i.votes));
        if let Some(a) = i.assignee {
            m.insert("assignee".into(), self.user(a).await?);
        }
        m.insert("queue".into(), self.queue(i.queue_id).await?);
        m.insert("updatedAt".into(), time(&i.updated_at));
        m.insert("status".into(), self.status(&i.status));
        if let Some(p) = &i.previous_status {
            m.insert("previousStatus".into(), self.status(p));
        }
        m.insert("statusStartTime".into(), time(&i.status_start_time));
        if let Some(r) = &i.resolution {
            m.insert("resolution".into(), self.resolution(r));
        }
        if let Some(t) = &i.resolved_at {
            m.insert("resolvedAt".into(), time(t));
        }
        if !i.tags.is_empty() {
            m.insert("tags".into(), json!(i.tags));
        }
        self.catalog_refs(i, &mut m).await?;
        if let Some(u) = &i.unique {
            m.insert("unique".into(), json!(u));
        }
        m.insert(
            "commentWithoutExternalMessageCount".into(),
            json!(i.comment_count),
        );
        m.insert("commentWithExternalMessageCount".into(), json!(0));
        m.insert("favorite".into(), json!(false));
        if let Ok(Value::Object(extra)) = serde_json::from_str::<Value>(&i.extra) {
            for (k, v) in extra {
                if k == "checklistItems" {
                    let now = self.now();
                    let mut items = Vec::new();
                    for item in v.as_array().into_iter().flatten() {
                        if let Some(item) = item.as_object() {
                            items.push(
                                crate::routes::checklists::render_item(
                                    self,
                                    &format!("issues/{}", i.key),
                                    item,
                                    now,
                                )
                                .await?,
                            );
                        }
                    }
                    m.insert(k, Value::Array(items));
                } else if k == "sprint" {
                    let refs: Vec<Value> = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|s| {
                            let id = s["id"].as_str().unwrap_or_default();
                            json!({
                                "self": self.links.api(&format!("sprints/{id}")),
                                "id": id,
                                "display": s["display"],
                            })
                        })
                        .collect();
                    m.insert(k, Value::Array(refs));
                } else if let ("resolvedBy", Some(uid)) = (k.as_str(), v.as_i64()) {
                    // Kept by import as the uid it names.
                    m.insert(k, self.user(uid).await?);
                } else if !v.is_null() {
                    let v = self.stored_users(v).await?;
                    m.insert(k, v);
                }
            }
        }
        Ok(Value::Object(m))
    }
}

/// `expand` and `fields`: what an issue answer carries beyond the defaults.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct GetParams {
    pub expand: Option<String>,
    pub fields: Option<String>,
}

/// Renders an issue with `expand` and `fields` applied.
pub async fn render_issue(
    state: &AppState,
    principal: &Principal,
    links: &Links,
    issue: &IssueRecord,
    params: &GetParams,
) -> ApiResult<Value> {
    render_issue_with(
        &mut Renderer::new(links, state.store.as_ref(), principal.org.id)
            .knowing(&principal.user, None)
            .at(state.clock.now()),
        links,
        issue,
        params,
    )
    .await
}

/// [`render_issue`] with a renderer that may already know some references.
pub async fn render_issue_with(
    r: &mut Renderer<'_>,
    links: &Links,
    issue: &IssueRecord,
    params: &GetParams,
) -> ApiResult<Value> {
    let mut v = r.issue(issue).await?;
    let expand = params.expand.as_deref().unwrap_or("");
    if expand
        .split(',')
        .any(|e| matches!(e.trim(), "transitions" | "all"))
    {
        v["transitions"] = transitions_json(links, issue);
    }
    if expand
        .split(',')
        .any(|e| matches!(e.trim(), "attachments" | "all"))
    {
        v["attachments"] = crate::routes::attachments::render_all(r, issue).await?;
    }
    if let (Some(wanted), Value::Object(m)) = (&params.fields, &mut v) {
        let wanted: Vec<&str> = wanted
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        m.retain(|k, _| {
            matches!(k.as_str(), "self" | "id" | "key" | "version") || wanted.contains(&k.as_str())
        });
    }
    Ok(v)
}

pub fn transitions_json(links: &Links, issue: &IssueRecord) -> Value {
    Value::Array(
        workflow::transitions_from(&issue.status)
            .iter()
            .map(|t| transition_json(links, issue, t))
            .collect(),
    )
}

pub fn transition_json(links: &Links, issue: &IssueRecord, t: &workflow::Transition) -> Value {
    let to = dictionaries::by_key(dictionaries::STATUSES, t.to);
    json!({
        "self": links.api(&format!("issues/{}/transitions/{}", issue.key, t.id)),
        "id": t.id,
        "display": t.display,
        "to": to.map(|e| json!({
            "self": links.api(&format!("statuses/{}", e.id)),
            "id": e.id.to_string(),
            "key": e.key,
            "display": e.display,
            "type": dictionaries::status_type(e.key),
        })),
    })
}

/// A global field as `/v2/fields` describes it.
pub fn field_json(links: &Links, (id, name, kind): &(&str, &str, &str)) -> Value {
    json!({
        "self": links.api(&format!("fields/{id}")),
        "id": id,
        "name": name,
        "key": id,
        "version": 1,
        "schema": if ARRAY_FIELDS.contains(id) {
            json!({ "type": "array", "items": kind, "required": false })
        } else {
            json!({ "type": kind, "required": *id == "summary" })
        },
        "readonly": matches!(*id, "createdBy" | "createdAt" | "updatedAt" | "resolvedAt" | "status" | "queue"),
        "options": true,
        "suggest": false,
        "order": 1,
        // Every field trackerd knows is one of Tracker's standard, system
        // fields; created fields would carry their own category.
        "category": {
            "self": links.api(&format!("fields/categories/{SYSTEM_CATEGORY}")),
            "id": SYSTEM_CATEGORY,
            "display": "System",
        },
        "type": "standard",
    })
}

/// The id of Tracker's "System" field category.
pub const SYSTEM_CATEGORY: &str = "000000000000000000000001";

pub fn global_fields_json(links: &Links) -> Value {
    Value::Array(GLOBAL_FIELDS.iter().map(|f| field_json(links, f)).collect())
}

/// The one workflow every queue uses.
pub fn workflow_json(links: &Links) -> Value {
    let statuses: Vec<Value> = dictionaries::STATUSES
        .iter()
        .map(|s| {
            json!({
                "status": { "self": links.api(&format!("statuses/{}", s.id)), "id": s.id.to_string(), "key": s.key, "display": s.display },
                "transitions": workflow::transitions_from(s.key).iter().map(|t| json!({ "id": t.id, "display": t.display, "to": t.to })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "self": links.api(&format!("workflows/{}", workflow::WORKFLOW_ID)),
        "id": workflow::WORKFLOW_ID,
        "name": workflow::WORKFLOW_NAME,
        "initialStatus": { "key": dictionaries::INITIAL_STATUS },
        "steps": statuses,
    })
}
