//! Queue automation: the rules engine behind macros, triggers and
//! auto-actions.
//!
//! - [`conditions`]: trigger conditions, evaluated without I/O against the
//!   facts of one event (the issue before and after, what changed, the
//!   comment);
//! - [`actions`]: the actions (field edits, transitions, comments, HTTP
//!   requests) read from JSON, and the placeholders of their texts;
//! - this file: firing the triggers of an issue's write ([`after_write`],
//!   called by `access::issues` after every committed write) and running
//!   actions as the robot through the same write path, under a chain-depth
//!   limit;
//! - [`webhooks`]: the outbox of HTTP requests, delivered by whichever node
//!   claims them, with retries, refusing private addresses;
//! - [`schedule`]: auto-actions run on their period over their filter, each
//!   tick by exactly one node.

pub mod actions;
pub mod conditions;
pub mod schedule;
pub mod webhooks;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{json, Map, Value};
use tracker_domain::{workflow, Scope, Scopes, TokenKind};
use tracker_store::{
    CommentWrite, IssueRecord, IssueWrite, NewChangelog, TemplateRecord, WriteOutcome,
};

use crate::access::changes::{self, Edit};
use crate::access::issues::{changelog, new_comment, pause, simple_write, write_outcome, ATTEMPTS};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actions::Action;
use conditions::{CommentFact, EventKind, Facts};

/// The kinds of automation, as kept in the templates table.
pub const MACRO: &str = "macro";
pub const TRIGGER: &str = tracker_store::TRIGGER_KIND;
pub const AUTOACTION: &str = "autoaction";

/// The account automation acts as: its changes show as this robot's.
pub const ROBOT_LOGIN: &str = "robot-tracker";

tokio::task_local! {
    /// How many trigger steps led to the write being made now.
    static DEPTH: u32;
}

type BoxFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Starts this node's automation loop: webhook deliveries and due
/// auto-actions every `automation.tick_ms` (0: none on this node).
pub fn spawn(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let every = state.config.automation.tick_ms;
    if every == 0 {
        return None;
    }
    // A fresh name per run, as the job worker's.
    let holder = format!("{:016x}", rand::random::<u64>());
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(every));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = webhooks::deliver_due(&state, &holder).await {
                tracing::warn!(error = format!("{e:#}"), "webhook deliveries failed");
            }
            if let Err(e) = schedule::tick(&state, &holder).await {
                tracing::warn!(error = format!("{e:#}"), "the auto-action schedule failed");
            }
        }
    }))
}

/// What one committed write of an issue did, for its triggers.
pub struct Written<'a> {
    pub issue: &'a IssueRecord,
    pub entries: Vec<&'a NewChangelog>,
    pub comment: Option<&'a tracker_store::CommentRecord>,
    /// The triggers of the issue's queue as the request read them, when it
    /// did (a create): none there means none to look up. Read before the
    /// write, so a trigger added while the request ran may not fire for
    /// it, as one added just after would not.
    pub queue_triggers: Option<i64>,
}

impl<'a> Written<'a> {
    pub fn of(w: &'a IssueWrite, saved: &'a IssueRecord) -> Self {
        Written {
            issue: saved,
            entries: w.changelog.iter().map(|(_, e)| e).collect(),
            comment: match &w.comment {
                Some(CommentWrite::Insert(c)) => Some(c),
                _ => None,
            },
            queue_triggers: None,
        }
    }

    /// A new issue, its creation's entry, and its queue as the request read
    /// it.
    pub fn created(
        issue: &'a IssueRecord,
        entry: &'a NewChangelog,
        queue: &tracker_store::QueueRecord,
    ) -> Self {
        Written {
            issue,
            entries: vec![entry],
            comment: None,
            queue_triggers: (queue.id == issue.queue_id).then_some(queue.triggers),
        }
    }
}

/// Fires the triggers of the issue's queue whose conditions the write
/// meets, running their actions. Called after the write committed: a
/// failing action is logged and never undoes or fails the write. Boxed:
/// the actions write through the same path, which calls this again.
pub fn after_write<'a>(state: &'a AppState, written: Written<'a>) -> BoxFuture<'a> {
    Box::pin(async move {
        if let Err(e) = fire(state, &written).await {
            tracing::warn!(issue = %written.issue.key, error = %e, "firing triggers failed");
        }
    })
}

