//! Issue search: an [`IssueSearch`] rendered as SQL for either engine, over
//! the indexes and the full-text table (SQLite FTS5, PostgreSQL `tsvector`)
//! of migrations 0005–0009. The two dialects differ only in full text,
//! case-insensitive tag matching, text collation and planner guards; the
//! shape of every statement is the same, so their plans can be reasoned
//! about once (see docs/architecture.md, "Search").

use std::fmt::Write as _;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::{Encode, Type};
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::access::{QUEUE_COLS, USER_COLS};
use crate::issues::ISSUE_SELECT;
use crate::IssueRow;
use crate::{db, in_order, join_ids, with_grants, Dialect, Engine, SqlStore, Value};

/// Lists longer than this are bound as one JSON array (see [`Sql::bind_list`]).
const LONG_LIST: usize = 100;

/// SQL text plus the values of its placeholders, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Sql {
    pub text: String,
    pub binds: Vec<SqlValue>,
    dialect: Dialect,
    /// Whether full-text sub-selects end with the PostgreSQL fence (see
    /// [`FENCED_TEXT_MATCHES_MAX`]).
    fence_text: bool,
    /// The organization searched, once the `WHERE` clause names it: the
    /// PostgreSQL word rows are found by organization first.
    org: i64,
}

impl Sql {
    fn new(dialect: Dialect) -> Self {
        Sql {
            text: String::new(),
            binds: Vec::new(),
            dialect,
            fence_text: false,
            org: 0,
        }
    }

    fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    fn bind(&mut self, v: SqlValue) {
        self.binds.push(v);
        let _ = write!(self.text, "${}", self.binds.len());
    }

    fn bind_list(&mut self, values: impl IntoIterator<Item = SqlValue>) {
        let values: Vec<SqlValue> = values.into_iter().collect();
        // A long list of strings goes as one JSON array: a placeholder each
        // would pass SQLite's limit on them (a 20 000-key search answered
        // 500), and costs more to prepare than the array to read.
        if values.len() > LONG_LIST {
            if let Some(texts) = values
                .iter()
                .map(|v| match v {
                    SqlValue::Text(t) => Some(serde_json::Value::String(t.clone())),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
            {
                self.binds
                    .push(SqlValue::Text(serde_json::Value::Array(texts).to_string()));
                let list = self.dialect.json_text_list(self.binds.len());
                self.push(&list);
                return;
            }
        }
        self.push("(");
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v);
        }
        self.push(")");
    }

    /// Integer lists go inline: they are numbers the server produced, and a
    /// long list of placeholders costs more to prepare than to parse.
    fn int_list(&mut self, values: &[i64]) {
        self.push("(");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            let _ = write!(self.text, "{v}");
        }
        self.push(")");
    }
}

fn col(c: Col) -> String {
    format!("i.{}", c.sql())
}

fn texts(values: &[String]) -> impl Iterator<Item = SqlValue> + '_ {
    values.iter().map(|v| SqlValue::Text(v.clone()))
}

fn lower(values: &[String]) -> impl Iterator<Item = SqlValue> + '_ {
    values.iter().map(|v| SqlValue::Text(v.to_lowercase()))
}

fn ints(values: &[SqlValue]) -> Option<Vec<i64>> {
    values
        .iter()
        .map(|v| match v {
            SqlValue::Int(n) => Some(*n),
            _ => None,
        })
        .collect()
}

/// Items joined by `op`, in parentheses. A long run is nested as a balanced
/// tree: `a OR b OR c …` parses left-deep, and SQLite refuses expressions
/// deeper than 1 000 ("Expression tree is too large"), which a filter of a
/// few thousand values reached.
fn render_joined(items: &[IssueFilter], op: &str, q: &mut Sql) {
    const FLAT: usize = 64;
    q.push("(");
    if items.len() <= FLAT {
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                q.push(op);
            }
            render(item, q);
        }
    } else {
        let (left, right) = items.split_at(items.len() / 2);
        render_joined(left, op, q);
        q.push(op);
        render_joined(right, op, q);
    }
    q.push(")");
}

fn render(f: &IssueFilter, q: &mut Sql) {
    match f {
        IssueFilter::All => q.push("1=1"),
        IssueFilter::Nothing => q.push("1=0"),
        IssueFilter::And(items) | IssueFilter::Or(items) => {
            let op = if matches!(f, IssueFilter::And(_)) {
                " AND "
            } else {
                " OR "
            };
            render_joined(items, op, q);
        }
        IssueFilter::Not(inner) => {
            // A comparison with an empty column is NULL; COALESCE makes the
            // negation hold there, as "not this value" does in Tracker.
            q.push("NOT COALESCE((");
            render(inner, q);
            q.push("), FALSE)");
        }
        IssueFilter::In(c, values) => {
            if values.is_empty() {
                return q.push("1=0");
            }
            q.push(&col(*c));
            if let Some(ns) = ints(values) {
                if ns.len() == 1 {
                    let _ = write!(q.text, " = {}", ns[0]);
                } else {
                    q.push(" IN ");
                    q.int_list(&ns);
                }
            } else if values.len() == 1 {
                q.push(" = ");
                q.bind(values[0].clone());
            } else {
                q.push(" IN ");
                q.bind_list(values.iter().cloned());
            }
        }
        IssueFilter::InIgnoreCase(c, values) => {
            if values.is_empty() {
                return q.push("1=0");
            }
            let _ = write!(q.text, "lower({}) IN ", col(*c));
            q.bind_list(lower(values));
        }
        IssueFilter::Cmp(c, op, v) => {
            let _ = write!(q.text, "{} {} ", col(*c), op.sql());
            q.bind(v.clone());
        }
        IssueFilter::IsNull(c) => {
            let _ = write!(q.text, "{} IS NULL", col(*c));
        }
        IssueFilter::IsBlank(c) => {
            let _ = write!(q.text, "({0} IS NULL OR trim({0}) = '')", col(*c));
        }
        IssueFilter::Followers(uids) => member_of(q, "issue_followers", "uid", uids.as_deref()),
        IssueFilter::Access(uids) => member_of(q, "issue_access", "uid", uids.as_deref()),
        IssueFilter::CommentAuthors(uids) => member_of(q, "comments", "author", uids.as_deref()),
        IssueFilter::Tags(None) => {
            q.push("EXISTS (SELECT 1 FROM issue_tags t WHERE t.issue_pk = i.pk)")
        }
        IssueFilter::Tags(Some(tags)) => {
            if tags.is_empty() {
                return q.push("1=0");
            }
            q.push("i.pk IN (SELECT issue_pk FROM issue_tags WHERE ");
            tag_in(q, "tag", tags);
            q.push(fence(q.dialect));
            q.push(")");
        }
        IssueFilter::Catalog(list, names) => catalog(q, *list, names.as_deref()),
        IssueFilter::Keys(keys) => {
            if keys.is_empty() {
                return q.push("1=0");
            }
            q.push("(i.key IN ");
            q.bind_list(texts(keys));
            q.push(" OR i.pk IN (SELECT a.issue_pk FROM issue_aliases a WHERE a.org = i.org AND a.key IN ");
            q.bind_list(texts(keys));
            q.push("))");
        }
        IssueFilter::ParentKeys(keys) => {
            if keys.is_empty() {
                return q.push("1=0");
            }
            q.push("i.parent_pk IN (SELECT p.pk FROM issues p WHERE p.org = i.org AND p.key IN ");
            q.bind_list(texts(keys));
            q.push(")");
        }
        IssueFilter::Words(scope, words) => full_text(q, *scope, words),
        IssueFilter::ExtraLike(patterns) => {
            if patterns.is_empty() {
                return q.push("1=0");
            }
            q.push("(");
            for (n, p) in patterns.iter().enumerate() {
                if n > 0 {
                    q.push(" OR ");
                }
                q.push("lower(i.extra) LIKE ");
                q.bind(SqlValue::Text(p.to_lowercase()));
            }
            q.push(")");
        }
        IssueFilter::Linked {
            types,
            outward,
            targets,
        } => {
            let (here, there) = if *outward {
                ("source_pk", "target_pk")
            } else {
                ("target_pk", "source_pk")
            };
            let _ = write!(
                q.text,
                "EXISTS (SELECT 1 FROM links l JOIN issues o ON o.pk = l.{there} \
                 WHERE l.{here} = i.pk AND l.type_id IN "
            );
            q.bind_list(texts(types));
            match targets {
                LinkTargets::Any => {}
                LinkTargets::Keys(keys) => {
                    q.push(" AND o.key IN ");
                    if keys.is_empty() {
                        q.push("('')");
                    } else {
                        q.bind_list(texts(keys));
                    }
                }
                LinkTargets::Queues(ids) => {
                    q.push(" AND o.queue_id IN ");
                    if ids.is_empty() {
                        q.push("(NULL)");
                    } else {
                        q.int_list(ids);
                    }
                }
            }
            q.push(")");
        }
        IssueFilter::ChangedField {
            field,
            by,
            from,
            to,
        } => {
            // Changelog entries keep their fields as JSON text written by
            // serde_json: `{"field":"status",…}`.
            q.push("EXISTS (SELECT 1 FROM changelog c WHERE c.issue_pk = i.pk AND c.fields LIKE ");
            q.bind(SqlValue::Text(format!(
                "%\"field\":\"{}\"%",
                field.replace(['%', '_', '"', '\\'], "")
            )));
            if let Some(by) = by {
                q.push(" AND c.updated_by IN ");
                if by.is_empty() {
                    q.push("(NULL)");
                } else {
                    q.int_list(by);
                }
            }
            if let Some(t) = from {
                q.push(" AND c.updated_at >= ");
                q.bind(SqlValue::Time(*t));
            }
            if let Some(t) = to {
                q.push(" AND c.updated_at < ");
                q.bind(SqlValue::Time(*t));
            }
            q.push(")");
        }
    }
}

/// `i.pk IN (SELECT issue_pk FROM table WHERE column IN (…))`, or "has any
/// row" when no users are named.
fn member_of(q: &mut Sql, table: &str, column: &str, uids: Option<&[i64]>) {
    match uids {
        None => {
            let _ = write!(
                q.text,
                "EXISTS (SELECT 1 FROM {table} m WHERE m.issue_pk = i.pk)"
            );
        }
        Some([]) => q.push("1=0"),
        Some(uids) => {
            let _ = write!(
                q.text,
                "i.pk IN (SELECT issue_pk FROM {table} WHERE {column} IN "
            );
            q.int_list(uids);
            q.push(fence(q.dialect));
            q.push(")");
        }
    }
}

