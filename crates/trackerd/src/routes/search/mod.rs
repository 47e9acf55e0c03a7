//! Finding issues: `POST /v2/issues/_search`, `POST /v2/issues/_count` and
//! `POST /v2/system/search/scroll/_clear`.
//!
//! The store hands over the candidates (the organization's issues, narrowed
//! by queue or keys); the query language (`tracker-query`) is evaluated on
//! them in memory, and only issues the caller may read survive. The choices
//! where the reference is silent are listed in docs/COMPATIBILITY.md.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Map, Value as Json_};
use tracker_domain::dictionaries;
use tracker_domain::permissions::Perm;
use tracker_query::{
    fields as qfields, Context, Document, Expr, Field, FieldKind, FieldRef, Function, Operand,
    Predicate, Query, SortKey, Span, Value,
};
use tracker_store::{
    Col, IssueFilter, IssueRecord, IssueSearch, Order, OrderBy, QueueRecord, SqlValue,
};

use crate::access::Guard;
use crate::app::{AppState, Links, OptionalJson};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::paging::{Page, PageParams};
use crate::render::Renderer;
use crate::routes::issues::{render_issue_with, GetParams};

mod plan;

/// Page paging stops here, as in Tracker: deeper results need a scroll.
pub const PAGE_PAGING_LIMIT: i64 = 10_000;
pub const DEFAULT_PER_SCROLL: usize = 100;
pub const MAX_PER_SCROLL: usize = 1000;
pub const DEFAULT_SCROLL_TTL_MS: i64 = 60_000;
/// A scroll lives at most this long between two pages, whatever it asks for.
pub const MAX_SCROLL_TTL_MS: i64 = 3_600_000;

const COMBINED: &str = "You can only use keys, a queue, or a search query";

#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    pub expand: Option<String>,
    #[serde(default)]
    pub fields: Option<String>,
    #[serde(default)]
    pub page: Option<i64>,
    #[serde(default, rename = "perPage")]
    pub per_page: Option<i64>,
    #[serde(default, rename = "scrollType")]
    pub scroll_type: Option<String>,
    #[serde(default, rename = "perScroll")]
    pub per_scroll: Option<i64>,
    #[serde(default, rename = "scrollTTLMillis")]
    pub scroll_ttl_millis: Option<i64>,
    #[serde(default, rename = "scrollId")]
    pub scroll_id: Option<String>,
}

fn params(raw: Option<&str>) -> ApiResult<SearchParams> {
    // Empty values (`expand=&fields=` in Tracker's own links) mean "not given".
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|e| ApiError::BadRequest(format!("Invalid query parameters: {e}")))?;
    let kept: Vec<(String, String)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    let text = serde_urlencoded::to_string(&kept).map_err(ApiError::internal)?;
    serde_urlencoded::from_str(&text)
        .map_err(|e| ApiError::BadRequest(format!("Invalid query parameters: {e}")))
}

// ---------------------------------------------------------------------------------------------
// The request body: which issues, in which order.

/// How the result is ordered when nothing asks for an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Queue,
    Keys,
    /// `filter` and/or `query`, or nothing at all (every readable issue).
    Filter,
}

struct Search {
    form: Form,
    /// `None` when the queue does not exist: nothing matches.
    queue: Option<Option<QueueRecord>>,
    keys: Option<Vec<String>>,
    query: Query,
}

fn present<'a>(body: &'a Map<String, Json_>, key: &str) -> Option<&'a Json_> {
    body.get(key).filter(|v| !v.is_null())
}

async fn read_body(
    state: &AppState,
    principal: &Principal,
    body: &Map<String, Json_>,
) -> ApiResult<Search> {
    let queue = present(body, "queue");
    let keys = present(body, "keys");
    let filter = present(body, "filter");
    let query = present(body, "query");
    let forms = [
        queue.is_some(),
        keys.is_some(),
        filter.is_some() || query.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if forms > 1 {
        return Err(ApiError::BadRequest(COMBINED.into()));
    }
    if present(body, "filterId").is_some() {
        return Err(ApiError::BadRequest(
            "Saved filters (filterId) are not supported by trackerd yet".into(),
        ));
    }
    let order = order_keys(present(body, "order"))?;
    if let Some(q) = queue {
        let id = crate::fields::ident(q)
            .ok_or_else(|| ApiError::BadRequest("queue must be a queue key or id".into()))?;
        let org = principal.org.id;
        let found = match id.parse::<i64>() {
            Ok(n) => state.store.queue_by_id(org, n).await?,
            Err(_) => {
                state
                    .store
                    .queue_by_key(org, &id.to_ascii_uppercase())
                    .await?
            }
        };
        return Ok(Search {
            form: Form::Queue,
            queue: Some(found.filter(|q| q.deleted_at.is_none())),
            keys: None,
            query: Query {
                filter: None,
                sort: order,
            },
        });
    }
    if let Some(k) = keys {
        let keys = match k {
            Json_::String(s) => vec![s.trim().to_owned()],
            Json_::Array(items) => items
                .iter()
                .map(|v| match v {
                    Json_::String(s) => Ok(s.trim().to_owned()),
                    _ => Err(ApiError::BadRequest(
                        "keys must be an issue key or a list of them".into(),
                    )),
                })
                .collect::<ApiResult<Vec<_>>>()?,
            _ => {
                return Err(ApiError::BadRequest(
                    "keys must be an issue key or a list of them".into(),
                ))
            }
        };
        return Ok(Search {
            form: Form::Keys,
            queue: None,
            keys: Some(keys),
            query: Query {
                filter: None,
                sort: order,
            },
        });
    }
    let mut parts = Vec::new();
    if let Some(f) = filter {
        let Json_::Object(f) = f else {
            return Err(ApiError::BadRequest(
                "filter must be an object of field → value".into(),
            ));
        };
        parts.extend(filter_expr(f)?);
    }
    let mut sort = order;
    if let Some(q) = query {
        let Json_::String(text) = q else {
            return Err(ApiError::BadRequest("query must be a string".into()));
        };
        let parsed = tracker_query::parse(text)
            .map_err(|e| ApiError::BadRequest(format!("Invalid query: {e}")))?;
        parts.extend(parsed.filter);
        // The query's own "Sort by" wins over `order`.
        if !parsed.sort.is_empty() {
            sort = parsed.sort;
        }
    }
    let filter = match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Expr::And(parts)),
    };
    Ok(Search {
        form: Form::Filter,
        queue: None,
        keys: None,
        query: Query { filter, sort },
    })
}