async fn fire(state: &AppState, written: &Written<'_>) -> ApiResult<()> {
    let issue = written.issue;
    if written.queue_triggers == Some(0) {
        return Ok(());
    }
    let triggers = active_of_queue(state, issue.org, TRIGGER, issue.queue_id).await?;
    if triggers.is_empty() {
        return Ok(());
    }
    let depth = DEPTH.try_with(|d| *d).unwrap_or(0);
    if depth >= state.config.automation.max_chain_depth {
        tracing::warn!(
            issue = %issue.key,
            depth,
            "trigger chain limit reached: this change fires no more triggers"
        );
        return Ok(());
    }
    let facts = facts_of(state, written).await?;
    for (t, body) in triggers {
        let conds = conditions::parse_list(body.get("conditions").unwrap_or(&Value::Null))
            .unwrap_or_default();
        if !conditions::all(&conds, &facts) {
            continue;
        }
        let event = facts.events.first().map_or("Event.update", |e| e.name());
        DEPTH
            .scope(depth + 1, run_actions(state, &t, &body, issue.pk, event))
            .await;
    }
    Ok(())
}

/// The active automations of `kind` of a queue, with their content.
pub async fn active_of_queue(
    state: &AppState,
    org: i64,
    kind: &str,
    queue_id: i64,
) -> ApiResult<Vec<(TemplateRecord, Map<String, Value>)>> {
    let all = state.store.queue_templates(org, kind, queue_id).await?;
    Ok(all
        .into_iter()
        .map(|t| {
            let body: Map<String, Value> = serde_json::from_str(&t.body).unwrap_or_default();
            (t, body)
        })
        .filter(|(_, b)| b.get("active").and_then(Value::as_bool).unwrap_or(true))
        .collect())
}

/// The events a write is, from its changelog entries.
fn events_of(written: &Written<'_>) -> Vec<EventKind> {
    let mut events = Vec::new();
    for e in &written.entries {
        let kind = match e.kind.as_str() {
            "IssueCreated" => EventKind::Created,
            "IssueCommentAdded" => EventKind::Commented,
            _ => EventKind::Updated,
        };
        if !events.contains(&kind) {
            events.push(kind);
        }
    }
    // A transition's comment is a comment too.
    if written.comment.is_some() && !events.contains(&EventKind::Commented) {
        events.push(EventKind::Commented);
    }
    events
}

async fn facts_of(state: &AppState, written: &Written<'_>) -> ApiResult<Facts> {
    let issue = written.issue;
    let mut logins = Logins::default();
    let after = values_of(state, issue, &mut logins).await?;
    let mut before = after.clone();
    let mut changed = Vec::new();
    for e in &written.entries {
        let fields: Vec<Value> = serde_json::from_str(&e.fields).unwrap_or_default();
        for f in fields {
            let Some(field) = f.get("field").and_then(Value::as_str) else {
                continue;
            };
            let from = f.get("from").cloned().unwrap_or(Value::Null);
            before.insert(
                field.to_owned(),
                normalize(state, field, &from, &mut logins).await?,
            );
            if !changed.iter().any(|c| c == field) {
                changed.push(field.to_owned());
            }
        }
    }
    let comment = match written.comment {
        Some(c) => Some(CommentFact {
            text: c.text.clone(),
            author: logins.of(state, c.author).await?,
        }),
        None => None,
    };
    Ok(Facts {
        events: events_of(written),
        before,
        after,
        changed,
        comment,
    })
}

/// Logins by uid, looked up once per event.
#[derive(Default)]
struct Logins(std::collections::HashMap<i64, String>);

impl Logins {
    async fn of(&mut self, state: &AppState, uid: i64) -> ApiResult<String> {
        if let Some(l) = self.0.get(&uid) {
            return Ok(l.clone());
        }
        let login = state
            .store
            .user_by_uid(uid)
            .await?
            .map_or_else(|| uid.to_string(), |u| u.login);
        self.0.insert(uid, login.clone());
        Ok(login)
    }
}

const USER_FIELDS: &[&str] = &["assignee", "createdBy", "updatedBy", "followers", "author"];