/// `{column} IN (…)` of tags, ignoring case as Tracker does: with the
/// collation SQLite's tag indexes use, or against `lower(tag)`, which
/// PostgreSQL's index.
fn tag_in(q: &mut Sql, column: &str, tags: &[String]) {
    match q.dialect {
        Dialect::Sqlite => {
            let _ = write!(q.text, "{column} COLLATE NOCASE IN ");
            q.bind_list(texts(tags));
        }
        Dialect::Postgres => {
            let _ = write!(q.text, "lower({column}) IN ");
            q.bind_list(lower(tags));
        }
    }
}

/// Issues by the names of their components or versions: a join through
/// the issue's references (each indexed by issue and by referred id).
fn catalog(q: &mut Sql, list: CatalogList, names: Option<&[String]>) {
    let (refs, things, fk, which) = match list {
        CatalogList::Components => ("issue_components", "components", "component_pk", ""),
        CatalogList::FixVersions => ("issue_versions", "versions", "version_pk", " AND x.fix"),
        CatalogList::AffectedVersions => {
            ("issue_versions", "versions", "version_pk", " AND NOT x.fix")
        }
    };
    let Some(names) = names else {
        let _ = write!(
            q.text,
            "EXISTS (SELECT 1 FROM {refs} x WHERE x.issue_pk = i.pk{which})"
        );
        return;
    };
    if names.is_empty() {
        return q.push("1=0");
    }
    let _ = write!(
        q.text,
        "i.pk IN (SELECT x.issue_pk FROM {refs} x JOIN {things} c ON c.pk = x.{fk} \
         WHERE lower(c.name) IN "
    );
    q.bind_list(lower(names));
    q.push(which);
    q.push(fence(q.dialect));
    q.push(")");
}

/// Ends a sub-select of people or tags that names the matching issues. On
/// PostgreSQL, `OFFSET 0` keeps the planner from turning it into a probe per
/// issue while walking an index in key order (it guesses the matches are
/// dense and early); the sub-select then runs once and its issues are
/// sorted. Full text is fenced only when the count shows few matches
/// ([`FENCED_TEXT_MATCHES_MAX`]): for a frequent word the probe finds a page
/// sooner than the sub-select lists every match.
fn fence(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => "",
        Dialect::Postgres => " OFFSET 0",
    }
}

fn full_text(q: &mut Sql, scope: TextScope, words: &[String]) {
    if words.is_empty() {
        return q.push("1=1");
    }
    match q.dialect {
        Dialect::Sqlite => {
            q.push("i.pk IN (SELECT rowid FROM issue_fts WHERE issue_fts MATCH ");
            q.bind(SqlValue::Text(fts_expr(scope, words)));
            q.push(")");
        }
        Dialect::Postgres => {
            q.push("i.pk IN (");
            let org = q.org;
            words_select(q, org, "w.issue_pk", scope, words);
            if q.fence_text {
                q.push(fence(Dialect::Postgres));
            }
            q.push(")");
        }
    }
}

/// `SELECT {columns} FROM issue_words w WHERE …` of the issues holding
/// every word: one range each, `INTERSECT`ed. Each range is read once
/// whatever the planner believes of its size, where a semi-join of one
/// range into another could be planned as a nested loop that reads the
/// inner range again for each row of the outer (`filter currency`, 54 088
/// and 40 070 rows: over a minute).
fn words_select(q: &mut Sql, org: i64, columns: &str, scope: TextScope, words: &[String]) {
    for (n, word) in words.iter().enumerate() {
        if n > 0 {
            q.push(" INTERSECT ");
        }
        let _ = write!(
            q.text,
            "SELECT {columns} FROM issue_words w WHERE w.org = {org} AND "
        );
        word_range(q, "w", word, scope);
    }
}

/// The words of the organization that each word of a search begins (its
/// prefix's range of `issue_words`), in the search's order of words.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expansions {
    words: Vec<Vec<String>>,
}

/// A prefix that begins more words than this is left to its range.
const EXPANDED_WORDS_MAX: usize = 16;

/// A search of more words than this keeps the `INTERSECT` of their ranges:
/// a join per word would be planned (and expanded, a statement per word)
/// for each of hundreds of words a query may hold.
const EXPANDED_SEARCH_WORDS_MAX: usize = 8;

/// The distinct words of the organization in `word`'s prefix range, read
/// by a walk that skips from one word to the next (one index descent
/// each, however many rows a word has), at most `EXPANDED_WORDS_MAX + 1`.
fn expansion(org: i64, word: &str) -> Sql {
    let mut q = Sql::new(Dialect::Postgres);
    let _ = write!(
        q.text,
        "WITH RECURSIVE v(word) AS (\
         SELECT (SELECT min(w.word) FROM issue_words w WHERE w.org = {org} AND "
    );
    word_range(&mut q, "w", word, TextScope::All);
    let _ = write!(
        q.text,
        ") UNION ALL SELECT (SELECT min(w.word) FROM issue_words w WHERE w.org = {org} \
         AND w.word > v.word AND w.word < (lower("
    );
    q.bind(SqlValue::Text(word.to_owned()));
    let _ = write!(
        q.text,
        ") || chr(1114111)) COLLATE \"C\") FROM v WHERE v.word IS NOT NULL) \
         SELECT v.word FROM v WHERE v.word IS NOT NULL LIMIT {}",
        EXPANDED_WORDS_MAX + 1
    );
    q
}

/// `(…) m JOIN (…) m2 ON …` of the issues holding a word of every
/// expansion. One word's rows are in key order in the primary key (`org,
/// word, key_queue, key_num, issue_pk`), so two words are a merge join of
/// two index-only scans, and a page in key order stops at its last issue:
/// `filter currency` (54 088 and 40 070 rows, 2 437 in common at
/// 1 000 000 issues) was counted in 11–15 ms and paged in 0.5, against 34–61
/// and 52 ms for the `INTERSECT` of their ranges, which hashed every row.
/// A prefix of several words is their `UNION` (an issue may hold more than
/// one), sorted for the join.
fn expanded_words_select(q: &mut Sql, org: i64, scope: TextScope, expanded: &Expansions) {
    for (n, words) in expanded.words.iter().enumerate() {
        let alias = if n == 0 {
            "m".to_owned()
        } else {
            format!("m{n}")
        };
        if n > 0 {
            q.push(" JOIN ");
        }
        q.push("(");
        if words.is_empty() {
            // A prefix that begins no word: no issue holds it.
            q.push("SELECT w.key_queue, w.key_num, w.issue_pk FROM issue_words w WHERE false");
        }
        for (k, word) in words.iter().enumerate() {
            if k > 0 {
                q.push(" UNION ");
            }
            let _ = write!(
                q.text,
                "SELECT w.key_queue, w.key_num, w.issue_pk FROM issue_words w \
                 WHERE w.org = {org} AND w.word = "
            );
            q.bind(SqlValue::Text(word.clone()));
            if let Some(scopes) = scope_bits(scope) {
                let _ = write!(q.text, " AND w.scopes & {scopes} <> 0");
            }
        }
        let _ = write!(q.text, ") {alias}");
        if n > 0 {
            let _ = write!(
                q.text,
                " ON {alias}.key_queue = m.key_queue AND {alias}.key_num = m.key_num \
                 AND {alias}.issue_pk = m.issue_pk"
            );
        }
    }
}

fn scope_bits(scope: TextScope) -> Option<u8> {
    match scope {
        TextScope::All => None,
        TextScope::Summary => Some(1),
        TextScope::Description => Some(2),
        TextScope::Comments => Some(4),
    }
}

/// The PostgreSQL word rows (migration 0037) of words beginning with
/// `word`, in `scope`: one range of their primary key. Lowercased as the
/// words were; `U+10FFFF` sorts after every character in byte order.
fn word_range(q: &mut Sql, alias: &str, word: &str, scope: TextScope) {
    let _ = write!(q.text, "{alias}.word >= lower(");
    q.bind(SqlValue::Text(word.to_owned()));
    let _ = write!(q.text, ") COLLATE \"C\" AND {alias}.word < (lower(");
    q.bind(SqlValue::Text(word.to_owned()));
    q.push(") || chr(1114111)) COLLATE \"C\"");
    if let Some(scopes) = scope_bits(scope) {
        let _ = write!(q.text, " AND {alias}.scopes & {scopes} <> 0");
    }
}