/// `"+status"`, `"-updatedAt"`, `"key"`, or a list of them.
fn order_keys(v: Option<&Json_>) -> ApiResult<Vec<SortKey>> {
    let items: Vec<&str> = match v {
        None => Vec::new(),
        Some(Json_::String(s)) => vec![s.as_str()],
        Some(Json_::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .ok_or_else(|| ApiError::BadRequest("order must be a list of strings".into()))
            })
            .collect::<ApiResult<_>>()?,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "order must be \"[+/-]field\" or a list of them".into(),
            ))
        }
    };
    let mut out = Vec::new();
    for item in items {
        let item = item.trim();
        let (descending, name) = match item.as_bytes().first() {
            Some(b'-') => (true, &item[1..]),
            Some(b'+') => (false, &item[1..]),
            _ => (false, item),
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(ApiError::BadRequest(format!("Invalid order {item:?}")));
        }
        out.push(SortKey {
            field: FieldRef {
                field: field_named(name),
                span: Span::default(),
            },
            descending,
        });
    }
    Ok(out)
}

fn field_named(name: &str) -> Field {
    match qfields::lookup(name) {
        Some(def) => Field::Known(def.key),
        None => Field::Custom(name.to_owned()),
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The `filter` object as query-language conditions, one per field, ANDed.
/// Each value is written as query text and parsed, so a filter means exactly
/// what the same condition in `query` means.
fn filter_expr(filter: &Map<String, Json_>) -> ApiResult<Vec<Expr>> {
    let mut out = Vec::new();
    for (name, value) in filter {
        let field = field_named(name);
        let kind = field.kind();
        let mut preds = Vec::new();
        match value {
            Json_::Array(items) => {
                for item in items {
                    preds.push(filter_value(&field, kind, item)?);
                }
            }
            other => preds.push(filter_value(&field, kind, other)?),
        }
        if preds.is_empty() {
            continue;
        }
        let text = format!("{}: {}", quote(name), preds.join(", "));
        let parsed = tracker_query::parse(&text)
            .map_err(|e| ApiError::BadRequest(format!("Invalid filter value for {name}: {e}")))?;
        out.extend(parsed.filter);
    }
    Ok(out)
}

fn filter_value(field: &Field, kind: Option<FieldKind>, v: &Json_) -> ApiResult<String> {
    let bad = || {
        ApiError::BadRequest(format!(
            "Invalid filter value for {field}: {v}",
            field = field_label(field)
        ))
    };
    Ok(match v {
        Json_::Null => "empty()".into(),
        Json_::Bool(b) => quote(&b.to_string()),
        Json_::Number(n) => n.to_string(),
        Json_::String(s) => scalar_text(kind, s),
        Json_::Object(m) if m.contains_key("from") || m.contains_key("to") => {
            let end = |k: &str| -> ApiResult<Option<String>> {
                match m.get(k) {
                    None | Some(Json_::Null) => Ok(None),
                    Some(Json_::String(s)) => Ok(Some(scalar_text(kind, s))),
                    Some(Json_::Number(n)) => Ok(Some(n.to_string())),
                    Some(_) => Err(bad()),
                }
            };
            match (end("from")?, end("to")?) {
                (Some(a), Some(b)) => format!("{a}..{b}"),
                (Some(a), None) => format!(">= {a}"),
                (None, Some(b)) => format!("<= {b}"),
                (None, None) => return Err(bad()),
            }
        }
        Json_::Object(_) => match crate::fields::ident(v) {
            Some(s) => scalar_text(kind, &s),
            None => return Err(bad()),
        },
        Json_::Array(_) => return Err(bad()),
    })
}

fn field_label(f: &Field) -> String {
    match f {
        Field::Known(k) => (*k).to_owned(),
        Field::Local { queue, name } => format!("{queue}.{name}"),
        Field::Custom(n) => n.clone(),
    }
}

/// One filter value as query text: a function call (`empty()`, `me()`,
/// `today() - 1w`) as written, a login as `login@` for people, anything
/// else as a quoted string.
fn scalar_text(kind: Option<FieldKind>, s: &str) -> String {
    let t = s.trim();
    if is_function(t) {
        return t.to_owned();
    }
    if kind == Some(FieldKind::User)
        && !t.is_empty()
        && t.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return format!("{t}@");
    }
    quote(s)
}

/// Whether the text is a single function value (so a filter value cannot
/// smuggle in more query syntax).
fn is_function(t: &str) -> bool {
    if !t.contains('(') {
        return false;
    }
    match tracker_query::parse(&format!("x: {t}")) {
        Ok(Query {
            filter: Some(Expr::Condition(c)),
            sort,
        }) => {
            sort.is_empty()
                && c.predicates.len() == 1
                && !matches!(
                    c.predicates[0],
                    tracker_query::Predicate::Equals(tracker_query::Operand::Literal(_))
                        | tracker_query::Predicate::Exact(_)
                        | tracker_query::Predicate::NotExact(_)
                )
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Issues as the evaluator sees them.

/// What the documents of one request share: looked up once per request.
#[derive(Default)]
struct Facts {
    users: HashMap<i64, (String, String)>,
    queues: HashMap<i64, QueueRecord>,
    keys: HashMap<i64, Option<String>>,
    comments: HashMap<i64, Vec<String>>,
    /// The SQL answers of conditions [`sql_only`] replaced.
    sql_sets: Vec<std::collections::HashSet<i64>>,
    /// Changelog entries per issue: (who, when, `[{field, from, to}]`).
    changes: HashMap<i64, Vec<(i64, DateTime<Utc>, Json_)>>,
}

impl Facts {
    /// What evaluating `issues` needs, read in batches: their people, the
    /// organization's queues (already loaded by the caller), parents' keys,
    /// and when asked for, comments and history.
    async fn load(
        state: &AppState,
        org: i64,
        issues: &[IssueRecord],
        queues: &[(QueueRecord, tracker_domain::permissions::Grants)],
        with_comments: bool,
        with_changes: bool,
    ) -> ApiResult<Facts> {
        let mut f = Facts {
            queues: queues.iter().map(|(q, _)| (q.id, q.clone())).collect(),
            keys: issues.iter().map(|i| (i.pk, Some(i.key.clone()))).collect(),
            ..Facts::default()
        };
        let mut uids: Vec<i64> = issues
            .iter()
            .flat_map(|i| {
                [Some(i.author), Some(i.updated_by), i.assignee]
                    .into_iter()
                    .flatten()
                    .chain(i.followers.iter().copied())
            })
            .collect();
        if with_changes {
            let q = tracker_store::ChangelogQuery {
                limit: i64::MAX,
                ..Default::default()
            };
            for i in issues {
                let mut list = Vec::new();
                for c in state.store.list_changelog(i.pk, &q).await? {
                    uids.push(c.updated_by);
                    let fields = serde_json::from_str(&c.fields).unwrap_or(Json_::Null);
                    for change in fields.as_array().into_iter().flatten() {
                        uids.extend(
                            ["from", "to"]
                                .iter()
                                .filter_map(|end| change[*end].as_i64()),
                        );
                    }
                    list.push((c.updated_by, c.updated_at, fields));
                }
                f.changes.insert(i.pk, list);
            }
        }
        if with_comments {
            let pks: Vec<i64> = issues.iter().map(|i| i.pk).collect();
            for chunk in pks.chunks(500) {
                for (pk, text) in state.store.comment_texts(chunk).await? {
                    f.comments.entry(pk).or_default().push(text);
                }
            }
        }
        uids.sort_unstable();
        uids.dedup();
        for chunk in uids.chunks(500) {
            for u in state.store.users_by_uids(chunk).await? {
                f.users.insert(u.uid, (u.login.clone(), u.display()));
            }
        }
        let mut parents: Vec<i64> = issues
            .iter()
            .filter_map(|i| i.parent_pk)
            .filter(|p| !f.keys.contains_key(p))
            .collect();
        parents.sort_unstable();
        parents.dedup();
        for chunk in parents.chunks(500) {
            for p in state.store.issues_by_pks(org, chunk).await? {
                f.keys.insert(p.pk, Some(p.key));
            }
        }
        Ok(f)
    }
}

struct Doc<'a> {
    issue: &'a IssueRecord,
    facts: &'a Facts,
    extra: Map<String, Json_>,
}

impl<'a> Doc<'a> {
    fn new(issue: &'a IssueRecord, facts: &'a Facts) -> Self {
        let extra = match serde_json::from_str(&issue.extra) {
            Ok(Json_::Object(m)) => m,
            _ => Map::new(),
        };
        Doc {
            issue,
            facts,
            extra,
        }
    }

    fn user(&self, uid: i64) -> Value {
        match self.facts.users.get(&uid) {
            Some((login, display)) => Value::user(login, display),
            None => Value::user(uid.to_string(), uid.to_string()),
        }
    }

    fn queue(&self) -> Option<&QueueRecord> {
        self.facts.queues.get(&self.issue.queue_id)
    }

    fn extra_values(&self, key: &str) -> Vec<Value> {
        let found = self.extra.get(key).or_else(|| {
            self.extra
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        });
        found.map(json_values).unwrap_or_default()
    }
}

fn dict(d: &'static [dictionaries::Entry], key: &str) -> Value {
    match dictionaries::by_key(d, key) {
        Some(e) => Value::Entity {
            key: e.key.to_owned(),
            display: e.display.to_owned(),
        },
        None => Value::name(key),
    }
}

/// A stored field value as query values: dates, instants, numbers, ISO
/// durations and names.
fn json_values(v: &Json_) -> Vec<Value> {
    match v {
        Json_::Null => Vec::new(),
        Json_::Array(items) => items.iter().flat_map(json_values).collect(),
        Json_::Bool(b) => vec![Value::name(b.to_string())],
        Json_::Number(n) => n.as_f64().map(Value::Number).into_iter().collect(),
        Json_::String(s) => {
            if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                vec![Value::Date(d)]
            } else if let Some(t) = tracker_api::time::parse(s) {
                vec![Value::DateTime(t)]
            } else if let Some(secs) = iso_duration(s) {
                vec![Value::Duration(secs)]
            } else {
                vec![Value::name(s.clone())]
            }
        }
        Json_::Object(_) => crate::fields::ident(v)
            .map(Value::name)
            .into_iter()
            .collect(),
    }
}

/// `P1W`, `P2DT3H`, `PT30M`: seconds (a week 7 days, a day 24 hours).
fn iso_duration(s: &str) -> Option<i64> {
    let rest = s.strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut num = String::new();
    let mut in_time = false;
    for c in rest.chars() {
        match c {
            'T' if num.is_empty() => in_time = true,
            '0'..='9' => num.push(c),
            _ => {
                let n: i64 = num.parse().ok()?;
                num.clear();
                let unit = match (c, in_time) {
                    ('W', false) => 7 * 86_400,
                    ('D', false) => 86_400,
                    ('H', true) => 3_600,
                    ('M', true) => 60,
                    ('S', true) => 1,
                    _ => return None,
                };
                total = total.checked_add(n.checked_mul(unit)?)?;
            }
        }
    }
    num.is_empty().then_some(total)
}

impl Doc<'_> {
    /// A raw changelog value of `field` as the evaluator compares it.
    fn change_value(&self, field: &str, raw: &Json_) -> Option<Value> {
        match (field, raw) {
            (_, Json_::Null) => None,
            ("status" | "previousStatus", Json_::String(s)) => {
                Some(dict(dictionaries::STATUSES, s))
            }
            ("priority", Json_::String(s)) => Some(dict(dictionaries::PRIORITIES, s)),
            ("type", Json_::String(s)) => Some(dict(dictionaries::ISSUE_TYPES, s)),
            ("resolution", Json_::String(s)) => Some(dict(dictionaries::RESOLUTIONS, s)),
            ("assignee" | "createdBy" | "updatedBy", Json_::Number(n)) => {
                n.as_i64().map(|u| self.user(u))
            }
            ("summary" | "description", Json_::String(s)) => Some(Value::Text(s.clone())),
            (_, other) => json_values(other).into_iter().next(),
        }
    }
}

impl Document for Doc<'_> {
    fn changes(&self, field: &Field) -> Vec<tracker_query::Change> {
        let name = match field {
            Field::Known(k) => (*k).to_owned(),
            Field::Custom(n) => n.clone(),
            Field::Local { name, .. } => name.clone(),
        };
        let mut out = Vec::new();
        for (by, at, fields) in self.facts.changes.get(&self.issue.pk).into_iter().flatten() {
            for c in fields.as_array().into_iter().flatten() {
                if c["field"].as_str() == Some(name.as_str()) {
                    out.push(tracker_query::Change {
                        from: self.change_value(&name, &c["from"]),
                        to: self.change_value(&name, &c["to"]),
                        by: self.user(*by),
                        at: *at,
                    });
                }
            }
        }
        out
    }

    fn values(&self, field: &Field) -> Vec<Value> {
        let i = self.issue;
        let at = |t: &Option<DateTime<Utc>>| t.map(Value::DateTime).into_iter().collect();
        match field {
            Field::Known(key) => match *key {
                "key" => std::iter::once(&i.key)
                    .chain(&i.aliases)
                    .map(|k| Value::name(k.clone()))
                    .collect(),
                "queue" => self
                    .queue()
                    .map(|q| Value::Entity {
                        key: q.key.clone(),
                        display: q.name.clone(),
                    })
                    .into_iter()
                    .collect(),
                "summary" => vec![Value::Text(i.summary.clone())],
                "description" => i.description.clone().map(Value::Text).into_iter().collect(),
                "comment" => self
                    .facts
                    .comments
                    .get(&i.pk)
                    .into_iter()
                    .flatten()
                    .map(|t| Value::Text(t.clone()))
                    .collect(),
                "status" => vec![dict(dictionaries::STATUSES, &i.status)],
                "priority" => vec![dict(dictionaries::PRIORITIES, &i.priority)],
                "type" => vec![dict(dictionaries::ISSUE_TYPES, &i.issue_type)],
                "resolution" => i
                    .resolution
                    .iter()
                    .map(|r| dict(dictionaries::RESOLUTIONS, r))
                    .collect(),
                "assignee" => i.assignee.map(|u| self.user(u)).into_iter().collect(),
                "createdBy" => vec![self.user(i.author)],
                "updatedBy" => vec![self.user(i.updated_by)],
                "followers" => i.followers.iter().map(|u| self.user(*u)).collect(),
                "createdAt" => vec![Value::DateTime(i.created_at)],
                "updatedAt" => vec![Value::DateTime(i.updated_at)],
                "resolvedAt" => at(&i.resolved_at),
                "lastCommentUpdatedAt" => at(&i.last_comment_updated_at),
                "votes" => vec![Value::Number(i.votes as f64)],
                "tags" => i.tags.iter().map(|t| Value::name(t.clone())).collect(),
                "parent" => i
                    .parent_pk
                    .and_then(|p| self.facts.keys.get(&p).cloned().flatten())
                    .map(Value::name)
                    .into_iter()
                    .collect(),
                other => self.extra_values(other),
            },
            Field::Custom(name) if name.starts_with(SQL_SET) => {
                let n: usize = name[SQL_SET.len()..].parse().unwrap_or(usize::MAX);
                let hit = self
                    .facts
                    .sql_sets
                    .get(n)
                    .is_some_and(|s| s.contains(&i.pk));
                if hit {
                    vec![Value::name("1")]
                } else {
                    Vec::new()
                }
            }
            Field::Custom(name) => match name.as_str() {
                "statusStartTime" => vec![Value::DateTime(i.status_start_time)],
                "previousStatus" => i
                    .previous_status
                    .iter()
                    .map(|s| dict(dictionaries::STATUSES, s))
                    .collect(),
                "unique" => i.unique.clone().map(Value::name).into_iter().collect(),
                "id" => vec![Value::name(i.id.clone())],
                other => self.extra_values(other),
            },
            Field::Local { queue, name } => {
                if !self
                    .queue()
                    .is_some_and(|q| q.key.eq_ignore_ascii_case(queue))
                {
                    return Vec::new();
                }
                let suffix = format!("--{}", name.to_lowercase());
                self.extra
                    .iter()
                    .filter(|(k, _)| k.to_lowercase().ends_with(&suffix))
                    .flat_map(|(_, v)| json_values(v))
                    .collect()
            }
        }
    }
}

