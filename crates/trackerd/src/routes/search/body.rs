//! The request: query parameters and the body's forms (`queue`, `keys`,
//! `filter`, `query`, `order`), read into one [`Search`].

use serde::Deserialize;
use serde_json::{Map, Value as Json_};
use tracker_query::{
    fields as qfields, quote, Expr, Field, FieldKind, FieldRef, Query, SortKey, Span,
};
use tracker_store::QueueRecord;

use crate::auth::Principal;
use crate::config::Limits;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub(super) const COMBINED: &str = "You can only use keys, a queue, or a search query";

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SearchParams {
    pub expand: Option<String>,
    pub fields: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    pub scroll_type: Option<String>,
    pub per_scroll: Option<i64>,
    /// Not what camelCase makes of the name (`scrollTtlMillis`).
    #[serde(rename = "scrollTTLMillis")]
    pub scroll_ttl_millis: Option<i64>,
    pub scroll_id: Option<String>,
    /// Not needed to read the next page (as in Tracker); passed on into the
    /// next page's link and headers, since only its hash is kept.
    pub scroll_token: Option<String>,
}

pub(super) fn params(raw: Option<&str>) -> ApiResult<SearchParams> {
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
pub(super) enum Form {
    Queue,
    Keys,
    /// `filter` and/or `query`, or nothing at all (every readable issue).
    Filter,
}

pub(super) struct Search {
    pub(super) form: Form,
    /// `None` when the queue does not exist: nothing matches.
    pub(super) queue: Option<Option<QueueRecord>>,
    pub(super) keys: Option<Vec<String>>,
    pub(super) query: Query,
}

pub(super) fn present<'a>(body: &'a Map<String, Json_>, key: &str) -> Option<&'a Json_> {
    body.get(key).filter(|v| !v.is_null())
}