/// The FTS5 query of words, each the beginning of a word in the scope.
fn fts_expr(scope: TextScope, words: &[String]) -> String {
    let column = match scope {
        TextScope::All => "",
        TextScope::Summary => "summary : ",
        TextScope::Description => "description : ",
        TextScope::Comments => "comments : ",
    };
    words
        .iter()
        .map(|w| format!("{column}\"{}\"*", w.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn order_expr(o: &Order, q: &mut Sql) {
    let dir = if o.descending { "DESC" } else { "ASC" };
    let text_collate = match q.dialect {
        Dialect::Sqlite => "",
        Dialect::Postgres => " COLLATE \"C\"",
    };
    // Empty values sort last ascending and first descending.
    let nulls = |q: &mut Sql, expr: &str| {
        let _ = write!(q.text, "({expr} IS NULL) {dir}, ");
    };
    match &o.by {
        OrderBy::Key => {
            let _ = write!(q.text, "i.key_queue {dir}, i.key_num {dir}");
        }
        OrderBy::Col(c) => {
            if c.nullable() {
                nulls(q, &col(*c));
            }
            let _ = write!(q.text, "{} {dir}", col(*c));
        }
        OrderBy::Mapped(c, pairs) => {
            if c.nullable() {
                nulls(q, &col(*c));
            }
            let fallback = match q.dialect {
                Dialect::Sqlite => format!("lower({})", col(*c)),
                Dialect::Postgres => format!("lower({}::text)", col(*c)),
            };
            if pairs.is_empty() {
                let _ = write!(q.text, "{fallback}{text_collate} {dir}");
                return;
            }
            let _ = write!(q.text, "(CASE {}", col(*c));
            for (from, to) in pairs {
                q.push(" WHEN ");
                q.bind(from.clone());
                q.push(" THEN ");
                q.bind(SqlValue::Text(to.clone()));
            }
            let _ = write!(q.text, " ELSE {fallback} END){text_collate} {dir}");
        }
        OrderBy::UserName(c) => {
            if c.nullable() {
                nulls(q, &col(*c));
            }
            let _ = write!(
                q.text,
                "(SELECT lower(CASE WHEN trim(u.first_name || ' ' || u.last_name) = '' \
                 THEN u.login ELSE trim(u.first_name || ' ' || u.last_name) END) \
                 FROM users u WHERE u.uid = {}){text_collate} {dir}",
                col(*c)
            );
        }
    }
}

fn where_clause(s: &IssueSearch, q: &mut Sql) {
    let _ = write!(q.text, " WHERE i.org = {}", s.org);
    q.org = s.org;
    if s.filter != IssueFilter::All {
        q.push(" AND ");
        render(&s.filter, q);
    }
}

/// A range of update dates alone (`Updated: today() - 1w .. today()`) in key
/// order, on SQLite: its planner reads the range from its date index and
/// sorts it whole (59 677 of 1 000 000 issues: 23 ms for the first page).
/// Updates follow no key order, so a walk of the key order meets the
/// range's issues at about their share of all issues: for 50 of them it
/// visits about `50 × issues / matches` rows (1.4–5 ms there). The walk is
/// taken when those visits, at three times the cost of a sorted entry, are
/// fewer than the range's entries; the organization's issue count comes
/// from `issue_counts` ([`walks_updates_if_dense`]).
fn updates_dense_enough_to_walk(matches: i64, org_issues: i64) -> bool {
    matches.saturating_mul(matches) >= org_issues.saturating_mul(150)
}

/// Whether the filter is full-text words alone, ANDed.
fn words_only(f: &IssueFilter) -> bool {
    match f {
        IssueFilter::Words(..) => true,
        IssueFilter::And(items) => items.iter().all(words_only),
        _ => false,
    }
}

fn updated_only(f: &IssueFilter) -> bool {
    let items = match f {
        IssueFilter::And(items) => items.as_slice(),
        f => std::slice::from_ref(f),
    };
    items
        .iter()
        .all(|f| matches!(f, IssueFilter::Cmp(Col::UpdatedAt, _, _)))
}

/// Whether [`select_sized_page`] would use the organization's issue count.
fn walks_updates_if_dense(d: Dialect, s: &IssueSearch) -> bool {
    d == Dialect::Sqlite && s.order.is_empty() && updated_only(&s.filter)
}

/// How many issues the organization holds, from the kept counts.
fn org_issues(d: Dialect, org: i64) -> Sql {
    let mut q = Sql::new(d);
    let _ = write!(
        q.text,
        "SELECT CAST(COALESCE(SUM(c.issues), 0) AS BIGINT) FROM issue_counts c WHERE c.org = {org}"
    );
    q
}

/// PostgreSQL's planner turns `pk IN (full-text sub-select)` under `ORDER BY
/// key LIMIT n` into a walk of the organization's issues in key order with
/// a probe of each into the full-text table, betting that matches are dense
/// and early. When they are few or late that probes nearly every issue (a
/// word with 2 143 matches at 100 000 issues: 223 ms; 214 matches at
/// 1 000 000: over a second). Fenced, the sub-select lists its matches once
/// from the GIN index and they are sorted (26 ms and 38–55 ms). Its cost
/// grows with the matches, so a page is fenced when the search's count,
/// which runs first, is at most this.
pub const FENCED_TEXT_MATCHES_MAX: i64 = 5_000;

/// Issues created since a date (`Created: >= …`, `Created: a .. b`) in key
/// order, on PostgreSQL: the planner walks the organization's issues in key
/// order and tests each one's date, betting the range's issues come early.
/// But a queue's keys are given in creation order, so the issues created
/// since a date sit at the end of every queue: `Created: >= <a month ago>`
/// (42 466 of 1 000 000 issues) visited 25 000 rows for its first page,
/// 82–180 ms. Fenced, the range's entries of `(org, created_at, key) INCLUDE
/// (pk)` (migration 0034) are read from the index alone and the first page
/// taken by a bounded sort: 15–23 ms (8 ms warm); a page that is not too
/// deep is now walked a queue at a time instead ([`QUEUE_WALK_ROWS_MAX`]).
/// Either cost grows with the range, the
/// walk's shrinks as it widens, so a page is fenced when the count, which
/// runs first, is at most this. Other dates (`Updated`) follow no key order
/// and are left to the walk: the last week's updates (59 677) are spread
/// over every queue and the walk meets 50 of them in 3 ms, where sorting
/// them all took 20–30.
pub const FENCED_RANGE_MATCHES_MAX: i64 = 100_000;

/// How deep a page of issues created since a date may reach (offset and
/// size) and still be walked a queue at a time, in the byte order of the
/// queues' keys (`queues_by_org_key_bytes`), each queue's part of the range
/// read from `(org, queue_id, created_at) INCLUDE (key_num, pk)` (migration
/// 0039) and its first rows sorted by number: an issue's key begins with
/// its queue's key (creates, moves and imports give it so; queue keys are
/// unique and never change), so this is the key order. PostgreSQL's
/// incremental sort stops at the first queues that fill the page: 1.4 ms
/// for `Created: >= <a month ago>` (42 466 of 1 000 000 issues), where the
/// bounded sort of the whole range took 8. Each queue reads at most this
/// many rows; a deeper page is fenced and sorted whole.
pub const QUEUE_WALK_ROWS_MAX: i64 = 10_000;

/// Whether the filter is comparisons of the creation date, ANDed, one of
/// them a lower bound: the ranges [`FENCED_RANGE_MATCHES_MAX`] is about.
fn created_since_only(f: &IssueFilter) -> bool {
    let items = match f {
        IssueFilter::And(items) => items.as_slice(),
        f => std::slice::from_ref(f),
    };
    let created = |f: &IssueFilter| matches!(f, IssueFilter::Cmp(Col::CreatedAt, _, _));
    let since = |f: &IssueFilter| {
        matches!(
            f,
            IssueFilter::Cmp(Col::CreatedAt, CmpOp::Ge | CmpOp::Gt, _)
        )
    };
    items.iter().all(created) && items.iter().any(since)
}

/// `SELECT i.pk FROM issues i WHERE … ORDER BY … [LIMIT … OFFSET …]`; ties
/// are broken by key order, then by internal key. What is known helps pick
/// the plan: how many issues match (`total`, the search's count), how many
/// the organization holds (`org_issues`, when [`walks_updates_if_dense`]
/// asked for it) and the words a search's prefixes begin (`expanded`).
fn select_sized_page(
    d: Dialect,
    s: &IssueSearch,
    window_of: (i64, Option<i64>),
    total: Option<i64>,
    org_issues: Option<i64>,
    expanded: Option<&Expansions>,
) -> Sql {
    let (offset, limit) = window_of;
    let mut q = Sql::new(d);
    if let Some(member) = member_walk(d, s, expanded) {
        member.from(&mut q, s.org, "DISTINCT m.issue_pk, m.key_queue, m.key_num");
        q.push(" ORDER BY m.key_queue, m.key_num, m.issue_pk");
        window(&mut q, offset, limit);
        return q;
    }
    q.fence_text = total.is_some_and(|n| n <= FENCED_TEXT_MATCHES_MAX);
    if d == Dialect::Postgres
        && s.order.is_empty()
        && created_since_only(&s.filter)
        && total.is_some_and(|n| n <= FENCED_RANGE_MATCHES_MAX)
    {
        if let Some(limit) = limit.filter(|l| offset.saturating_add(*l) <= QUEUE_WALK_ROWS_MAX) {
            let rows = offset + limit;
            q.push("SELECT x.pk FROM queues q CROSS JOIN LATERAL (SELECT i.pk, i.key_num FROM issues i");
            where_clause(s, &mut q);
            let _ = write!(
                q.text,
                " AND i.queue_id = q.id ORDER BY i.key_num, i.pk LIMIT {rows}) x \
                 WHERE q.org = {} ORDER BY q.key COLLATE \"C\", x.key_num, x.pk",
                s.org
            );
            window(&mut q, offset, Some(limit));
            return q;
        }
        q.push("SELECT f.pk FROM (SELECT i.pk, i.key_queue, i.key_num FROM issues i");
        where_clause(s, &mut q);
        q.push(" OFFSET 0) f ORDER BY f.key_queue, f.key_num, f.pk");
        window(&mut q, offset, limit);
        return q;
    }
    let walk_updates = walks_updates_if_dense(d, s)
        && matches!((total, org_issues), (Some(m), Some(n)) if updates_dense_enough_to_walk(m, n));
    q.push("SELECT i.pk FROM issues i");
    if walk_updates {
        q.push(" INDEXED BY issues_by_org_key");
    } else if d == Dialect::Sqlite && s.order.is_empty() && words_only(&s.filter) {
        // Each full-text match is looked up for its organization and key
        // order; SQLite's planner reads them from the table's rows, where
        // the index on (pk, org, key order) holds all of them in far fewer
        // pages (`resize`, 22 189 of 1 000 000 issues: 94 ms against 44).
        q.push(" INDEXED BY issues_by_pk_org_key");
    } else if d == Dialect::Sqlite {
        if let Some(index) = date_walk_index(s) {
            let _ = write!(q.text, " INDEXED BY {index}");
        }
    }
    where_clause(s, &mut q);
    q.push(" ORDER BY ");
    // SQLite's planner likes walking an index in the requested order and
    // filtering as it goes, which is a full scan when the matches sit at the
    // far end (`Assignee: x` whose issues are all in one late queue). Unless
    // the filter only tests columns whose indexes also hold the key order,
    // `+` keeps the order from using an index: the filter's own index finds
    // the matches, a sort orders them.
    let guard = if d == Dialect::Sqlite && !columns_only(&s.filter) && !walk_updates {
        "+"
    } else {
        ""
    };
    for o in &s.order {
        q.push(guard);
        order_expr(o, &mut q);
        q.push(", ");
    }
    let _ = write!(q.text, "{guard}i.key_queue, {guard}i.key_num, i.pk");
    window(&mut q, offset, limit);
    q
}

fn window(q: &mut Sql, offset: i64, limit: Option<i64>) {
    if let Some(limit) = limit {
        let _ = write!(q.text, " LIMIT {}", limit.max(0));
    }
    if offset > 0 {
        if limit.is_none() && q.dialect == Dialect::Sqlite {
            q.push(" LIMIT -1");
        }
        let _ = write!(q.text, " OFFSET {offset}");
    }
}

/// `Followers: x`, `Tags: x` or (on PostgreSQL) words alone, in key order:
/// answered from the follower, tag or word rows alone, which carry their
/// issue's organization and key order (migrations 0031 and 0037), through
/// an index on exactly that. The count
/// is a range of the index and the first page its first entries; joined to
/// the issues, each match was a lookup (a tag on 14 858 of 1 000 000
/// issues: 22 ms for the count and as much for the page).
enum MemberWalk<'a> {
    /// The follower rows of one person (`issue_followers`).
    Follower(i64),
    /// The tag rows of one tag, ignoring case (`issue_tags`).
    Tag(&'a String),
    /// PostgreSQL's word rows (`issue_words`, migration 0037): one word's
    /// range, or the intersection of several ([`words_select`]); or, once
    /// each word's prefix is expanded to the words it begins
    /// ([`Expansions`]), those words' rows joined in key order
    /// ([`expanded_words_select`]).
    Words(TextScope, &'a [String], Option<&'a Expansions>),
}

fn member_walk<'a>(
    d: Dialect,
    s: &'a IssueSearch,
    expanded: Option<&'a Expansions>,
) -> Option<MemberWalk<'a>> {
    if !s.order.is_empty() {
        return None;
    }
    match &s.filter {
        IssueFilter::Words(scope, words) if d == Dialect::Postgres && !words.is_empty() => {
            let expanded = expanded.filter(|e| e.words.len() == words.len());
            Some(MemberWalk::Words(*scope, words, expanded))
        }
        IssueFilter::Followers(Some(uids)) if uids.len() == 1 => {
            Some(MemberWalk::Follower(uids[0]))
        }
        IssueFilter::Tags(Some(tags)) if tags.len() == 1 => Some(MemberWalk::Tag(&tags[0])),
        _ => None,
    }
}

impl MemberWalk<'_> {
    /// `SELECT {what} FROM <the rows> m …`. An issue has one row per
    /// follower, but may have two tags equal but for case, and a prefix
    /// may begin several of its words: what lists or counts issues by tag
    /// or word says `DISTINCT`.
    fn from(&self, q: &mut Sql, org: i64, what: &str) {
        self.select_reading(q, org, what, "w.issue_pk, w.key_queue, w.key_num");
    }

    /// [`Self::from`] reading only `words_columns` (the columns the
    /// statement uses) of the word rows: the narrower, the faster several
    /// words' ranges are intersected (`filter currency`: 17–20 ms on the
    /// issue alone against 24–30 with its key order). One word's sub-select
    /// is flattened by the planner into the same plan as the range alone.
    fn select_reading(&self, q: &mut Sql, org: i64, what: &str, words_columns: &str) {
        let _ = write!(q.text, "SELECT {what} FROM ");
        match *self {
            MemberWalk::Follower(uid) => {
                let _ = write!(
                    q.text,
                    "issue_followers m WHERE m.org = {org} AND m.uid = {uid}"
                );
            }
            MemberWalk::Tag(tag) => {
                let _ = write!(q.text, "issue_tags m WHERE m.org = {org} AND ");
                tag_in(q, "m.tag", std::slice::from_ref(tag));
            }
            MemberWalk::Words(scope, _, Some(expanded)) => {
                expanded_words_select(q, org, scope, expanded);
            }
            MemberWalk::Words(scope, words, None) => {
                q.push("(");
                words_select(q, org, words_columns, scope, words);
                q.push(") m");
            }
        }
    }
}