/// Issue keys in their natural order: queue, then number (`TEST-2` < `TEST-10`).
fn key_order(a: &str, b: &str) -> Ordering {
    let split = |k: &str| match k.rsplit_once('-') {
        Some((q, n)) => (q.to_owned(), n.parse::<u64>().unwrap_or(0)),
        None => (k.to_owned(), 0),
    };
    split(a).cmp(&split(b))
}

fn compare(sort: &[SortKey], a: &Doc<'_>, b: &Doc<'_>) -> Ordering {
    for key in sort {
        let ord = if key.field.field == Field::Known("key") {
            let o = key_order(&a.issue.key, &b.issue.key);
            if key.descending {
                o.reverse()
            } else {
                o
            }
        } else {
            Query {
                filter: None,
                sort: vec![key.clone()],
            }
            .compare(a, b)
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    key_order(&a.issue.key, &b.issue.key)
}

// ---------------------------------------------------------------------------------------------
// Running a search.

/// What a search found: how many issues match and the internal keys of
/// those in the window asked for, in order.
struct Found {
    total: i64,
    pks: Vec<i64>,
}

#[derive(Clone, Copy)]
enum Window {
    Count,
    Page { offset: i64, limit: i64 },
    All,
}

/// Whether some leaf (a condition or full-text words) of the expression
/// passes `test`: tells what a search must load before it runs.
fn any_leaf(e: &Expr, test: &impl Fn(&Expr) -> bool) -> bool {
    match e {
        Expr::And(items) | Expr::Or(items) => items.iter().any(|i| any_leaf(i, test)),
        leaf => test(leaf),
    }
}

fn any_predicate(e: &Expr, test: impl Fn(&Predicate) -> bool) -> bool {
    any_leaf(
        e,
        &|leaf| matches!(leaf, Expr::Condition(c) if c.predicates.iter().any(&test)),
    )
}

/// Whether the expression names people (so the members must be known).
fn mentions_people(e: &Expr) -> bool {
    any_leaf(
        e,
        &|leaf| matches!(leaf, Expr::Condition(c) if c.field.field.kind() == Some(FieldKind::User)),
    ) || any_predicate(
        e,
        |p| matches!(p, Predicate::Changed(ch) if ch.by.is_some()),
    )
}

/// Whether `group(…)` appears (so the groups' members must be known).
fn uses_groups(e: &Expr) -> bool {
    fn group(p: &Predicate) -> bool {
        let op = |o: &Operand| matches!(o, Operand::Function(f) if matches!(f.function, Function::Group(_)));
        match p {
            Predicate::Equals(o) | Predicate::NotEquals(o) | Predicate::Compare(_, o) => op(o),
            Predicate::Range(a, b) => op(a) || op(b),
            Predicate::Changed(ch) => [&ch.from, &ch.to, &ch.by, &ch.date]
                .into_iter()
                .flatten()
                .any(group),
            _ => false,
        }
    }
    any_predicate(e, group)
}

/// Whether evaluating in memory needs the issues' comments.
fn mentions_text(e: &Expr) -> bool {
    any_leaf(e, &|leaf| match leaf {
        Expr::Text(_) => true,
        Expr::Condition(c) => c.field.field == Field::Known("comment"),
        _ => false,
    })
}

/// Whether evaluating in memory needs the issues' history.
fn mentions_changes(e: &Expr) -> bool {
    any_predicate(e, |p| matches!(p, Predicate::Changed(_)))
}

async fn run(
    state: &AppState,
    principal: &Principal,
    search: &Search,
    sorted: bool,
    window: Window,
) -> ApiResult<Found> {
    let org = principal.org.id;
    let uid = principal.user.uid;
    let queues = state.store.queues_with_grants(org).await?;
    let groups = if principal.org_admin {
        Vec::new()
    } else {
        state.store.groups_of(org, uid).await?
    };
    let readable = plan::readable(uid, principal.org_admin, &groups, &queues);
    let mut ctx = Context::new(principal.user.login.clone(), state.clock.now());
    let filter_expr = search.query.filter.as_ref();
    let mut people = Vec::new();
    if filter_expr.is_some_and(mentions_people) {
        let (members, _) = state.store.list_members(org, 0, i64::MAX).await?;
        let logins: HashMap<i64, String> =
            members.iter().map(|u| (u.uid, u.login.clone())).collect();
        if filter_expr.is_some_and(uses_groups) {
            for g in state.store.list_groups(org).await? {
                let members = g
                    .members
                    .iter()
                    .filter_map(|m| logins.get(m).cloned())
                    .collect();
                ctx.groups.insert(g.name, members);
            }
        }
        people = members
            .into_iter()
            .map(|u| plan::Person {
                uid: u.uid,
                display: u.display(),
                login: u.login,
            })
            .collect();
    }
    let planner = plan::Planner {
        ctx: &ctx,
        queues: &queues,
        people: &people,
    };
    let (filter, exact) = match (&search.queue, &search.keys) {
        (Some(None), _) => (IssueFilter::Nothing, true),
        (Some(Some(q)), _) => (IssueFilter::In(Col::Queue, vec![SqlValue::Int(q.id)]), true),
        (None, Some(keys)) => (
            IssueFilter::or(vec![
                IssueFilter::Keys(keys.iter().map(|k| k.to_uppercase()).collect()),
                IssueFilter::InIgnoreCase(Col::Id, keys.clone()),
            ]),
            true,
        ),
        (None, None) => filter_expr.map_or((IssueFilter::All, true), |e| planner.expr(e)),
    };
    let order = if sorted {
        planner.order(&search.query.sort)
    } else {
        Some(vec![Order {
            by: OrderBy::Col(Col::Pk),
            descending: false,
        }])
    };
    let s = IssueSearch {
        org,
        filter: IssueFilter::and(vec![readable, filter]),
        order: order.clone().unwrap_or_default(),
    };
    if exact && order.is_some() {
        let total = state.store.search_count(&s).await?;
        let pks = match window {
            Window::Count => Vec::new(),
            Window::Page { offset, .. } if offset >= total => Vec::new(),
            Window::Page { offset, limit } => {
                state.store.search_pks(&s, offset, Some(limit)).await?
            }
            Window::All => state.store.search_pks(&s, 0, None).await?,
        };
        return Ok(Found { total, pks });
    }
    // The SQL filter is wider than the query here: check each candidate in
    // memory (and sort there when the order is not a column).
    let candidates = state.store.search_pks(&s, 0, None).await?;
    let mut query = search.query.clone();
    let mut sql_sets = Vec::new();
    if let Some(e) = &mut query.filter {
        sql_only(state, org, &planner, e, &mut sql_sets).await?;
    }
    let query = &query;
    let mut issues = Vec::with_capacity(candidates.len());
    for chunk in candidates.chunks(500) {
        issues.extend(state.store.issues_by_pks(org, chunk).await?);
    }
    let with_comments = filter_expr.is_some_and(mentions_text);
    let with_changes = filter_expr.is_some_and(mentions_changes);
    let mut facts = Facts::load(state, org, &issues, &queues, with_comments, with_changes).await?;
    facts.sql_sets = sql_sets;
    let mut hits: Vec<Doc<'_>> = issues
        .iter()
        .map(|i| Doc::new(i, &facts))
        .filter(|d| query.matches(d, &ctx))
        .collect();
    if order.is_none() {
        hits.sort_by(|a, b| compare(&query.sort, a, b));
    }
    let total = hits.len() as i64;
    let pks = hits.iter().map(|d| d.issue.pk);
    let pks = match window {
        Window::Count => Vec::new(),
        Window::Page { offset, limit } => pks
            .skip(offset.max(0) as usize)
            .take(limit.max(0) as usize)
            .collect(),
        Window::All => pks.collect(),
    };
    Ok(Found { total, pks })
}

/// Prefix of the stand-in fields [`sql_only`] puts in the query.
const SQL_SET: &str = "\u{0}sql:";

/// Replaces each condition only SQL can answer (links, access lists,
/// comment authors) by a stand-in field whose value the issues in its SQL
/// answer have, so the in-memory evaluator can combine it with the rest.
fn sql_only<'a>(
    state: &'a AppState,
    org: i64,
    planner: &'a plan::Planner<'a>,
    e: &'a mut Expr,
    sets: &'a mut Vec<std::collections::HashSet<i64>>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ApiResult<()>> + Send + 'a>> {
    Box::pin(async move {
        match e {
            Expr::And(items) | Expr::Or(items) => {
                for item in items {
                    sql_only(state, org, planner, item, sets).await?;
                }
            }
            Expr::Text(_) => {}
            Expr::Condition(c) if planner.only_in_sql(c) => {
                let (filter, _) = planner.condition(c);
                let s = IssueSearch {
                    org,
                    filter,
                    order: Vec::new(),
                };
                let pks = state.store.search_pks(&s, 0, None).await?;
                sets.push(pks.into_iter().collect());
                let span = c.span;
                *c = tracker_query::Condition {
                    field: FieldRef {
                        field: Field::Custom(format!("{SQL_SET}{}", sets.len() - 1)),
                        span,
                    },
                    predicates: vec![tracker_query::Predicate::NotEmpty],
                    span,
                };
            }
            Expr::Condition(_) => {}
        }
        Ok(())
    })
}

/// The issues with these keys rendered as the search answers them, with one
/// renderer for the page (users and queues are looked up once).
async fn render_page(
    state: &AppState,
    principal: &Principal,
    links: &Links,
    pks: &[i64],
    get: &GetParams,
) -> ApiResult<Vec<Json_>> {
    let issues = state.store.issues_by_pks(principal.org.id, pks).await?;
    render_issues(state, principal, links, &issues, get).await
}

async fn render_issues(
    state: &AppState,
    principal: &Principal,
    links: &Links,
    issues: &[IssueRecord],
    get: &GetParams,
) -> ApiResult<Vec<Json_>> {
    let mut r =
        Renderer::new(links, state.store.as_ref(), principal.org.id).knowing(&principal.user, None);
    r.know_users(issues.iter().flat_map(|i| {
        [Some(i.author), Some(i.updated_by), i.assignee]
            .into_iter()
            .flatten()
            .chain(i.followers.iter().copied())
    }))
    .await?;
    let mut out = Vec::with_capacity(issues.len());
    for issue in issues {
        out.push(render_issue_with(&mut r, links, issue, get).await?);
    }
    Ok(out)
}

pub async fn count(
    State(state): State<AppState>,
    principal: Principal,
    OptionalJson(body): OptionalJson,
) -> ApiResult<Json<i64>> {
    let search = read_body(&state, &principal, &body).await?;
    let found = run(&state, &principal, &search, false, Window::Count).await?;
    Ok(Json(found.total))
}

pub async fn search(
    State(state): State<AppState>,
    principal: Principal,
    links: Links,
    RawQuery(raw): RawQuery,
    OptionalJson(body): OptionalJson,
) -> ApiResult<Response> {
    let p = params(raw.as_deref())?;
    let get = GetParams {
        expand: p.expand.clone(),
        fields: p.fields.clone(),
    };
    let url = links.api("issues/_search");
    if let Some(id) = &p.scroll_id {
        return next_scroll_page(
            &state,
            &principal,
            &links,
            &url,
            raw.as_deref(),
            &p,
            &get,
            id,
        )
        .await;
    }
    let search = read_body(&state, &principal, &body).await?;
    if let Some(kind) = &p.scroll_type {
        let sorted = match kind.as_str() {
            "sorted" => true,
            "unsorted" => false,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "scrollType must be sorted or unsorted, not {other:?}"
                )))
            }
        };
        if search.form != Form::Filter {
            return Err(ApiError::BadRequest("Scroll is not supported".into()));
        }
        let per = match p.per_scroll {
            None => DEFAULT_PER_SCROLL,
            Some(n) if (1..=MAX_PER_SCROLL as i64).contains(&n) => n as usize,
            Some(n) => {
                return Err(ApiError::BadRequest(format!(
                    "perScroll must be between 1 and {MAX_PER_SCROLL}, not {n}"
                )))
            }
        };
        let ttl = scroll_ttl(p.scroll_ttl_millis)?;
        let found = run(&state, &principal, &search, sorted, Window::All).await?;
        let total = found.pks.len();
        let first = &found.pks[..per.min(total)];
        let items = render_page(&state, &principal, &links, first, &get).await?;
        let mut headers = HeaderMap::new();
        put(&mut headers, "x-total-count", total.to_string());
        let first_link = format!(
            "<{url}?{}>; rel=\"first\"",
            link_query(raw.as_deref(), &["scrollId", "scrollToken"], &[])
        );
        let mut link = vec![first_link];
        if total > per {
            let token = state.scrolls.open(
                Scroll {
                    org: principal.org.id,
                    uid: principal.user.uid,
                    token: random_hex(),
                    pks: found.pks,
                    per,
                    ttl_ms: ttl,
                    expires: state.clock.now() + chrono::TimeDelta::milliseconds(ttl),
                },
                state.clock.now(),
            );
            let (ctx, secret) = token;
            let next_id = format!("{ctx}-{per}");
            link.push(next_link(&url, raw.as_deref(), &next_id, &secret, ttl));
            put(&mut headers, "x-scroll-id", next_id);
            put(&mut headers, "x-scroll-token", secret);
        }
        put(&mut headers, "link", link.join(", "));
        return Ok((StatusCode::OK, headers, Json(Json_::Array(items))).into_response());
    }

    let page = Page::from_params(&PageParams {
        page: p.page,
        per_page: p.per_page,
    })?;
    if page.number.saturating_mul(page.size) > PAGE_PAGING_LIMIT {
        return Err(ApiError::BadRequest(format!(
            "Page paging reaches only the first {PAGE_PAGING_LIMIT} issues \
             (page × perPage must not exceed it): use scrollType to read further"
        )));
    }
    let window = Window::Page {
        offset: page.offset(),
        limit: page.size,
    };
    let found = run(&state, &principal, &search, true, window).await?;
    let items = render_page(&state, &principal, &links, &found.pks, &get).await?;
    let headers = page.headers(found.total, &url, raw.as_deref());
    Ok((StatusCode::OK, headers, Json(Json_::Array(items))).into_response())
}