pub(super) async fn read_body(
    state: &AppState,
    principal: &Principal,
    body: &Map<String, Json_>,
) -> ApiResult<Search> {
    let limits = &state.config.limits;
    check_sizes(limits, body)?;
    let queue = present(body, "queue");
    let keys = present(body, "keys");
    let filter = present(body, "filter");
    let query = present(body, "query");
    let filter_id = present(body, "filterId");
    let forms = [
        queue.is_some(),
        keys.is_some(),
        filter.is_some() || query.is_some() || filter_id.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if forms > 1 {
        return Err(ApiError::BadRequest(COMBINED.into()));
    }
    let order = order_keys(limits, present(body, "order"))?;
    if let Some(q) = queue {
        if crate::fields::ident(q).is_none() {
            return Err(ApiError::BadRequest(
                "queue must be a queue key or id".into(),
            ));
        }
        // A queue that is not there (or deleted) finds nothing rather than failing.
        let found = crate::access::issues::find_queue(state, principal.org.id, q)
            .await?
            .ok();
        return Ok(Search {
            form: Form::Queue,
            queue: Some(found),
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
    let mut sort = order;
    if let Some(id) = filter_id {
        let saved = saved(state, principal, "filter", id).await?;
        let (exprs, saved_sort) = stored_conditions(limits, &saved)?;
        parts.extend(exprs);
        if sort.is_empty() {
            sort = saved_sort;
        }
    }
    if let Some(f) = filter {
        let Json_::Object(f) = f else {
            return Err(ApiError::BadRequest(
                "filter must be an object of field → value".into(),
            ));
        };
        let mut f = f.clone();
        let boards = f
            .keys()
            .find(|k| k.eq_ignore_ascii_case("boards"))
            .cloned()
            .and_then(|k| f.remove(&k));
        if let Some(b) = boards {
            parts.push(boards_expr(state, principal, &b).await?);
        }
        parts.extend(filter_expr(&f)?);
    }
    if let Some(q) = query {
        let Json_::String(text) = q else {
            return Err(ApiError::BadRequest("query must be a string".into()));
        };
        let parsed = tracker_query::parse(text)
            .map_err(|e| ApiError::BadRequest(format!("Invalid query: {e}")))?;
        parts.extend(parsed.filter);
        // The query's own "Sort by" wins over `order`.
        if !parsed.sort.is_empty() {
            sort = distinct_sort(limits, parsed.sort)?;
        }
    }
    let mut ids = Vec::new();
    for p in &parts {
        board_ids(p, &mut ids)?;
    }
    if !ids.is_empty() {
        let mut boards = std::collections::HashMap::new();
        for id in ids {
            let e = boards_expr(state, principal, &Json_::String(id.clone())).await?;
            boards.insert(id, e);
        }
        parts = parts.into_iter().map(|p| with_boards(p, &boards)).collect();
    }
    let filter = match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Expr::And(parts)),
    };
    let terms = filter.as_ref().map_or(0, Expr::terms);
    if terms > limits.query_terms {
        return Err(ApiError::BadRequest(format!(
            "A search may hold at most {} terms (limits.query_terms), not {terms}",
            limits.query_terms
        )));
    }
    Ok(Search {
        form: Form::Filter,
        queue: None,
        keys: None,
        query: Query { filter, sort },
    })
}

/// A query-language text no longer than `limits.query_chars`.
pub(crate) fn check_query_text(limits: &Limits, field: &str, text: &str) -> ApiResult<()> {
    // Bytes bound characters from above: counting is needed only past it.
    if text.len() > limits.query_chars && text.chars().count() > limits.query_chars {
        return Err(ApiError::BadRequest(format!(
            "{field} may be at most {} characters long (limits.query_chars)",
            limits.query_chars
        )));
    }
    Ok(())
}

/// The sizes of a search body's parts, checked before any is parsed: the
/// query's length, and the length of each list (`keys`, a filter field's
/// values).
fn check_sizes(limits: &Limits, body: &Map<String, Json_>) -> ApiResult<()> {
    if let Some(Json_::String(q)) = present(body, "query") {
        check_query_text(limits, "query", q)?;
    }
    let too_long = |what: String, n: usize| {
        ApiError::BadRequest(format!(
            "{what} may hold at most {} items (limits.search_list_items), not {n}",
            limits.search_list_items
        ))
    };
    if let Some(Json_::Array(keys)) = present(body, "keys") {
        if keys.len() > limits.search_list_items {
            return Err(too_long("keys".into(), keys.len()));
        }
    }
    if let Some(Json_::Object(filter)) = present(body, "filter") {
        for (name, v) in filter {
            if let Json_::Array(values) = v {
                if values.len() > limits.search_list_items {
                    return Err(too_long(format!("filter.{name}"), values.len()));
                }
            }
        }
    }
    Ok(())
}

/// The stored content of the saved filter or board (`kind`) `id` names.
/// A saved filter is its owner's alone: another member's is not found.
async fn saved(
    state: &AppState,
    principal: &Principal,
    kind: &str,
    id: &Json_,
) -> ApiResult<tracker_store::TemplateRecord> {
    let id = crate::fields::ident(id).unwrap_or_default();
    let missing = || ApiError::NotFound(format!("The {kind} {id} is not found"));
    let pk = id.parse::<i64>().map_err(|_| missing())?;
    state
        .store
        .template(principal.org.id, kind, pk)
        .await?
        .filter(|t| kind == "board" || t.created_by == principal.user.uid)
        .ok_or_else(missing)
}

/// A saved filter's or board's conditions (its `filter` and `query`, as the
/// same fields of a search mean them) and its order (the query's `Sort by`,
/// else a filter's `sorts`).
fn stored_conditions(
    limits: &Limits,
    t: &tracker_store::TemplateRecord,
) -> ApiResult<(Vec<Expr>, Vec<SortKey>)> {
    let content: Map<String, Json_> = serde_json::from_str(&t.body).unwrap_or_default();
    let mut parts = Vec::new();
    let mut sort = Vec::new();
    if let Some(Json_::Object(f)) = content.get("filter") {
        parts.extend(filter_expr(f)?);
    }
    if let Some(Json_::String(q)) = content.get("query") {
        check_query_text(limits, "A saved query", q)?;
        let parsed = tracker_query::parse(q)
            .map_err(|e| ApiError::BadRequest(format!("Invalid saved query: {e}")))?;
        parts.extend(parsed.filter);
        sort = parsed.sort;
    }
    if sort.is_empty() {
        sort = order_keys(limits, content.get("sorts"))?;
    }
    Ok((parts, sort))
}

/// `filter: {"boards": id | [ids]}`: the issues of any of these boards. A
/// board's issues are those its `filter` or `query` selects; a board with
/// neither holds its default queue's issues.
async fn boards_expr(state: &AppState, principal: &Principal, v: &Json_) -> ApiResult<Expr> {
    let ids = match v {
        Json_::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    let mut any = Vec::new();
    for id in &ids {
        let board = saved(state, principal, "board", id).await?;
        let (mut parts, _) = stored_conditions(&state.config.limits, &board)?;
        if parts.is_empty() {
            if let Some(q) = board.queue_id {
                if let Some(q) = state.store.queue_by_id(principal.org.id, q).await? {
                    let parsed = tracker_query::parse(&format!("Queue: {}", quote(&q.key)))
                        .map_err(|e| ApiError::BadRequest(format!("Invalid board queue: {e}")))?;
                    parts.extend(parsed.filter);
                }
            }
        }
        any.push(match parts.len() {
            1 => parts.remove(0),
            _ => Expr::And(parts),
        });
    }
    Ok(match any.len() {
        1 => any.remove(0),
        _ => Expr::Or(any),
    })
}

fn is_boards(c: &tracker_query::Condition) -> bool {
    matches!(&c.field.field, Field::Custom(n) if n.eq_ignore_ascii_case("boards") || n.eq_ignore_ascii_case("board"))
}

/// The board ids `Boards: 5, 6` conditions of a query name. Only board
/// ids are taken: `Boards:` stands for the boards' own conditions.
fn board_ids(e: &Expr, out: &mut Vec<String>) -> ApiResult<()> {
    match e {
        Expr::And(items) | Expr::Or(items) => {
            for i in items {
                board_ids(i, out)?;
            }
        }
        Expr::Condition(c) if is_boards(c) => {
            for p in &c.predicates {
                match p {
                    tracker_query::Predicate::Equals(tracker_query::Operand::Literal(l)) => {
                        out.push(l.text.clone());
                    }
                    _ => {
                        return Err(ApiError::BadRequest(
                            "Boards: takes board ids (Boards: 5, 6)".into(),
                        ))
                    }
                }
            }
        }
        Expr::Condition(_) | Expr::Text(_) => {}
    }
    Ok(())
}

/// The query with each `Boards:` condition replaced by its boards'
/// conditions (any of them).
fn with_boards(e: Expr, boards: &std::collections::HashMap<String, Expr>) -> Expr {
    match e {
        Expr::And(items) => Expr::And(items.into_iter().map(|i| with_boards(i, boards)).collect()),
        Expr::Or(items) => Expr::Or(items.into_iter().map(|i| with_boards(i, boards)).collect()),
        Expr::Condition(c) if is_boards(&c) => {
            let mut any: Vec<Expr> = c
                .predicates
                .iter()
                .filter_map(|p| match p {
                    tracker_query::Predicate::Equals(tracker_query::Operand::Literal(l)) => {
                        boards.get(&l.text).cloned()
                    }
                    _ => None,
                })
                .collect();
            match any.len() {
                1 => any.remove(0),
                _ => Expr::Or(any),
            }
        }
        other => other,
    }
}

/// `"+status"`, `"-updatedAt"`, `"key"`, or a list of them.
pub(super) fn order_keys(limits: &Limits, v: Option<&Json_>) -> ApiResult<Vec<SortKey>> {
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
    distinct_sort(limits, out)
}

/// The sort keys with repeats left out (a field already sorted by cannot
/// change the order again), refused beyond `limits.sort_keys` (Tracker's
/// own limit is not documented, and no real order needs many).
fn distinct_sort(limits: &Limits, keys: Vec<SortKey>) -> ApiResult<Vec<SortKey>> {
    let max = limits.sort_keys;
    let mut out: Vec<SortKey> = Vec::new();
    for k in keys {
        if !out.iter().any(|o| o.field.field == k.field.field) {
            if out.len() == max {
                return Err(ApiError::BadRequest(format!(
                    "A search sorts by at most {max} fields (limits.sort_keys)"
                )));
            }
            out.push(k);
        }
    }
    Ok(out)
}

pub(super) fn field_named(name: &str) -> Field {
    match qfields::lookup(name) {
        Some(def) => Field::Known(def.key),
        None => Field::Custom(name.to_owned()),
    }
}

/// The `filter` object as query-language conditions, one per field, ANDed.
/// Each value is written as query text and parsed, so a filter means exactly
/// what the same condition in `query` means.
pub(super) fn filter_expr(filter: &Map<String, Json_>) -> ApiResult<Vec<Expr>> {
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

pub(super) fn filter_value(field: &Field, kind: Option<FieldKind>, v: &Json_) -> ApiResult<String> {
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

pub(super) fn field_label(f: &Field) -> String {
    match f {
        Field::Known(k) => (*k).to_owned(),
        Field::Local { queue, name } => format!("{queue}.{name}"),
        Field::Custom(n) => n.clone(),
    }
}

/// One filter value as query text: a function call (`empty()`, `me()`,
/// `today() - 1w`) as written, a login as `login@` for people, anything
/// else as a quoted string.
pub(super) fn scalar_text(kind: Option<FieldKind>, s: &str) -> String {
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
pub(super) fn is_function(t: &str) -> bool {
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
}