/// A stored value as conditions compare it: users by login, ids as strings.
async fn normalize(
    state: &AppState,
    field: &str,
    raw: &Value,
    logins: &mut Logins,
) -> ApiResult<Value> {
    Ok(match raw {
        Value::Number(n) if USER_FIELDS.contains(&field) => match n.as_i64() {
            Some(uid) => json!(logins.of(state, uid).await?),
            None => json!(n.to_string()),
        },
        Value::Number(n) => json!(n.to_string()),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                out.push(Box::pin(normalize(state, field, i, logins)).await?);
            }
            Value::Array(out)
        }
        other => other.clone(),
    })
}

/// The issue's values as conditions and placeholders see them.
async fn values_of(
    state: &AppState,
    issue: &IssueRecord,
    logins: &mut Logins,
) -> ApiResult<Map<String, Value>> {
    let queue = state.store.queue_by_id(issue.org, issue.queue_id).await?;
    let time = |t: &chrono::DateTime<chrono::Utc>| json!(crate::render::time(t));
    let mut m = Map::new();
    let extra: Map<String, Value> = serde_json::from_str(&issue.extra).unwrap_or_default();
    m.extend(extra);
    m.insert("key".into(), json!(issue.key));
    m.insert("id".into(), json!(issue.id));
    m.insert("summary".into(), json!(issue.summary));
    m.insert("description".into(), json!(issue.description));
    m.insert("status".into(), json!(issue.status));
    m.insert("previousStatus".into(), json!(issue.previous_status));
    m.insert("resolution".into(), json!(issue.resolution));
    m.insert("type".into(), json!(issue.issue_type));
    m.insert("priority".into(), json!(issue.priority));
    m.insert("queue".into(), json!(queue.map(|q| q.key)));
    m.insert("tags".into(), json!(issue.tags));
    m.insert("votes".into(), json!(issue.votes.to_string()));
    m.insert("createdAt".into(), time(&issue.created_at));
    m.insert("updatedAt".into(), time(&issue.updated_at));
    m.insert(
        "resolvedAt".into(),
        json!(issue.resolved_at.as_ref().map(crate::render::time)),
    );
    m.insert("statusStartTime".into(), time(&issue.status_start_time));
    for (field, ids) in [
        ("components", &issue.components),
        ("fixVersions", &issue.fix_versions),
        ("affectedVersions", &issue.affected_versions),
    ] {
        m.insert(
            field.into(),
            json!(ids.iter().map(i64::to_string).collect::<Vec<_>>()),
        );
    }
    let assignee = match issue.assignee {
        Some(uid) => json!(logins.of(state, uid).await?),
        None => Value::Null,
    };
    m.insert("assignee".into(), assignee);
    m.insert(
        "createdBy".into(),
        json!(logins.of(state, issue.author).await?),
    );
    m.insert(
        "updatedBy".into(),
        json!(logins.of(state, issue.updated_by).await?),
    );
    let mut followers = Vec::new();
    for uid in &issue.followers {
        followers.push(logins.of(state, *uid).await?);
    }
    m.insert("followers".into(), json!(followers));
    Ok(m)
}

/// The robot of `org` as a caller: an administrator of the organization
/// (an automation acts on every issue of its queue), made on first use.
pub async fn robot(state: &AppState, org: i64) -> ApiResult<Principal> {
    let org = state
        .store
        .organization_by_pk(org)
        .await?
        .ok_or_else(|| ApiError::NotFound("Organization not found".into()))?;
    let user = match state.store.user_by_login(ROBOT_LOGIN).await? {
        Some(u) => {
            if state.store.membership(org.id, u.uid).await?.is_none() {
                state.store.put_membership(org.id, u.uid, true).await?;
            }
            u
        }
        None => {
            let spec = crate::ops::UserSpec {
                login: ROBOT_LOGIN.into(),
                first_name: "Robot".into(),
                last_name: "Tracker".into(),
                email: String::new(),
                admin: true,
                password: None,
            };
            crate::ops::put_user(state.store.as_ref(), state.clock.as_ref(), &org, &spec)
                .await
                .map_err(ApiError::internal)?
        }
    };
    Ok(Principal {
        user: Arc::new(user),
        org: Arc::new(org),
        scopes: Scopes::READ_WRITE,
        org_admin: true,
        token_id: 0,
        token_kind: TokenKind::OAuth,
        wanted: Scope::Write,
        authenticated: None,
    })
}