fn scroll_ttl(v: Option<i64>) -> ApiResult<i64> {
    match v {
        None => Ok(DEFAULT_SCROLL_TTL_MS),
        Some(n) if (1..=MAX_SCROLL_TTL_MS).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::BadRequest(format!(
            "scrollTTLMillis must be between 1 and {MAX_SCROLL_TTL_MS}, not {n}"
        ))),
    }
}

fn put(h: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        h.insert(HeaderName::from_static(name), v);
    }
}

/// The request's query without `drop`ped parameters, plus `add`.
fn link_query(raw: Option<&str>, drop: &[&str], add: &[(&str, String)]) -> String {
    let mut kept: Vec<(String, String)> = raw
        .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !drop.contains(&k.as_str()))
        .collect();
    kept.extend(add.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    serde_urlencoded::to_string(&kept).unwrap_or_default()
}

fn next_link(url: &str, raw: Option<&str>, id: &str, token: &str, ttl: i64) -> String {
    let q = link_query(
        raw,
        &[
            "scrollType",
            "perScroll",
            "scrollId",
            "scrollToken",
            "scrollTTLMillis",
            "page",
            "perPage",
        ],
        &[
            ("scrollTTLMillis", ttl.to_string()),
            ("scrollId", id.to_owned()),
            ("scrollToken", token.to_owned()),
        ],
    );
    format!("<{url}?{q}>; rel=\"next\"")
}