/// The SQLite index that walks the matches in the date order a search
/// sorts by first, stopping at the page's end:
///
/// - one queue, with at most tests of its status, type or priority (each
///   true of a good share of a queue), sorted by `Updated` or `Created`:
///   SQLite 3.46's planner prices the sort of ties by key after such a walk
///   (the tie order runs the other way) above a full sort, and picks another
///   `(org, queue_id, …)` index: `Queue: X Status: !closed "Sort by": Updated
///   DESC` sorted the whole queue, 14 ms at 100 000 issues, against 0.2 ms
///   walking this index;
/// - one author or one assignee, with at most tests of status, type or
///   priority, sorted by `Updated`: the planner takes the person's key-order
///   index and sorts all their issues by date, reading each from the table
///   (`Author: x "Sort by": Updated DESC` with 21 440 issues at 1 000 000:
///   57 ms), against 0.2 ms walking `(org, author, updated_at)`.
///
/// Named only where the index surely applies (the equality it starts
/// with), since `INDEXED BY` fails a statement it cannot serve; tests of
/// other columns, which may be rare among the walked issues, leave the
/// choice to the planner.
fn date_walk_index(s: &IssueSearch) -> Option<&'static str> {
    let items = match &s.filter {
        IssueFilter::And(items) => items.as_slice(),
        f => std::slice::from_ref(f),
    };
    let one = |col: Col| {
        items
            .iter()
            .any(|f| matches!(f, IssueFilter::In(c, v) if *c == col && v.len() == 1 && ints(v).is_some()))
    };
    fn common(f: &IssueFilter, leading: Col) -> bool {
        match f {
            IssueFilter::In(c, _) | IssueFilter::IsNull(c) => {
                *c == leading || matches!(c, Col::Status | Col::Type | Col::Priority)
            }
            IssueFilter::Not(inner) => common(inner, leading),
            _ => false,
        }
    }
    let only = |leading: Col| one(leading) && items.iter().all(|f| common(f, leading));
    match s.order.first()?.by {
        OrderBy::Col(Col::UpdatedAt) if only(Col::Queue) => Some("issues_by_org_queue_updated"),
        OrderBy::Col(Col::CreatedAt) if only(Col::Queue) => Some("issues_by_org_queue_created"),
        OrderBy::Col(Col::UpdatedAt) if only(Col::Author) => Some("issues_by_org_author"),
        OrderBy::Col(Col::UpdatedAt) if only(Col::Assignee) => Some("issues_by_org_assignee"),
        _ => None,
    }
}

/// Whether the filter tests only columns indexed together with the key
/// order (migration 0008), ANDed.
fn columns_only(f: &IssueFilter) -> bool {
    let indexed = |c: &Col| {
        matches!(
            c,
            Col::Queue | Col::Status | Col::Assignee | Col::Author | Col::Priority | Col::Type
        )
    };
    match f {
        IssueFilter::All => true,
        IssueFilter::In(c, _) | IssueFilter::IsNull(c) => indexed(c),
        IssueFilter::Not(inner) => columns_only(inner),
        IssueFilter::And(items) => items.iter().all(columns_only),
        _ => false,
    }
}

/// A range of one date column alone (`Created: >= "2026-11-06"`, `Updated:
/// today() - 1w .. today()`), counted from the kept day counts (migrations
/// `issue_day_counts`): the whole days inside it are summed from a row per
/// day, and only its partial first and last days are counted from the date
/// index (41 096 entries of 1 000 000 issues read in 2.3 ms on SQLite and
/// 3.5 ms on PostgreSQL; the sum reads 30 rows). The days are UTC days, as
/// the stored times are; a range in another zone has two partial days.
#[derive(Debug, Clone, Copy, PartialEq)]
struct DayRange {
    col: Col,
    /// The strictest lower bound: its instant and whether it is included.
    lower: Option<(DateTime<Utc>, bool)>,
    /// The strictest upper bound, likewise.
    upper: Option<(DateTime<Utc>, bool)>,
    /// The whole days inside, `first..end` (UTC; `None` where unbounded).
    first: Option<NaiveDate>,
    end: Option<NaiveDate>,
}

impl DayRange {
    /// The range a filter is, when it is one holding a whole day.
    fn of(f: &IssueFilter) -> Option<Self> {
        let items = match f {
            IssueFilter::And(items) => items.as_slice(),
            f => std::slice::from_ref(f),
        };
        let mut col = None;
        let mut lower: Option<(DateTime<Utc>, bool)> = None;
        let mut upper: Option<(DateTime<Utc>, bool)> = None;
        for item in items {
            let IssueFilter::Cmp(c @ (Col::CreatedAt | Col::UpdatedAt), op, SqlValue::Time(t)) =
                item
            else {
                return None;
            };
            if *col.get_or_insert(*c) != *c {
                return None;
            }
            match op {
                CmpOp::Ge | CmpOp::Gt => {
                    let b = (*t, *op == CmpOp::Ge);
                    // Later is stricter; at the same instant, excluding it.
                    if lower.is_none_or(|l| (b.0, !b.1) > (l.0, !l.1)) {
                        lower = Some(b);
                    }
                }
                CmpOp::Lt | CmpOp::Le => {
                    let b = (*t, *op == CmpOp::Le);
                    if upper.is_none_or(|u| b < u) {
                        upper = Some(b);
                    }
                }
            }
        }
        let first = match lower {
            None => None,
            Some((t, included)) => {
                let day = t.date_naive();
                if included && t == midnight(day) {
                    Some(day)
                } else {
                    Some(day.succ_opt()?)
                }
            }
        };
        // A day is whole when the next one starts at or before the bound
        // (an inclusive bound at midnight leaves that instant to the
        // partial count).
        let end = upper.map(|(t, _)| t.date_naive());
        if matches!((first, end), (Some(a), Some(b)) if a >= b) {
            return None;
        }
        Some(DayRange {
            col: col?,
            lower,
            upper,
            first,
            end,
        })
    }

