//! Turns stored records into Tracker's JSON, with the short reference
//! objects (`{"self","id","key","display"}`) that point from one object to
//! another. A [`Renderer`] lives for one request and remembers what it has
//! looked up, so a list of issues by the same people costs one lookup each.

mod doc;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};
use tracker_domain::dictionaries::{self, Entry};
use tracker_domain::workflow;
use tracker_store::{IssueRecord, QueueRecord, Store, User};

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::extract::Links;
use crate::fields::{ARRAY_FIELDS, GLOBAL_FIELDS};
use crate::state::AppState;

pub use doc::IssueDoc;
use doc::{value_of, Piece, Ref};

/// A reference to a queue, as every answer that names one shows it.
pub fn queue_ref(links: &Links, q: &QueueRecord) -> Value {
    value_of(&queue_ref_of(links, q))
}

fn queue_ref_of(links: &Links, q: &QueueRecord) -> Ref {
    Ref {
        display: Some(q.name.clone()),
        id: q.id.to_string(),
        key: Some(q.key.clone()),
        link: Some(links.api(&format!("queues/{}", q.key))),
        kind: None,
    }
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
    /// References rendered so far, shared by every issue of a page that
    /// names the same person, queue or dictionary entry.
    user_refs: HashMap<i64, Arc<Ref>>,
    queue_refs: HashMap<i64, Arc<Ref>>,
    dict_refs: Vec<(&'static str, String, Arc<Ref>)>,
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
            user_refs: HashMap::new(),
            queue_refs: HashMap::new(),
            dict_refs: Vec::new(),
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

    fn entry_ref(&self, collection: &str, e: Entry) -> Ref {
        Ref {
            display: Some(e.display.to_owned()),
            id: e.id.to_string(),
            key: Some(e.key.to_owned()),
            link: Some(self.links.api(&format!("{collection}/{}", e.id))),
            kind: None,
        }
    }

    pub fn entry(&self, collection: &str, e: Entry) -> Value {
        value_of(&self.entry_ref(collection, e))
    }

    /// A dictionary reference by key; unknown keys (data from a newer
    /// version) render as their bare key rather than failing the request.
    /// Statuses carry their type.
    fn dict_ref(&self, collection: &str, dict: &'static [Entry], key: &str) -> Ref {
        let mut r = match dictionaries::by_key(dict, key) {
            Some(e) => self.entry_ref(collection, e),
            None => Ref {
                display: Some(key.to_owned()),
                id: key.to_owned(),
                key: Some(key.to_owned()),
                link: None,
                kind: None,
            },
        };
        if collection == "statuses" {
            r.kind = Some(dictionaries::status_type(key));
        }
        r
    }

    /// [`Self::dict_ref`], rendered once per renderer.
    fn kept_dict(
        &mut self,
        collection: &'static str,
        dict: &'static [Entry],
        key: &str,
    ) -> Arc<Ref> {
        if let Some((_, _, r)) = self
            .dict_refs
            .iter()
            .find(|(c, k, _)| *c == collection && k == key)
        {
            return r.clone();
        }
        let r = Arc::new(self.dict_ref(collection, dict, key));
        self.dict_refs.push((collection, key.to_owned(), r.clone()));
        r
    }

    pub fn dict(&self, collection: &str, dict: &'static [Entry], key: &str) -> Value {
        value_of(&self.dict_ref(collection, dict, key))
    }

    pub fn status(&self, key: &str) -> Value {
        self.dict("statuses", dictionaries::STATUSES, key)
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
        Ok(value_of(&*self.user_ref(uid).await?))
    }

    /// A user reference, rendered once per renderer.
    async fn user_ref(&mut self, uid: i64) -> ApiResult<Arc<Ref>> {
        if let Some(r) = self.user_refs.get(&uid) {
            return Ok(r.clone());
        }
        if !self.users.contains_key(&uid) {
            let u = self.store.user_by_uid(uid).await?;
            self.users.insert(uid, u);
        }
        let display = match self.users.get(&uid) {
            Some(Some(u)) => u.display(),
            _ => uid.to_string(),
        };
        let r = Arc::new(Ref {
            display: Some(display),
            id: uid.to_string(),
            key: None,
            link: Some(self.links.api(&format!("users/{uid}"))),
            kind: None,
        });
        self.user_refs.insert(uid, r.clone());
        Ok(r)
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
        Ok(value_of(&*self.kept_queue_ref(id).await?))
    }

    /// A queue reference by id (the bare id for a queue that is gone),
    /// rendered once per renderer.
    async fn kept_queue_ref(&mut self, id: i64) -> ApiResult<Arc<Ref>> {
        if let Some(r) = self.queue_refs.get(&id) {
            return Ok(r.clone());
        }
        let r = Arc::new(match self.queue_record(id).await? {
            Some(q) => queue_ref_of(self.links, &q),
            None => Ref {
                display: None,
                id: id.to_string(),
                key: None,
                link: None,
                kind: None,
            },
        });
        self.queue_refs.insert(id, r.clone());
        Ok(r)
    }

    fn issue_ref_parts(&self, id: &str, key: &str, summary: &str) -> Ref {
        Ref {
            display: Some(summary.to_owned()),
            id: id.to_owned(),
            key: Some(key.to_owned()),
            link: Some(self.links.api(&format!("issues/{key}"))),
            kind: None,
        }
    }

    pub fn issue_ref_of(&self, i: &IssueRecord) -> Value {
        value_of(&self.issue_ref_parts(&i.id, &i.key, &i.summary))
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
        Ok(match self.issue_ref_by_pk(pk).await? {
            Some(r) => value_of(&r),
            None => Value::Null,
        })
    }

    /// A reference to another issue of the organization, if it exists.
    async fn issue_ref_by_pk(&mut self, pk: i64) -> ApiResult<Option<Ref>> {
        if !self.issues.contains_key(&pk) {
            let i = self.store.issue_by_pk(self.org, pk).await?;
            self.issues.insert(pk, i.map(|i| (i.id, i.key, i.summary)));
        }
        Ok(match self.issues.get(&pk) {
            Some(Some((id, key, summary))) => Some(self.issue_ref_parts(id, key, summary)),
            _ => None,
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
    async fn catalog_refs(&mut self, i: &IssueRecord, d: &mut IssueDoc<'_>) -> ApiResult<()> {
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
                d.put(field, Piece::Value(refs(collection, names, ids)));
            }
        }
        Ok(())
    }

    /// The full issue as `GET /v2/issues/{key}` answers it. Absent values are
    /// left out, as Tracker does.
    pub async fn issue(&mut self, i: &IssueRecord) -> ApiResult<Value> {
        Ok(self.issue_doc(i).await?.to_value())
    }

    /// [`Self::issue`] as a document that serializes itself.
    async fn issue_doc<'i>(&mut self, i: &'i IssueRecord) -> ApiResult<IssueDoc<'i>> {
        let mut d = IssueDoc::with_capacity(32);
        d.put(
            "self",
            Piece::Owned(self.links.api(&format!("issues/{}", i.key))),
        );
        d.put("id", Piece::Str(&i.id));
        d.put("key", Piece::Str(&i.key));
        d.put("version", Piece::Int(i.version));
        if let Some(t) = &i.last_comment_updated_at {
            d.put("lastCommentUpdatedAt", Piece::Time(t));
        }
        d.put("summary", Piece::Str(&i.summary));
        if let Some(p) = i.parent_pk {
            if let Some(r) = self.issue_ref_by_pk(p).await? {
                d.put("parent", Piece::Ref(Arc::new(r)));
            }
        }
        if !i.aliases.is_empty() {
            d.put("aliases", Piece::Strs(&i.aliases));
        }
        d.put("updatedBy", Piece::Ref(self.user_ref(i.updated_by).await?));
        if let Some(desc) = &i.description {
            d.put("description", Piece::Str(desc));
        }
        d.put(
            "type",
            Piece::Ref(self.kept_dict("issuetypes", dictionaries::ISSUE_TYPES, &i.issue_type)),
        );
        d.put(
            "priority",
            Piece::Ref(self.kept_dict("priorities", dictionaries::PRIORITIES, &i.priority)),
        );
        d.put("createdAt", Piece::Time(&i.created_at));
        if !i.followers.is_empty() {
            let mut refs = Vec::with_capacity(i.followers.len());
            for uid in &i.followers {
                refs.push(self.user_ref(*uid).await?);
            }
            d.put("followers", Piece::Refs(refs));
        }
        d.put("createdBy", Piece::Ref(self.user_ref(i.author).await?));
        d.put("votes", Piece::Int(i.votes));
        if let Some(a) = i.assignee {
            d.put("assignee", Piece::Ref(self.user_ref(a).await?));
        }
        d.put("queue", Piece::Ref(self.kept_queue_ref(i.queue_id).await?));
        d.put("updatedAt", Piece::Time(&i.updated_at));
        d.put(
            "status",
            Piece::Ref(self.kept_dict("statuses", dictionaries::STATUSES, &i.status)),
        );
        if let Some(p) = &i.previous_status {
            d.put(
                "previousStatus",
                Piece::Ref(self.kept_dict("statuses", dictionaries::STATUSES, p)),
            );
        }
        d.put("statusStartTime", Piece::Time(&i.status_start_time));
        if let Some(r) = &i.resolution {
            d.put(
                "resolution",
                Piece::Ref(self.kept_dict("resolutions", dictionaries::RESOLUTIONS, r)),
            );
        }
        if let Some(t) = &i.resolved_at {
            d.put("resolvedAt", Piece::Time(t));
        }
        if !i.tags.is_empty() {
            d.put("tags", Piece::Strs(&i.tags));
        }
        self.catalog_refs(i, &mut d).await?;
        if let Some(u) = &i.unique {
            d.put("unique", Piece::Str(u));
        }
        d.put(
            "commentWithoutExternalMessageCount",
            Piece::Int(i.comment_count),
        );
        d.put("commentWithExternalMessageCount", Piece::Int(0));
        d.put("favorite", Piece::Bool(false));
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
                    d.put(k, Piece::Value(Value::Array(items)));
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
                    d.put(k, Piece::Value(Value::Array(refs)));
                } else if let ("resolvedBy", Some(uid)) = (k.as_str(), v.as_i64()) {
                    // Kept by import as the uid it names.
                    d.put(k, Piece::Ref(self.user_ref(uid).await?));
                } else if !v.is_null() {
                    let v = self.stored_users(v).await?;
                    d.put(k, Piece::Value(v));
                }
            }
        }
        Ok(d)
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
    Ok(render_doc_with(r, links, issue, params).await?.to_value())
}

/// [`render_issue_with`] as a document that serializes itself (a page of
/// issues is written from these without a `Value` of each).
pub async fn render_doc_with<'i>(
    r: &mut Renderer<'_>,
    links: &Links,
    issue: &'i IssueRecord,
    params: &GetParams,
) -> ApiResult<IssueDoc<'i>> {
    let mut d = r.issue_doc(issue).await?;
    let expand = params.expand.as_deref().unwrap_or("");
    if expand
        .split(',')
        .any(|e| matches!(e.trim(), "transitions" | "all"))
    {
        d.put("transitions", Piece::Value(transitions_json(links, issue)));
    }
    if expand
        .split(',')
        .any(|e| matches!(e.trim(), "attachments" | "all"))
    {
        d.put(
            "attachments",
            Piece::Value(crate::routes::attachments::render_all(r, issue).await?),
        );
    }
    if let Some(wanted) = &params.fields {
        let wanted: Vec<&str> = wanted
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        d.retain(|k| matches!(k, "self" | "id" | "key" | "version") || wanted.contains(&k));
    }
    Ok(d)
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