#[allow(clippy::too_many_arguments)]
async fn next_scroll_page(
    state: &AppState,
    principal: &Principal,
    links: &Links,
    url: &str,
    raw: Option<&str>,
    p: &SearchParams,
    get: &GetParams,
    id: &str,
) -> ApiResult<Response> {
    let gone = || ApiError::NotFound(format!("Scroll {id} does not exist or has expired"));
    let (ctx, offset) = id.split_once('-').ok_or_else(gone)?;
    let offset: usize = offset.parse().map_err(|_| gone())?;
    let now = state.clock.now();
    let ttl_override = p
        .scroll_ttl_millis
        .map(|t| scroll_ttl(Some(t)))
        .transpose()?;
    let (pks, per, total, token, ttl, last) = state
        .scrolls
        .page(
            ctx,
            principal.org.id,
            principal.user.uid,
            offset,
            now,
            ttl_override,
        )
        .ok_or_else(gone)?;
    // The set of issues is the snapshot; their content and the caller's
    // rights are today's.
    let mut guard = Guard::new(state, principal);
    let mut readable = Vec::with_capacity(pks.len());
    for issue in state.store.issues_by_pks(principal.org.id, &pks).await? {
        if guard.issue_allows(&issue, Perm::Read).await? {
            readable.push(issue);
        }
    }
    let items = render_issues(state, principal, links, &readable, get).await?;
    let mut headers = HeaderMap::new();
    put(&mut headers, "x-total-count", total.to_string());
    if !last {
        let next_id = format!("{ctx}-{}", offset + per);
        put(
            &mut headers,
            "link",
            next_link(url, raw, &next_id, &token, ttl),
        );
        put(&mut headers, "x-scroll-id", next_id);
        put(&mut headers, "x-scroll-token", token);
    }
    Ok((StatusCode::OK, headers, Json(Json_::Array(items))).into_response())
}