    /// The count as one statement (one snapshot): the kept rows of the whole
    /// days (and on PostgreSQL the deltas not folded into them yet) plus
    /// the partial days from the issues.
    fn count(&self, q: &mut Sql, org: i64) {
        let column = col(self.col);
        let field = match self.col {
            Col::CreatedAt => "created",
            _ => "updated",
        };
        let tables: &[&str] = match q.dialect {
            Dialect::Sqlite => &["issue_day_counts"],
            Dialect::Postgres => &["issue_day_counts", "issue_day_deltas"],
        };
        q.push("SELECT CAST(");
        for (n, table) in tables.iter().enumerate() {
            if n > 0 {
                q.push(" + ");
            }
            let _ = write!(
                q.text,
                "(SELECT COALESCE(SUM(d.issues), 0) FROM {table} d \
                 WHERE d.org = {org} AND d.field = '{field}'"
            );
            for (day, op) in [(self.first, ">="), (self.end, "<")] {
                if let Some(day) = day {
                    let _ = write!(q.text, " AND d.day {op} ");
                    day_value(q, day);
                }
            }
            q.push(")");
        }
        let partial = |q: &mut Sql, from: (DateTime<Utc>, &str), to: (DateTime<Utc>, &str)| {
            let _ = write!(
                q.text,
                " + (SELECT count(*) FROM issues i WHERE i.org = {org} AND {column} {} ",
                from.1
            );
            q.bind(SqlValue::Time(from.0));
            let _ = write!(q.text, " AND {column} {} ", to.1);
            q.bind(SqlValue::Time(to.0));
            q.push(")");
        };
        // A bound at midnight that the whole days already meet leaves no
        // partial day on its side.
        if let (Some((t, included)), Some(first)) = (self.lower, self.first) {
            if !(included && t == midnight(first)) {
                partial(
                    q,
                    (t, if included { ">=" } else { ">" }),
                    (midnight(first), "<"),
                );
            }
        }
        if let (Some((t, included)), Some(end)) = (self.upper, self.end) {
            if included || t != midnight(end) {
                partial(
                    q,
                    (midnight(end), ">="),
                    (t, if included { "<=" } else { "<" }),
                );
            }
        }
        q.push(" AS BIGINT)");
    }
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// A day as the kept counts hold it: SQLite's text `YYYY-MM-DD` (the stored
/// time's first ten characters), PostgreSQL's `DATE`.
fn day_value(q: &mut Sql, day: NaiveDate) {
    let text = SqlValue::Text(day.format("%Y-%m-%d").to_string());
    match q.dialect {
        Dialect::Sqlite => q.bind(text),
        Dialect::Postgres => {
            q.push("CAST(");
            q.bind(text);
            q.push(" AS DATE)");
        }
    }
}

/// `SELECT count(*) …` of the search, from kept counts where they answer
/// it, with the words its prefixes begin (`expanded`) when they were read.
fn count_expanded(d: Dialect, s: &IssueSearch, expanded: Option<&Expansions>) -> Sql {
    let mut q = Sql::new(d);
    if let Some(member) = member_walk(d, s, expanded) {
        match d {
            // Distinct rows in the index's own order: SQLite counts them
            // from the index as it walks it, where `count(DISTINCT
            // m.issue_pk)` builds a temporary table of the keys (6 ms
            // against 2 ms for 14 858 rows).
            Dialect::Sqlite => {
                q.push("SELECT count(*) FROM (");
                member.from(&mut q, s.org, "DISTINCT m.key_queue, m.key_num, m.issue_pk");
                q.push(") d");
            }
            // PostgreSQL hashes the keys of its index-only scan (the tag
            // index includes `tag`, migration 0032) as fast as it counts
            // distinct rows in the index's order (5.7 ms either way for
            // 14 858 tags at 1 000 000 issues).
            Dialect::Postgres => {
                member.select_reading(&mut q, s.org, "count(DISTINCT m.issue_pk)", "w.issue_pk")
            }
        }
        return q;
    }
    if let (Dialect::Sqlite, IssueFilter::Words(scope, words)) = (d, &s.filter) {
        if !words.is_empty() {
            // Checking each match's organization was nearly all of the
            // count (`resize`, 22 189 of 1 000 000 issues: 3 ms in FTS5,
            // 24–35 ms with the check). When no other organization holds
            // an issue, every match is this one's and FTS5 counts alone;
            // one statement, so both read the same snapshot.
            let _ = write!(
                q.text,
                "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM issue_counts c \
                 WHERE c.org <> {} AND c.issues <> 0) \
                 THEN (SELECT count(*) FROM issue_fts WHERE issue_fts MATCH ",
                s.org
            );
            q.bind(SqlValue::Text(fts_expr(*scope, words)));
            q.push(") ELSE (SELECT count(*) FROM issues i");
            where_clause(s, &mut q);
            q.push(") END");
            return q;
        }
    }
    if let Some(range) = DayRange::of(&s.filter) {
        range.count(&mut q, s.org);
        return q;
    }
    if combination_only(&s.filter) {
        // Kept by the issues' triggers (migration `issue_counts`): each row
        // stands for the issues of one combination of the columns tested,
        // so the filter holds for all of them or none.
        q.push("SELECT CAST(COALESCE(SUM(i.issues), 0) AS BIGINT) FROM issue_counts i");
        where_clause(s, &mut q);
        return q;
    }
    q.push("SELECT count(*) FROM issues i");
    where_clause(s, &mut q);
    q
}

/// Whether the filter tests only the columns `issue_counts` keeps counts
/// by, with tests whose SQL reads nothing but the column (no sub-select).
fn combination_only(f: &IssueFilter) -> bool {
    let kept = |c: &Col| matches!(c, Col::Queue | Col::Status | Col::Priority | Col::Type);
    match f {
        IssueFilter::All | IssueFilter::Nothing => true,
        IssueFilter::In(c, _) | IssueFilter::InIgnoreCase(c, _) | IssueFilter::IsNull(c) => kept(c),
        IssueFilter::Not(inner) => combination_only(inner),
        IssueFilter::And(items) | IssueFilter::Or(items) => items.iter().all(combination_only),
        _ => false,
    }
}

/// PostgreSQL's day deltas (migration 0038) folded into the day counts in
/// one statement: only the deltas this statement deletes are added, so a
/// delta is counted in one table or the other in every snapshot, and a
/// second node folding at once waits for the first and finds them gone.
/// The upsert takes the rows in key order, as any other fold does.
const FOLD_DAY_DELTAS: &str = "WITH folded AS (DELETE FROM issue_day_deltas \
     RETURNING org, field, day, issues), \
     summed AS (INSERT INTO issue_day_counts AS c (org, field, day, issues) \
     SELECT org, field, day, sum(issues) FROM folded GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 \
     ON CONFLICT (org, field, day) DO UPDATE SET issues = c.issues + excluded.issues \
     RETURNING 1) \
     SELECT count(*) FROM folded";

/// A statement reading rows by a list of ids: `{column} IN (…)` written out
/// on SQLite, where preparing costs no round trip (and such a text is never
/// kept in the statement cache, where each page's own list would push out
/// the statements that repeat); on PostgreSQL one bound array, so the text
/// is the same for every list and is prepared once per connection.
pub struct ByIds {
    pub text: String,
    /// The array literal bound as `$1` (PostgreSQL).
    pub ids: Option<String>,
}

impl ByIds {
    /// `head` (a `SELECT … WHERE`) followed by the id test on `column` and
    /// `tail`; `head` and `tail` hold no placeholders.
    pub fn new(d: Dialect, head: &str, column: &str, ids: &[i64], tail: &str) -> Self {
        match d {
            Dialect::Sqlite => ByIds {
                text: format!("{head} {column} IN ({}){tail}", join_ids(ids)),
                ids: None,
            },
            // The array comes as text (the one type both engines bind);
            // cast as a plain expression it would be parsed again for each
            // row once PostgreSQL settles on a generic plan (2 ms for 200
            // users against 0.1 ms); as a sub-select it is parsed once, and
            // an index still takes it as its condition.
            Dialect::Postgres => ByIds {
                text: format!("{head} {column} = ANY((SELECT $1::bigint[])::bigint[]){tail}"),
                ids: Some(format!("{{{}}}", join_ids(ids))),
            },
        }
    }
}

#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    /// The expansions of a PostgreSQL search of words alone in key order
    /// ([`Expansions`]), read on the connection the search then runs on;
    /// `None` for any other search, or when a prefix begins more than
    /// [`EXPANDED_WORDS_MAX`] words.
    async fn expansions(
        &self,
        conn: &mut D::Connection,
        s: &IssueSearch,
    ) -> Result<Option<Expansions>> {
        let Some(MemberWalk::Words(_, words, _)) = member_walk(D::DIALECT, s, None) else {
            return Ok(None);
        };
        if words.len() > EXPANDED_SEARCH_WORDS_MAX {
            return Ok(None);
        }
        let mut expanded = Vec::with_capacity(words.len());
        for word in words {
            let sql = expansion(s.org, word);
            let found: Vec<String> = bound(sqlx::query_scalar(&sql.text), &sql)
                .fetch_all(&mut *conn)
                .await
                .map_err(db)?;
            if found.len() > EXPANDED_WORDS_MAX {
                return Ok(None);
            }
            expanded.push(found);
        }
        Ok(Some(Expansions { words: expanded }))
    }

    async fn fetch_by_ids<R>(&self, by: &ByIds) -> Result<Vec<R>>
    where
        R: for<'r> sqlx::FromRow<'r, D::Row> + Send + Unpin,
    {
        let mut q = sqlx::query_as::<D, R>(&by.text).persistent(by.ids.is_some());
        if let Some(ids) = &by.ids {
            q = q.bind(ids.as_str());
        }
        q.fetch_all(&self.pool).await.map_err(db)
    }
}

/// The statement reading issues by internal key for a page: they are found
/// by key and only checked for the organization (on SQLite `+` keeps the
/// planner from reaching for an `org` index instead).
pub fn issues_by_pks(d: Dialect, issue_select: &str, org: i64, pks: &[i64]) -> ByIds {
    let org_check = match d {
        Dialect::Sqlite => "+i.org",
        Dialect::Postgres => "i.org",
    };
    ByIds::new(
        d,
        &format!("{issue_select} WHERE"),
        "i.pk",
        pks,
        &format!(" AND {org_check} = {org}"),
    )
}

/// Statements longer than this are prepared for one run only: each search's
/// text is its own (its shape, its ids), and long ones (a 2 MB filter) kept
/// in every connection's statement cache held megabytes each. Shorter ones
/// are the common searches, repeated; prepared once per connection they
/// save PostgreSQL a round trip (parse and describe) each run.
const PREPARED_TEXT_MAX: usize = 1024;

/// Binds a rendered statement's values.
fn bound<'q, D, O>(
    mut q: sqlx::query::QueryScalar<'q, D, O, D::Arguments<'q>>,
    sql: &'q Sql,
) -> sqlx::query::QueryScalar<'q, D, O, D::Arguments<'q>>
where
    D: sqlx::Database + sqlx::database::HasStatementCache,
    i64: Value<D>,
    f64: Value<D>,
    DateTime<Utc>: Value<D>,
    &'q str: Encode<'q, D> + Type<D>,
{
    q = q.persistent(sql.text.len() <= PREPARED_TEXT_MAX);
    for v in &sql.binds {
        q = match v {
            SqlValue::Int(n) => q.bind(*n),
            SqlValue::Float(f) => q.bind(*f),
            SqlValue::Text(s) => q.bind(s.as_str()),
            SqlValue::Time(t) => q.bind(*t),
        };
    }
    q
}