/// Runs an automation's actions on one issue as the robot, each as its
/// own write through the single write path (so the changelog, versions and
/// further triggers hold); a failing action is logged and the next runs.
pub async fn run_actions(
    state: &AppState,
    t: &TemplateRecord,
    body: &Map<String, Value>,
    issue_pk: i64,
    event: &str,
) {
    let list = match actions::parse_list(body.get("actions").unwrap_or(&Value::Null)) {
        Ok(list) => list,
        Err(e) => {
            tracing::warn!(automation = t.pk, error = %e, "an automation's actions are unreadable");
            return;
        }
    };
    let robot = match robot(state, t.org).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(automation = t.pk, error = %e, "the automation robot is unavailable");
            return;
        }
    };
    for action in &list {
        if let Err(e) = run_action(state, &robot, t, action, issue_pk, event).await {
            tracing::warn!(automation = t.pk, issue = issue_pk, error = %e, "an automation action failed");
        }
    }
}

async fn run_action(
    state: &AppState,
    robot: &Principal,
    t: &TemplateRecord,
    action: &Action,
    issue_pk: i64,
    event: &str,
) -> ApiResult<()> {
    for attempt in 0..ATTEMPTS {
        let Some(issue) = state.store.issue_by_pk(t.org, issue_pk).await? else {
            return Ok(());
        };
        let w = match action {
            Action::Update(body) => match changes::update(state, robot, issue, body, &[]).await? {
                Edit::Write(w) => *w,
                Edit::Unchanged(_) => return Ok(()),
            },
            Action::Transition(status) => {
                let Some(tr) = workflow::transitions_from(&issue.status)
                    .iter()
                    .find(|tr| tr.to == status.as_str())
                else {
                    // Already there, or not reachable from here: nothing to do.
                    return Ok(());
                };
                let mut body = Map::new();
                if tr.needs_resolution && issue.resolution.is_none() {
                    body.insert("resolution".into(), json!("fixed"));
                }
                changes::transition(state, robot, issue, tr.id, &body).await?
            }
            Action::Comment(text) => {
                let vars = placeholders(state, robot, &issue).await?;
                comment_write(state, robot, issue, actions::fill(text, &vars))
            }
            Action::Webhook(hook) => {
                let vars = placeholders(state, robot, &issue).await?;
                return webhooks::enqueue(state, t, hook, &issue, event, &vars).await;
            }
        };
        match write_outcome(state, w).await? {
            Ok(_) => return Ok(()),
            Err(WriteOutcome::VersionConflict) => pause(attempt).await,
            Err(other) => {
                return Err(ApiError::Conflict(format!(
                    "an automation's write lost: {other:?}"
                )))
            }
        }
    }
    Err(crate::access::issues::too_fast())
}

/// A comment by `principal` as one write of the issue.
pub fn comment_write(
    state: &AppState,
    principal: &Principal,
    mut issue: IssueRecord,
    text: String,
) -> IssueWrite {
    let now = state.clock.now();
    let comment = new_comment(principal, now, &mut issue, text, Vec::new());
    issue.updated_at = now;
    issue.updated_by = principal.user.uid;
    let entry = changelog(principal, now, "IssueCommentAdded", &[], json!({}));
    let mut w = simple_write(issue, entry);
    w.comment = Some(CommentWrite::Insert(comment));
    w
}

/// The values of `{{…}}` placeholders for an issue.
pub async fn placeholders(
    state: &AppState,
    principal: &Principal,
    issue: &IssueRecord,
) -> ApiResult<Map<String, Value>> {
    let values = values_of(state, issue, &mut Logins::default()).await?;
    let mut vars: Map<String, Value> = values
        .into_iter()
        .map(|(k, v)| (format!("issue.{k}"), v))
        .collect();
    let now = state.clock.now();
    vars.insert("currentUser".into(), json!(principal.user.login));
    vars.insert("currentDateTime".into(), json!(crate::render::time(&now)));
    vars.insert(
        "currentDateTime.date".into(),
        json!(now.format("%Y-%m-%d").to_string()),
    );
    Ok(vars)
}