/// `POST /v2/system/search/scroll/_clear` with `{"<scrollId>": "<scrollToken>", …}`.
pub async fn clear_scroll(
    State(state): State<AppState>,
    principal: Principal,
    OptionalJson(body): OptionalJson,
) -> ApiResult<Json<Json_>> {
    let mut pairs = Vec::new();
    for (id, token) in &body {
        let Json_::String(token) = token else {
            return Err(ApiError::BadRequest(
                "The body maps scroll ids to their scroll tokens (strings)".into(),
            ));
        };
        pairs.push((id.clone(), token.clone()));
    }
    for (id, token) in pairs {
        let ctx = id.split_once('-').map(|(c, _)| c).unwrap_or(&id);
        state
            .scrolls
            .close(ctx, principal.org.id, principal.user.uid, &token);
    }
    Ok(Json(Json_::Object(Map::new())))
}

// ---------------------------------------------------------------------------------------------
// Scroll snapshots: kept in this process's memory (a scroll is served by the
// node that opened it).

pub struct Scroll {
    pub org: i64,
    pub uid: i64,
    pub token: String,
    /// The snapshot: matching issues in scroll order.
    pub pks: Vec<i64>,
    pub per: usize,
    pub ttl_ms: i64,
    pub expires: DateTime<Utc>,
}