#[sql_bounds]
#[async_trait]
impl<D: Engine> SearchStore for SqlStore<D> {
    async fn search_pks(
        &self,
        s: &IssueSearch,
        offset: i64,
        limit: Option<i64>,
    ) -> Result<Vec<i64>> {
        let mut run = D::cancellable(&self.pool).await.map_err(db)?;
        let expanded = self.expansions(run.conn(), s).await?;
        let sql = select_sized_page(
            D::DIALECT,
            s,
            (offset, limit),
            None,
            None,
            expanded.as_ref(),
        );
        let found = bound(sqlx::query_scalar(&sql.text), &sql)
            .fetch_all(run.conn())
            .await
            .map_err(db);
        run.done();
        found
    }

    async fn search_count(&self, s: &IssueSearch) -> Result<i64> {
        let mut run = D::cancellable(&self.pool).await.map_err(db)?;
        let expanded = self.expansions(run.conn(), s).await?;
        let sql = count_expanded(D::DIALECT, s, expanded.as_ref());
        let found = bound(sqlx::query_scalar(&sql.text), &sql)
            .fetch_one(run.conn())
            .await
            .map_err(db);
        run.done();
        found
    }

    async fn search_counted_pks(
        &self,
        s: &IssueSearch,
        offset: i64,
        limit: Option<i64>,
    ) -> Result<(i64, Vec<i64>)> {
        // One connection, so one call-off guard, for every statement.
        let mut run = D::cancellable(&self.pool).await.map_err(db)?;
        let expanded = self.expansions(run.conn(), s).await?;
        let count = count_expanded(D::DIALECT, s, expanded.as_ref());
        let total: i64 = bound(sqlx::query_scalar(&count.text), &count)
            .fetch_one(run.conn())
            .await
            .map_err(db)?;
        if offset >= total || limit == Some(0) {
            run.done();
            return Ok((total, Vec::new()));
        }
        let mut org_issues = None;
        if walks_updates_if_dense(D::DIALECT, s) {
            let sql = self::org_issues(D::DIALECT, s.org);
            let n: i64 = sqlx::query_scalar(&sql.text)
                .fetch_one(run.conn())
                .await
                .map_err(db)?;
            org_issues = Some(n);
        }
        let page = select_sized_page(
            D::DIALECT,
            s,
            (offset, limit),
            Some(total),
            org_issues,
            expanded.as_ref(),
        );
        let pks = bound(sqlx::query_scalar(&page.text), &page)
            .fetch_all(run.conn())
            .await
            .map_err(db)?;
        run.done();
        Ok((total, pks))
    }

    async fn issues_by_pks(&self, org: i64, pks: &[i64]) -> Result<Vec<IssueRecord>> {
        if pks.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<IssueRow> = self
            .fetch_by_ids(&issues_by_pks(D::DIALECT, ISSUE_SELECT, org, pks))
            .await?;
        Ok(in_order(pks, rows.into_iter().map(IssueRecord::from)))
    }

    async fn queues_with_grants(
        &self,
        org: i64,
    ) -> Result<Vec<(QueueRecord, tracker_domain::permissions::Grants)>> {
        let queues: Vec<QueueRecord> = self
            .fetch_all(
                &format!("SELECT {QUEUE_COLS} FROM queues WHERE org = {org} ORDER BY id"),
                (),
            )
            .await?;
        let grants: Vec<(i64, String, String, String)> = self
            .fetch_all(
                &format!(
                    "SELECT g.queue_id, g.permission, g.subject_kind, g.subject \
             FROM queue_grants g JOIN queues q ON q.id = g.queue_id WHERE q.org = {org}"
                ),
                (),
            )
            .await?;
        with_grants(queues, grants)
    }

