//! Issues as the in-memory evaluator sees them: [`Doc`] answers
//! `tracker_query::Document` from an issue and the [`Facts`] its request
//! loaded once.

use std::cmp::Ordering;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value as Json_};
use tracker_domain::dictionaries;
use tracker_query::{Document, Field, Query, SortKey, Value};
use tracker_store::{IssueRecord, QueueRecord};

use crate::error::ApiResult;
use crate::state::AppState;

/// Prefix of the stand-in fields [`sql_only`] puts in the query.
pub(super) const SQL_SET: &str = "\u{0}sql:";

/// What the documents of one request share: looked up once per request.
#[derive(Default)]
pub(super) struct Facts {
    pub(super) users: HashMap<i64, (String, String)>,
    pub(super) queues: HashMap<i64, QueueRecord>,
    pub(super) keys: HashMap<i64, Option<String>>,
    pub(super) comments: HashMap<i64, Vec<String>>,
    /// The SQL answers of conditions [`sql_only`] replaced.
    pub(super) sql_sets: Vec<std::collections::HashSet<i64>>,
    /// Changelog entries per issue: (who, when, `[{field, from, to}]`).
    pub(super) changes: HashMap<i64, Vec<(i64, DateTime<Utc>, Json_)>>,
}

impl Facts {
    /// What evaluating `issues` needs, read in batches: their people, the
    /// organization's queues (already loaded by the caller), parents' keys,
    /// and when asked for, comments and history.
    pub(super) async fn load(
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
                    let c = c.entry;
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

pub(super) struct Doc<'a> {
    pub(super) issue: &'a IssueRecord,
    pub(super) facts: &'a Facts,
    pub(super) extra: Map<String, Json_>,
}

impl<'a> Doc<'a> {
    pub(super) fn new(issue: &'a IssueRecord, facts: &'a Facts) -> Self {
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
        // A local field named by its key alone: an issue holds only its own
        // queue's local fields, so the key is enough.
        let suffix = format!("--{}", key.to_lowercase());
        let found = found.or_else(|| {
            self.extra
                .iter()
                .find(|(k, _)| k.to_lowercase().ends_with(&suffix))
                .map(|(_, v)| v)
        });
        found.map(json_values).unwrap_or_default()
    }
}

pub(super) fn dict(d: &'static [dictionaries::Entry], key: &str) -> Value {
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
pub(super) fn json_values(v: &Json_) -> Vec<Value> {
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
pub(super) fn iso_duration(s: &str) -> Option<i64> {
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
                // Kept as `[{"id", "display"}]`: found by either.
                "sprint" => self
                    .extra
                    .get("sprint")
                    .and_then(Json_::as_array)
                    .into_iter()
                    .flatten()
                    .map(|s| Value::Entity {
                        key: s["id"].as_str().unwrap_or_default().to_owned(),
                        display: s["display"].as_str().unwrap_or_default().to_owned(),
                    })
                    .collect(),
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
pub(super) fn key_order(a: &str, b: &str) -> Ordering {
    let split = |k: &str| match k.rsplit_once('-') {
        Some((q, n)) => (q.to_owned(), n.parse::<u64>().unwrap_or(0)),
        None => (k.to_owned(), 0),
    };
    split(a).cmp(&split(b))
}

pub(super) fn compare(sort: &[SortKey], a: &Doc<'_>, b: &Doc<'_>) -> Ordering {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