#[derive(Default)]
pub struct Scrolls(Mutex<HashMap<String, Scroll>>);

fn random_hex() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..2)
        .map(|_| format!("{:016x}", rng.gen::<u64>()))
        .collect()
}

impl Scrolls {
    /// Stores a snapshot; answers its id and token. Expired snapshots are
    /// dropped on the way.
    fn open(&self, s: Scroll, now: DateTime<Utc>) -> (String, String) {
        let id = random_hex();
        let token = s.token.clone();
        if let Ok(mut map) = self.0.lock() {
            map.retain(|_, v| v.expires > now);
            map.insert(id.clone(), s);
        }
        (id, token)
    }

    /// The issues of the page at `offset`, the page size, the total, the
    /// token, the TTL and whether this is the last page (which closes it).
    #[allow(clippy::type_complexity)]
    fn page(
        &self,
        ctx: &str,
        org: i64,
        uid: i64,
        offset: usize,
        now: DateTime<Utc>,
        ttl: Option<i64>,
    ) -> Option<(Vec<i64>, usize, usize, String, i64, bool)> {
        let mut map = self.0.lock().ok()?;
        let s = map.get_mut(ctx)?;
        if s.org != org || s.uid != uid {
            return None;
        }
        if s.expires <= now {
            map.remove(ctx);
            return None;
        }
        if offset > s.pks.len() {
            return None;
        }
        if let Some(t) = ttl {
            s.ttl_ms = t;
        }
        s.expires = now + chrono::TimeDelta::milliseconds(s.ttl_ms);
        let end = (offset + s.per).min(s.pks.len());
        let out = (
            s.pks[offset..end].to_vec(),
            s.per,
            s.pks.len(),
            s.token.clone(),
            s.ttl_ms,
            end >= s.pks.len(),
        );
        if out.5 {
            map.remove(ctx);
        }
        Some(out)
    }