    async fn users_by_uids(&self, uids: &[i64]) -> Result<Vec<User>> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        self.fetch_by_ids(&ByIds::new(
            D::DIALECT,
            &format!("SELECT {USER_COLS} FROM users WHERE"),
            "uid",
            uids,
            "",
        ))
        .await
    }

    async fn fold_kept_counts(&self, at_least: u64) -> Result<u64> {
        match D::DIALECT {
            Dialect::Sqlite => Ok(0),
            Dialect::Postgres => {
                // A read first: the fold is a write, and every write moves
                // the data stamp, on which every kept answer of the cluster
                // depends.
                let at_least = i64::try_from(at_least).unwrap_or(i64::MAX).max(1);
                let waiting: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM (SELECT 1 FROM issue_day_deltas LIMIT $1) d",
                )
                .bind(at_least)
                .fetch_one(&self.pool)
                .await
                .map_err(db)?;
                if waiting < at_least {
                    return Ok(0);
                }
                let n: i64 = sqlx::query_scalar(FOLD_DAY_DELTAS)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db)?;
                Ok(u64::try_from(n).unwrap_or(0))
            }
        }
    }

    async fn comment_texts(&self, pks: &[i64]) -> Result<Vec<(i64, String)>> {
        if pks.is_empty() {
            return Ok(Vec::new());
        }
        self.fetch_by_ids(&ByIds::new(
            D::DIALECT,
            "SELECT issue_pk, text FROM comments WHERE",
            "issue_pk",
            pks,
            " ORDER BY pk",
        ))
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(d: Dialect, s: &IssueSearch) -> Sql {
        count_expanded(d, s, None)
    }

    fn select_pks(d: Dialect, s: &IssueSearch, offset: i64, limit: Option<i64>) -> Sql {
        select_page(d, s, offset, limit, None)
    }

    fn select_page(
        d: Dialect,
        s: &IssueSearch,
        offset: i64,
        limit: Option<i64>,
        total: Option<i64>,
    ) -> Sql {
        select_sized_page(d, s, (offset, limit), total, None, None)
    }

    /// Midnight UTC of a day.
    fn t(day: &str) -> SqlValue {
        SqlValue::Time(format!("{day}T00:00:00Z").parse().unwrap())
    }

    /// A search in key order (no order of its own).
    fn keyed(filter: IssueFilter) -> IssueSearch {
        IssueSearch {
            order: Vec::new(),
            ..search(filter)
        }
    }

    fn search(filter: IssueFilter) -> IssueSearch {
        IssueSearch {
            org: 7,
            filter,
            order: vec![Order {
                by: OrderBy::Col(Col::UpdatedAt),
                descending: true,
            }],
        }
    }

    #[test]
    fn placeholders_are_numbered_in_both_dialects() {
        let s = search(IssueFilter::and(vec![
            IssueFilter::In(Col::Status, vec![SqlValue::Text("open".into())]),
            IssueFilter::Cmp(Col::Votes, CmpOp::Ge, SqlValue::Int(2)),
        ]));
        let lite = select_pks(Dialect::Sqlite, &s, 0, Some(50));
        assert_eq!(
            lite.text,
            "SELECT i.pk FROM issues i WHERE i.org = 7 AND (i.status = $1 AND i.votes >= $2) \
             ORDER BY +i.updated_at DESC, +i.key_queue, +i.key_num, i.pk LIMIT 50"
        );
        let pg = select_pks(Dialect::Postgres, &s, 100, Some(50));
        assert!(
            pg.text.contains("i.status = $1 AND i.votes >= $2"),
            "{}",
            pg.text
        );
        assert!(pg.text.ends_with("LIMIT 50 OFFSET 100"));
        assert_eq!(pg.binds.len(), 2);
    }

    #[test]
    fn negation_holds_on_empty_columns() {
        let s = search(IssueFilter::negate(IssueFilter::In(
            Col::Assignee,
            vec![SqlValue::Int(3)],
        )));
        let q = count(Dialect::Sqlite, &s);
        assert!(
            q.text.ends_with("NOT COALESCE((i.assignee = 3), FALSE)"),
            "{}",
            q.text
        );
    }

    #[test]
    fn custom_field_narrowing_ignores_case_in_both_dialects() {
        let s = search(IssueFilter::ExtraLike(vec![
            "%\"Points\"%".into(),
            "%--points\"%".into(),
        ]));
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let q = count(dialect, &s);
            assert!(
                q.text
                    .ends_with("(lower(i.extra) LIKE $1 OR lower(i.extra) LIKE $2)"),
                "{}",
                q.text
            );
            assert_eq!(q.binds[0], SqlValue::Text("%\"points\"%".into()));
        }
    }

    #[test]
    fn full_text_words_are_prefixes_in_both_dialects() {
        let s = search(IssueFilter::Words(
            TextScope::Summary,
            vec!["wheel".into(), "inv".into()],
        ));
        let lite = select_pks(Dialect::Sqlite, &s, 0, Some(50));
        assert_eq!(
            lite.binds,
            vec![SqlValue::Text(
                "summary : \"wheel\"* AND summary : \"inv\"*".into()
            )]
        );
        let pg = count(Dialect::Postgres, &s);
        let text = |w: &str| SqlValue::Text(w.into());
        assert_eq!(
            pg.binds,
            vec![text("wheel"), text("wheel"), text("inv"), text("inv")]
        );
        assert!(
            pg.text.contains(
                "w.word >= lower($3) COLLATE \"C\" AND w.word < (lower($4) || chr(1114111)) \
                 COLLATE \"C\" AND w.scopes & 1 <> 0"
            ),
            "{}",
            pg.text
        );
    }

    #[test]
    fn postgres_words_alone_in_key_order_are_counted_and_paged_from_the_word_rows() {
        let words = keyed(IssueFilter::Words(
            TextScope::Comments,
            vec!["resize".into(), "wheel".into()],
        ));
        let n = count(Dialect::Postgres, &words).text;
        assert!(
            n.starts_with(
                "SELECT count(DISTINCT m.issue_pk) FROM (SELECT w.issue_pk FROM issue_words w \
                 WHERE w.org = 7 AND w.word >= lower($1)"
            ),
            "{n}"
        );
        assert!(
            n.contains("w.scopes & 4 <> 0 INTERSECT SELECT w.issue_pk FROM issue_words w WHERE w.org = 7 AND w.word >= lower($3)"),
            "{n}"
        );
        let one = keyed(IssueFilter::Words(TextScope::All, vec!["resize".into()]));
        let n = count(Dialect::Postgres, &one).text;
        assert_eq!(
            n,
            "SELECT count(DISTINCT m.issue_pk) FROM (SELECT w.issue_pk FROM issue_words w \
             WHERE w.org = 7 AND w.word >= lower($1) COLLATE \"C\" AND \
             w.word < (lower($2) || chr(1114111)) COLLATE \"C\") m"
        );
        let page = select_page(Dialect::Postgres, &words, 0, Some(50), Some(22_189)).text;
        assert!(
            page.starts_with(
                "SELECT DISTINCT m.issue_pk, m.key_queue, m.key_num FROM (SELECT w.issue_pk"
            ),
            "{page}"
        );
        assert!(!page.contains("FROM issues"), "{page}");
        // SQLite keeps to FTS5; with an order of its own, or another
        // condition, PostgreSQL tests the words beside the rest.
        assert!(!count(Dialect::Sqlite, &words).text.contains("issue_words"));
        let queued = keyed(IssueFilter::And(vec![
            words.filter.clone(),
            IssueFilter::In(Col::Queue, vec![SqlValue::Int(3)]),
        ]));
        for other in [&queued, &search(words.filter.clone())] {
            let page = select_page(Dialect::Postgres, other, 0, Some(50), None).text;
            assert!(page.starts_with("SELECT i.pk FROM issues i"), "{page}");
            assert!(
                page.contains("i.pk IN (SELECT w.issue_pk FROM issue_words w WHERE w.org = 7"),
                "{page}"
            );
        }
    }

    #[test]
    fn a_postgres_full_text_page_is_fenced_only_when_its_count_is_small() {
        let s = search(IssueFilter::Words(TextScope::All, vec!["resize".into()]));
        let few = select_page(Dialect::Postgres, &s, 0, Some(50), Some(2_143));
        assert!(
            few.text.contains("COLLATE \"C\" OFFSET 0) ORDER BY"),
            "{}",
            few.text
        );
        for total in [None, Some(FENCED_TEXT_MATCHES_MAX + 1)] {
            let many = select_page(Dialect::Postgres, &s, 0, Some(50), total);
            assert!(!many.text.contains("OFFSET 0"), "{}", many.text);
        }
        let lite = select_page(Dialect::Sqlite, &s, 0, Some(50), Some(10));
        assert!(!lite.text.contains("OFFSET"), "{}", lite.text);
        // SQLite reads the matches' key order from the index on (pk, org,
        // key), for words alone in key order.
        let words = keyed(s.filter.clone());
        let page = select_page(Dialect::Sqlite, &words, 0, Some(50), Some(22_189)).text;
        assert!(
            page.starts_with("SELECT i.pk FROM issues i INDEXED BY issues_by_pk_org_key WHERE"),
            "{page}"
        );
        let queued = keyed(IssueFilter::And(vec![
            s.filter.clone(),
            IssueFilter::In(Col::Queue, vec![SqlValue::Int(3)]),
        ]));
        for other in [&s, &queued] {
            let page = select_page(Dialect::Sqlite, other, 0, Some(50), Some(22_189)).text;
            assert!(!page.contains("INDEXED BY"), "{page}");
        }
        let pg = select_page(Dialect::Postgres, &words, 0, Some(50), Some(22_189)).text;
        assert!(!pg.contains("INDEXED BY"), "{pg}");
        // The count itself is never fenced.
        assert!(!count(Dialect::Postgres, &s).text.contains("OFFSET"));
    }

    #[test]
    fn a_postgres_page_of_issues_created_since_a_date_is_sorted_from_its_index_when_few() {
        let between = IssueFilter::And(vec![
            IssueFilter::Cmp(Col::CreatedAt, CmpOp::Ge, t("2026-11-28")),
            IssueFilter::Cmp(Col::CreatedAt, CmpOp::Lt, t("2026-12-05")),
        ]);
        let since = IssueFilter::Cmp(Col::CreatedAt, CmpOp::Gt, t("2026-11-05"));
        for f in [between.clone(), since] {
            // A page within reach is walked a queue at a time, each queue's
            // part of the range cut at the rows the page needs.
            let page = select_page(
                Dialect::Postgres,
                &keyed(f.clone()),
                100,
                Some(50),
                Some(42_466),
            );
            assert!(
                page.text.starts_with(
                    "SELECT x.pk FROM queues q CROSS JOIN LATERAL (SELECT i.pk, i.key_num FROM issues i WHERE i.org = 7 AND "
                ) && page.text.ends_with(
                    " AND i.queue_id = q.id ORDER BY i.key_num, i.pk LIMIT 150) x WHERE q.org = 7 \
                     ORDER BY q.key COLLATE \"C\", x.key_num, x.pk LIMIT 50 OFFSET 100"
                ),
                "{}",
                page.text
            );
            // A deeper one, or every match at once, is sorted whole.
            let deep = QUEUE_WALK_ROWS_MAX - 49;
            for (offset, limit) in [(deep, Some(50)), (0, None)] {
                let page = select_page(
                    Dialect::Postgres,
                    &keyed(f.clone()),
                    offset,
                    limit,
                    Some(42_466),
                );
                assert!(
                    page.text
                        .starts_with("SELECT f.pk FROM (SELECT i.pk, i.key_queue, i.key_num")
                        && page
                            .text
                            .contains("OFFSET 0) f ORDER BY f.key_queue, f.key_num, f.pk"),
                    "{}",
                    page.text
                );
            }
        }
        let walked = |f: IssueFilter, total: Option<i64>, d: Dialect| {
            let page = select_page(d, &keyed(f), 0, Some(50), total);
            !page.text.contains("OFFSET 0") && !page.text.contains("LATERAL")
        };
        assert!(walked(
            between.clone(),
            Some(FENCED_RANGE_MATCHES_MAX + 1),
            Dialect::Postgres
        ));
        assert!(walked(between.clone(), None, Dialect::Postgres));
        assert!(walked(between.clone(), Some(10), Dialect::Sqlite));
        // Issues created before a date come first in every queue: walked.
        let before = IssueFilter::Cmp(Col::CreatedAt, CmpOp::Lt, t("2026-11-05"));
        assert!(walked(before, Some(10), Dialect::Postgres));
        // Updates follow no key order; a date and anything else is left to the planner.
        let updated = IssueFilter::Cmp(Col::UpdatedAt, CmpOp::Ge, t("2026-11-05"));
        assert!(walked(updated.clone(), Some(10), Dialect::Postgres));
        let mixed = IssueFilter::And(vec![between.clone(), updated]);
        assert!(walked(mixed, Some(10), Dialect::Postgres));
        let queued = IssueFilter::And(vec![
            between,
            IssueFilter::In(Col::Queue, vec![SqlValue::Int(3)]),
        ]);
        assert!(walked(queued, Some(10), Dialect::Postgres));
    }

    #[test]
    fn sqlite_walks_the_key_order_for_a_range_of_updates_when_it_is_dense() {
        let week = IssueFilter::And(vec![
            IssueFilter::Cmp(Col::UpdatedAt, CmpOp::Ge, t("2026-11-29")),
            IssueFilter::Cmp(Col::UpdatedAt, CmpOp::Lt, t("2026-12-07")),
        ]);
        let page = |f: &IssueFilter, d, total, org| {
            select_sized_page(d, &keyed(f.clone()), (0, Some(50)), Some(total), org, None).text
        };
        let walk = page(&week, Dialect::Sqlite, 59_677, Some(1_000_000));
        assert!(
            walk.contains("FROM issues i INDEXED BY issues_by_org_key WHERE")
                && walk.ends_with("ORDER BY i.key_queue, i.key_num, i.pk LIMIT 50"),
            "{walk}"
        );
        // Sparse: 5 000 of a million would mean 10 000 visits; sorted.
        for sorted in [
            page(&week, Dialect::Sqlite, 5_000, Some(1_000_000)),
            page(&week, Dialect::Sqlite, 59_677, None),
        ] {
            assert!(!sorted.contains("INDEXED BY"), "{sorted}");
            assert!(sorted.contains("ORDER BY +i.key_queue"), "{sorted}");
        }
        assert!(!page(&week, Dialect::Postgres, 59_677, Some(1_000_000)).contains("INDEXED"));
        assert!(walks_updates_if_dense(
            Dialect::Sqlite,
            &keyed(week.clone())
        ));
        let created = IssueFilter::Cmp(Col::CreatedAt, CmpOp::Ge, t("2026-11-05"));
        assert!(!walks_updates_if_dense(Dialect::Sqlite, &keyed(created)));
        assert!(!walks_updates_if_dense(
            Dialect::Sqlite,
            &search(week.clone())
        ));
        assert!(!walks_updates_if_dense(Dialect::Postgres, &keyed(week)));
    }

    #[test]
    fn sqlite_counts_words_alone_from_fts5_when_no_other_organization_holds_issues() {
        let s = search(IssueFilter::Words(TextScope::Summary, vec!["wheel".into()]));
        let sql = count(Dialect::Sqlite, &s);
        assert!(
            sql.text.starts_with(
                "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM issue_counts c WHERE c.org <> 7 \
                 AND c.issues <> 0) THEN (SELECT count(*) FROM issue_fts WHERE issue_fts MATCH "
            ) && sql
                .text
                .contains(") ELSE (SELECT count(*) FROM issues i WHERE i.org = 7 AND "),
            "{}",
            sql.text
        );
        let expr = SqlValue::Text("summary : \"wheel\"*".into());
        assert_eq!(sql.binds, vec![expr.clone(), expr]);
        let two = search(IssueFilter::And(vec![s.filter.clone(), s.filter.clone()]));
        assert!(count(Dialect::Sqlite, &two)
            .text
            .starts_with("SELECT count(*) FROM issues i"));
        assert!(count(Dialect::Postgres, &s)
            .text
            .starts_with("SELECT count(*) FROM issues i"));
    }

    #[test]
    fn postgres_words_expanded_to_the_words_they_begin_are_joined_in_key_order() {
        let s = keyed(IssueFilter::Words(
            TextScope::Summary,
            vec!["filter".into(), "cur".into()],
        ));
        let words = |w: &[&str]| w.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
        let e = Expansions {
            words: vec![words(&["filter"]), words(&["cur", "currency"])],
        };
        let page = select_sized_page(
            Dialect::Postgres,
            &s,
            (0, Some(50)),
            Some(9),
            None,
            Some(&e),
        );
        assert!(
            page.text.starts_with(
                "SELECT DISTINCT m.issue_pk, m.key_queue, m.key_num FROM (SELECT w.key_queue, \
                 w.key_num, w.issue_pk FROM issue_words w WHERE w.org = 7 AND w.word = $1 \
                 AND w.scopes & 1 <> 0) m JOIN ("
            ),
            "{}",
            page.text
        );
        assert!(page.text.contains(" UNION "), "{}", page.text);
        assert!(page.text.contains(") m1 ON m1.key_queue = m.key_queue"));
        assert!(!page.text.contains("INTERSECT"), "{}", page.text);
        let texts: Vec<_> = ["filter", "cur", "currency"]
            .map(|w| SqlValue::Text(w.into()))
            .into();
        assert_eq!(page.binds, texts);
        let counted = count_expanded(Dialect::Postgres, &s, Some(&e));
        assert!(counted
            .text
            .starts_with("SELECT count(DISTINCT m.issue_pk) FROM (SELECT w.key_queue"));
        // A prefix beginning no word joins an empty side.
        let none = Expansions {
            words: vec![words(&["filter"]), Vec::new()],
        };
        let counted = count_expanded(Dialect::Postgres, &s, Some(&none));
        assert!(
            counted.text.contains("WHERE false) m1 ON"),
            "{}",
            counted.text
        );
        // Expansions of another number of words, none, or SQLite: ranges.
        let other = Expansions {
            words: vec![words(&["filter"])],
        };
        for (d, e) in [
            (Dialect::Postgres, Some(&other)),
            (Dialect::Postgres, None),
            (Dialect::Sqlite, Some(&e)),
        ] {
            let counted = count_expanded(d, &s, e);
            assert!(!counted.text.contains("JOIN"), "{}", counted.text);
        }
        let listed = expansion(7, "Fil");
        assert!(listed.text.starts_with("WITH RECURSIVE v(word)"));
        assert!(listed
            .text
            .ends_with(&format!("LIMIT {}", EXPANDED_WORDS_MAX + 1)));
        assert_eq!(listed.binds.len(), 3);
    }

    #[test]
    fn a_count_of_a_date_range_alone_sums_the_kept_days_and_counts_only_partial_days() {
        let at = |v: &str| SqlValue::Time(v.parse().unwrap());
        let cmp = |c, op, v: &str| IssueFilter::Cmp(c, op, at(v));
        let partials = |sql: &Sql| sql.text.matches("SELECT count(*) FROM issues").count();
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            // Midnight bounds: whole days only.
            let days = IssueFilter::And(vec![
                cmp(Col::CreatedAt, CmpOp::Ge, "2026-11-06T00:00:00Z"),
                cmp(Col::CreatedAt, CmpOp::Lt, "2026-12-01T00:00:00Z"),
            ]);
            let sql = count(d, &search(days));
            assert!(sql
                .text
                .contains("FROM issue_day_counts d WHERE d.org = 7 AND d.field = 'created'"));
            assert_eq!(
                sql.text.contains("issue_day_deltas"),
                d == Dialect::Postgres,
                "{}",
                sql.text
            );
            assert_eq!(partials(&sql), 0, "{}", sql.text);
            let day = |v: &str| SqlValue::Text(v.into());
            let tables = if d == Dialect::Postgres { 2 } else { 1 };
            let days: Vec<_> = (0..tables)
                .flat_map(|_| [day("2026-11-06"), day("2026-12-01")])
                .collect();
            assert_eq!(sql.binds, days);
            // Mid-day bounds, the stricter of two lower ones: a partial day
            // on each side.
            let partial = IssueFilter::And(vec![
                cmp(Col::UpdatedAt, CmpOp::Gt, "2026-11-06T10:00:00Z"),
                cmp(Col::UpdatedAt, CmpOp::Ge, "2026-11-01T00:00:00Z"),
                cmp(Col::UpdatedAt, CmpOp::Le, "2026-12-01T00:00:00Z"),
            ]);
            let sql = count(d, &search(partial));
            assert!(sql.text.contains("d.field = 'updated' AND d.day >= "));
            assert_eq!(partials(&sql), 2, "{}", sql.text);
            assert!(sql.binds.contains(&day("2026-11-07")), "{:?}", sql.binds);
            assert!(sql.text.contains("i.updated_at > "), "{}", sql.text);
            assert!(sql.text.contains("i.updated_at <= "), "{}", sql.text);
            // No whole day inside, two columns, or any other test: counted
            // from the issues.
            for other in [
                IssueFilter::And(vec![
                    cmp(Col::CreatedAt, CmpOp::Ge, "2026-11-06T10:00:00Z"),
                    cmp(Col::CreatedAt, CmpOp::Lt, "2026-11-07T10:00:00Z"),
                ]),
                IssueFilter::And(vec![
                    cmp(Col::CreatedAt, CmpOp::Ge, "2026-11-06T00:00:00Z"),
                    cmp(Col::UpdatedAt, CmpOp::Ge, "2026-11-06T00:00:00Z"),
                ]),
                IssueFilter::And(vec![
                    cmp(Col::CreatedAt, CmpOp::Ge, "2026-11-06T00:00:00Z"),
                    IssueFilter::In(Col::Queue, vec![SqlValue::Int(3)]),
                ]),
                cmp(Col::ResolvedAt, CmpOp::Ge, "2026-11-06T00:00:00Z"),
            ] {
                let sql = count(d, &search(other));
                assert!(
                    sql.text.starts_with("SELECT count(*) FROM issues i"),
                    "{}",
                    sql.text
                );
            }
        }
    }

    #[test]
    fn a_count_of_queues_statuses_priorities_and_types_alone_sums_the_kept_counts() {
        let text = |v: &str| SqlValue::Text(v.into());
        let kept = IssueFilter::And(vec![
            IssueFilter::In(Col::Priority, vec![text("critical"), text("blocker")]),
            IssueFilter::In(Col::Type, vec![text("bug")]),
            IssueFilter::Not(Box::new(IssueFilter::Or(vec![
                IssueFilter::In(Col::Status, vec![text("closed")]),
                IssueFilter::In(Col::Queue, vec![SqlValue::Int(3), SqlValue::Int(4)]),
            ]))),
        ]);
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            let sql = count(d, &search(kept.clone()));
            assert!(
                sql.text.starts_with(
                    "SELECT CAST(COALESCE(SUM(i.issues), 0) AS BIGINT) FROM issue_counts i WHERE i.org = 7 AND "
                ),
                "{}",
                sql.text
            );
            assert_eq!(sql.binds.len(), 4);
            let everything = count(d, &search(IssueFilter::All));
            assert!(everything
                .text
                .contains("FROM issue_counts i WHERE i.org = 7"));
            for other in [
                IssueFilter::And(vec![
                    kept.clone(),
                    IssueFilter::In(Col::Assignee, vec![SqlValue::Int(1)]),
                ]),
                IssueFilter::In(Col::Resolution, vec![text("fixed")]),
                IssueFilter::Cmp(Col::Status, CmpOp::Ge, text("a")),
                IssueFilter::Tags(Some(vec!["web".into()])),
            ] {
                let sql = count(d, &search(other));
                assert!(
                    sql.text.starts_with("SELECT count(*) FROM issues i"),
                    "{}",
                    sql.text
                );
            }
        }
    }

    #[test]
    fn sqlite_walks_one_queue_or_person_in_date_order_by_naming_its_index() {
        let queue = || IssueFilter::In(Col::Queue, vec![SqlValue::Int(5)]);
        let open = || {
            IssueFilter::negate(IssueFilter::In(
                Col::Status,
                vec![SqlValue::Text("closed".into())],
            ))
        };
        let by = |col| Order {
            by: OrderBy::Col(col),
            descending: true,
        };
        let with = |filter, order| IssueSearch {
            org: 7,
            filter,
            order: vec![order],
        };
        let updated = with(IssueFilter::and(vec![queue(), open()]), by(Col::UpdatedAt));
        let lite = select_pks(Dialect::Sqlite, &updated, 0, Some(50));
        assert!(
            lite.text.starts_with(
                "SELECT i.pk FROM issues i INDEXED BY issues_by_org_queue_updated WHERE"
            ),
            "{}",
            lite.text
        );
        let created = with(queue(), by(Col::CreatedAt));
        assert!(select_pks(Dialect::Sqlite, &created, 0, Some(50))
            .text
            .contains("INDEXED BY issues_by_org_queue_created"));
        let person = |col| IssueFilter::In(col, vec![SqlValue::Int(3)]);
        for (col, index) in [
            (Col::Author, "issues_by_org_author"),
            (Col::Assignee, "issues_by_org_assignee"),
        ] {
            for filter in [person(col), IssueFilter::and(vec![person(col), open()])] {
                let text = select_pks(
                    Dialect::Sqlite,
                    &with(filter, by(Col::UpdatedAt)),
                    0,
                    Some(50),
                )
                .text;
                assert!(
                    text.contains(&format!("INDEXED BY {index} WHERE")),
                    "{text}"
                );
            }
        }
        for other in [
            // Not sorted by a date first.
            with(queue(), by(Col::Votes)),
            // No one queue.
            with(open(), by(Col::UpdatedAt)),
            with(
                IssueFilter::In(Col::Queue, vec![SqlValue::Int(5), SqlValue::Int(6)]),
                by(Col::UpdatedAt),
            ),
            // A test that may be rare in the queue, or among the person's.
            with(
                IssueFilter::and(vec![
                    queue(),
                    IssueFilter::In(Col::Assignee, vec![SqlValue::Int(3)]),
                ]),
                by(Col::UpdatedAt),
            ),
            // No index walks a person's issues by creation date.
            with(person(Col::Author), by(Col::CreatedAt)),
            // Two people.
            with(
                IssueFilter::In(Col::Author, vec![SqlValue::Int(3), SqlValue::Int(4)]),
                by(Col::UpdatedAt),
            ),
        ] {
            let text = select_pks(Dialect::Sqlite, &other, 0, Some(50)).text;
            assert!(!text.contains("INDEXED BY"), "{text}");
        }
        assert!(!select_pks(Dialect::Postgres, &updated, 0, Some(50))
            .text
            .contains("INDEXED BY"));
        assert!(!count(Dialect::Sqlite, &updated).text.contains("INDEXED BY"));
    }
}
