//! Running a search: the plan first, then, when the plan is not exact,
//! the candidates evaluated in memory.

use std::collections::HashMap;

use tracker_domain::permissions::Grants;
use tracker_query::{Context, Expr, Field, FieldKind, FieldRef, Function, Operand, Predicate};
use tracker_store::{Col, IssueFilter, IssueSearch, QueueRecord, SqlValue};

use super::body::*;
use super::document::*;
use super::plan;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What a search found: how many issues match and the internal keys of
/// those in the window asked for, in order.
pub(super) struct Found {
    pub(super) total: i64,
    pub(super) pks: Vec<i64>,
    /// The organization's queues as the search read them: rendering the
    /// page needs no other lookup of them.
    pub(super) queues: Vec<QueueRecord>,
}

#[derive(Clone, Copy)]
pub(super) enum Window {
    Count,
    Page { offset: i64, limit: i64 },
    All,
}

/// Whether some leaf (a condition or full-text words) of the expression
/// passes `test`: tells what a search must load before it runs.
pub(super) fn any_leaf(e: &Expr, test: &impl Fn(&Expr) -> bool) -> bool {
    match e {
        Expr::And(items) | Expr::Or(items) => items.iter().any(|i| any_leaf(i, test)),
        leaf => test(leaf),
    }
}

pub(super) fn any_predicate(e: &Expr, test: impl Fn(&Predicate) -> bool) -> bool {
    any_leaf(
        e,
        &|leaf| matches!(leaf, Expr::Condition(c) if c.predicates.iter().any(&test)),
    )
}

/// Whether the expression names people (so the members must be known).
pub(super) fn mentions_people(e: &Expr) -> bool {
    any_leaf(
        e,
        &|leaf| matches!(leaf, Expr::Condition(c) if c.field.field.kind() == Some(FieldKind::User)),
    ) || any_predicate(
        e,
        |p| matches!(p, Predicate::Changed(ch) if ch.by.is_some()),
    )
}

/// Whether `group(…)` appears (so the groups' members must be known).
pub(super) fn uses_groups(e: &Expr) -> bool {
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
pub(super) fn mentions_text(e: &Expr) -> bool {
    any_leaf(e, &|leaf| match leaf {
        Expr::Text(_) => true,
        Expr::Condition(c) => c.field.field == Field::Known("comment"),
        _ => false,
    })
}

/// Whether evaluating in memory needs the issues' history.
pub(super) fn mentions_changes(e: &Expr) -> bool {
    any_predicate(e, |p| matches!(p, Predicate::Changed(_)))
}

pub(super) async fn run(
    state: &AppState,
    principal: &Principal,
    search: &Search,
    sorted: bool,
    window: Window,
) -> ApiResult<Found> {
    // Held until the candidates are evaluated: a burst of heavy searches
    // waits its turn rather than taking every database connection (writes
    // would fail for want of one) and the memory for all of them at once.
    let _turn = state
        .search_slots
        .acquire()
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    let org = principal.org.id;
    let uid = principal.user.uid;
    let stamp = state.store.data_stamp().await?;
    let queues = state
        .search_facts
        .queues
        .get(org, &stamp, || async {
            Ok(state.store.queues_with_grants(org).await?)
        })
        .await?;
    let groups = if principal.org_admin {
        Vec::new()
    } else {
        state.store.groups_of(org, uid).await?
    };
    let readable = plan::readable(uid, principal.org_admin, &groups, &queues);
    let mut ctx = Context::new(principal.user.login.clone(), state.clock.now());
    let filter_expr = search.query.filter.as_ref();
    let mut people = std::sync::Arc::default();
    if filter_expr.is_some_and(mentions_people) {
        people = state
            .search_facts
            .people
            .get(org, &stamp, || async {
                let (members, _) = state.store.list_members(org, 0, i64::MAX).await?;
                Ok(members
                    .into_iter()
                    .map(|u| plan::Person {
                        uid: u.uid,
                        display: u.display(),
                        login: u.login,
                    })
                    .collect())
            })
            .await?;
        if filter_expr.is_some_and(uses_groups) {
            let logins: HashMap<i64, &str> =
                people.iter().map(|p| (p.uid, p.login.as_str())).collect();
            for g in state.store.list_groups(org).await? {
                let members = g
                    .members
                    .iter()
                    .filter_map(|m| logins.get(m).map(|l| (*l).to_owned()))
                    .collect();
                ctx.groups.insert(g.name, members);
            }
        }
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
    // An unsorted scroll promises no order: it gets the tie order every
    // search ends with (key order), which the search indexes hold after
    // their filter columns. Internal-key order would make SQLite
    // read each issue of a queue from the table to check its organization
    // (10-20 ms for 5 000 issues, against under 1 ms from the index).
    let order = if sorted {
        planner.order(&search.query.sort)
    } else {
        Some(Vec::new())
    };
    let s = IssueSearch {
        org,
        filter: IssueFilter::and(vec![readable, filter]),
        order: order.clone().unwrap_or_default(),
    };
    if exact && order.is_some() {
        let (total, pks) = match window {
            Window::Count => (state.store.search_count(&s).await?, Vec::new()),
            Window::Page { offset, limit } => {
                state
                    .store
                    .search_counted_pks(&s, offset, Some(limit))
                    .await?
            }
            Window::All => state.store.search_counted_pks(&s, 0, None).await?,
        };
        return Ok(Found {
            total,
            pks,
            queues: records(&queues),
        });
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
    Ok(Found {
        total,
        pks,
        queues: records(&queues),
    })
}

/// Replaces each condition only SQL can answer (links, access lists,
/// comment authors) by a stand-in field whose value the issues in its SQL
/// answer have, so the in-memory evaluator can combine it with the rest.
pub(super) fn sql_only<'a>(
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

fn records(queues: &[(QueueRecord, Grants)]) -> Vec<QueueRecord> {
    queues.iter().map(|(q, _)| q.clone()).collect()
}