    fn close(&self, ctx: &str, org: i64, uid: i64, token: &str) -> bool {
        let Ok(mut map) = self.0.lock() else {
            return false;
        };
        let owned = map
            .get(ctx)
            .is_some_and(|s| s.org == org && s.uid == uid && s.token == token);
        if owned {
            map.remove(ctx);
        }
        owned
    }

    /// How many snapshots are held (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.0.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_become_query_text() {
        let user = Some(FieldKind::User);
        assert_eq!(scalar_text(user, "bob"), "bob@");
        assert_eq!(scalar_text(user, "me()"), "me()");
        assert_eq!(scalar_text(None, "Empty()"), "Empty()");
        assert_eq!(scalar_text(None, "a\"b"), "\"a\\\"b\"");
        // Query syntax hidden in a value stays a value.
        assert_eq!(
            scalar_text(None, "x() OR Queue: SECRET"),
            "\"x() OR Queue: SECRET\""
        );
    }

    #[test]
    fn iso_durations_are_seconds() {
        assert_eq!(iso_duration("P1W"), Some(7 * 86_400));
        assert_eq!(iso_duration("P1DT2H30M"), Some(86_400 + 9_000));
        assert_eq!(iso_duration("PT"), Some(0));
        assert_eq!(iso_duration("P1X"), None);
        assert_eq!(iso_duration("later"), None);
    }

    #[test]
    fn keys_sort_by_queue_then_number() {
        assert_eq!(key_order("TEST-2", "TEST-10"), Ordering::Less);
        assert_eq!(key_order("A-9", "B-1"), Ordering::Less);
    }

    #[test]
    fn a_used_up_scroll_page_closes_the_snapshot() {
        let s = Scrolls::default();
        let now = Utc::now();
        let (id, token) = s.open(
            Scroll {
                org: 1,
                uid: 2,
                token: "t".into(),
                pks: vec![1, 2, 3],
                per: 2,
                ttl_ms: 1000,
                expires: now + chrono::TimeDelta::seconds(1),
            },
            now,
        );
        assert_eq!(token, "t");
        assert!(s.page(&id, 1, 3, 2, now, None).is_none(), "another user");
        let (pks, _, total, _, _, last) = s.page(&id, 1, 2, 2, now, None).unwrap();
        assert_eq!((pks, total, last), (vec![3], 3, true));
        assert!(s.is_empty());
    }
}
