//! Evaluating a parsed query against one issue, in memory.

use std::cmp::Ordering;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::ast::*;
use crate::temporal::{day, function_interval, literal_interval, Interval};

/// A field value of an issue, typed by how the query language compares it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Free text searched by words (summary, description, one comment, one history entry).
    Text(String),
    /// A thing with a key and a display name (status `open`/"Open", queue `TEST`/"Test"); plain
    /// names such as tags and issue keys use the same string twice.
    Entity {
        key: String,
        display: String,
    },
    /// A person: login plus full name.
    User {
        login: String,
        display: String,
    },
    /// A date without time (deadline, start, end).
    Date(NaiveDate),
    /// An instant (created, updated, resolved).
    DateTime(DateTime<Utc>),
    Number(f64),
    /// A time interval in seconds (original estimate, time spent).
    Duration(i64),
}

impl Value {
    /// A plain name, e.g. a tag or an issue key.
    pub fn name(s: impl Into<String>) -> Value {
        let s = s.into();
        Value::Entity {
            key: s.clone(),
            display: s,
        }
    }

    pub fn user(login: impl Into<String>, display: impl Into<String>) -> Value {
        Value::User {
            login: login.into(),
            display: display.into(),
        }
    }

    fn is_blank(&self) -> bool {
        matches!(self, Value::Text(t) if t.trim().is_empty())
    }
}

/// One recorded change of a field, for `changed(…)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub from: Option<Value>,
    pub to: Option<Value>,
    /// Who made the change, a [`Value::User`].
    pub by: Value,
    pub at: DateTime<Utc>,
}

/// An issue as the evaluator sees it. The server implements this over its own issue type.
pub trait Document {
    /// All values of a field; empty when unset. Single-valued fields give at most one value.
    /// Unknown [`Field::Custom`] / [`Field::Local`] fields simply give none.
    fn values(&self, field: &Field) -> Vec<Value>;

    /// The texts a bare word searches: summary, description and comments by default.
    fn full_text(&self) -> Vec<String> {
        ["summary", "description", "comment"]
            .into_iter()
            .flat_map(|k| self.values(&Field::Known(k)))
            .filter_map(|v| match v {
                Value::Text(t) => Some(t),
                _ => None,
            })
            .collect()
    }

    /// The history of a field, oldest first; none by default.
    fn changes(&self, _field: &Field) -> Vec<Change> {
        Vec::new()
    }
}

/// What the functions of a query resolve to at evaluation time.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// Login of the user running the query, for `me()`.
    pub me: String,
    /// The moment the query runs, for `now()`, `today()` etc. Calendar functions use UTC days.
    pub now: DateTime<Utc>,
    /// Group (department) name → member logins, for `group(value: …)`; matched case-insensitively.
    pub groups: HashMap<String, Vec<String>>,
}

impl Context {
    pub fn new(me: impl Into<String>, now: DateTime<Utc>) -> Self {
        Context {
            me: me.into(),
            now,
            groups: HashMap::new(),
        }
    }

    pub fn with_group(mut self, name: impl Into<String>, members: &[&str]) -> Self {
        self.groups.insert(
            name.into(),
            members.iter().map(|m| (*m).to_string()).collect(),
        );
        self
    }

    fn group(&self, name: &str) -> &[String] {
        let wanted = name.trim().to_lowercase();
        self.groups
            .iter()
            .find(|(k, _)| k.trim().to_lowercase() == wanted)
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    }
}

impl Operand {
    /// The interval of time a temporal operand stands for at `now` (a date:
    /// its day; `today()`: the current day…); `None` when it is not temporal.
    pub fn interval(&self, now: DateTime<Utc>) -> Option<Interval> {
        match self {
            Operand::Literal(l) => literal_interval(&l.kind),
            Operand::Function(c) => function_interval(c, now),
        }
    }
}

impl Query {
    /// Whether the issue passes the filter (a query without one matches everything).
    pub fn matches(&self, doc: &dyn Document, ctx: &Context) -> bool {
        self.filter.as_ref().is_none_or(|e| e.matches(doc, ctx))
    }

    /// Orders two issues by the query's `"Sort by"` keys, comparing each field's first value.
    /// Empty values sort last ascending and first descending, like PostgreSQL's default, so an
    /// SQL `ORDER BY col [DESC]` agrees. Equal under every key → `Equal` (callers add a tiebreak).
    pub fn compare(&self, a: &dyn Document, b: &dyn Document) -> Ordering {
        for key in &self.sort {
            let va = a.values(&key.field.field).into_iter().next();
            let vb = b.values(&key.field.field).into_iter().next();
            let ord = match (va, vb) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(x), Some(y)) => sort_cmp(&x, &y),
            };
            let ord = if key.descending { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

fn sort_rank(v: &Value) -> (u8, String, f64) {
    match v {
        Value::Text(t) => (0, t.to_lowercase(), 0.0),
        Value::Entity { display, .. } => (0, display.to_lowercase(), 0.0),
        Value::User { display, .. } => (0, display.to_lowercase(), 0.0),
        Value::Date(d) => (1, String::new(), day(*d).start.timestamp() as f64),
        Value::DateTime(t) => (1, String::new(), t.timestamp_micros() as f64 / 1e6),
        Value::Number(n) => (2, String::new(), *n),
        Value::Duration(s) => (3, String::new(), *s as f64),
    }
}

fn sort_cmp(a: &Value, b: &Value) -> Ordering {
    let (ra, sa, na) = sort_rank(a);
    let (rb, sb, nb) = sort_rank(b);
    ra.cmp(&rb)
        .then_with(|| sa.cmp(&sb))
        .then_with(|| na.total_cmp(&nb))
}

impl Expr {
    pub fn matches(&self, doc: &dyn Document, ctx: &Context) -> bool {
        match self {
            Expr::And(items) => items.iter().all(|e| e.matches(doc, ctx)),
            Expr::Or(items) => items.iter().any(|e| e.matches(doc, ctx)),
            Expr::Text(lit) => {
                let texts: Vec<Vec<String>> =
                    doc.full_text().iter().map(|t| text_words(t)).collect();
                text_words(&lit.text)
                    .iter()
                    .all(|w| texts.iter().any(|t| has_word(t, w)))
            }
            Expr::Condition(c) => c.matches(doc, ctx),
        }
    }
}

impl Condition {
    pub fn matches(&self, doc: &dyn Document, ctx: &Context) -> bool {
        let field = &self.field.field;
        let values = doc.values(field);
        let holds = |p: &Predicate| match p {
            Predicate::Changed(c) => doc.changes(field).iter().any(|ch| c.matches(ch, ctx)),
            other => other.holds(&values, ctx),
        };
        let (neg, pos): (Vec<&Predicate>, Vec<&Predicate>) =
            self.predicates.iter().partition(|p| p.is_negative());
        (pos.is_empty() || pos.into_iter().any(holds)) && neg.into_iter().all(holds)
    }
}

impl Changed {
    fn matches(&self, ch: &Change, ctx: &Context) -> bool {
        let on = |p: &Option<Predicate>, v: Option<&Value>| {
            p.as_ref()
                .is_none_or(|p| p.holds(&v.cloned().into_iter().collect::<Vec<_>>(), ctx))
        };
        on(&self.from, ch.from.as_ref())
            && on(&self.to, ch.to.as_ref())
            && on(&self.by, Some(&ch.by))
            && on(&self.date, Some(&Value::DateTime(ch.at)))
    }
}

impl Predicate {
    /// Whether the predicate holds for a field with these values (`changed(…)` needs the
    /// history and is false here; [`Condition::matches`] handles it).
    pub fn holds(&self, values: &[Value], ctx: &Context) -> bool {
        let present: Vec<&Value> = values.iter().filter(|v| !v.is_blank()).collect();
        match self {
            Predicate::Empty => present.is_empty(),
            Predicate::NotEmpty => !present.is_empty(),
            Predicate::Equals(o) => present.iter().any(|v| equals(v, o, ctx)),
            Predicate::NotEquals(o) => !present.iter().any(|v| equals(v, o, ctx)),
            Predicate::Exact(l) => present.iter().any(|v| exact(v, l)),
            Predicate::NotExact(l) => !present.iter().any(|v| exact(v, l)),
            Predicate::Compare(op, o) => present.iter().any(|v| compare(v, *op, o, ctx)),
            Predicate::Range(a, b) => present.iter().any(|v| in_range(v, a, b, ctx)),
            Predicate::Changed(_) => false,
        }
    }
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split_whitespace()
}

/// The words of a text as full-text search compares them: lowercase runs of
/// letters and digits. A query word matches a text when each of its words
/// begins some word of the text (`wheel` finds "wheels", not "cartwheel"),
/// which is what both storage backends' full-text indexes answer.
pub fn text_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn has_word(words: &[String], prefix: &str) -> bool {
    words.iter().any(|w| w.starts_with(prefix))
}

fn contains_ci(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

fn eq_ci(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Lowercase with whitespace runs collapsed, for exact comparison.
fn squash(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whole-text match where `||` stands for "any further text" (`#"Make ||"`).
fn glob_eq(pattern: &str, text: &str) -> bool {
    let pattern = pattern.trim().to_lowercase();
    let mut collapsed = String::new();
    for (i, w) in pattern.split(char::is_whitespace).enumerate() {
        if i > 0 && !collapsed.ends_with(' ') {
            collapsed.push(' ');
        }
        collapsed.push_str(w);
    }
    let text = squash(text);
    let parts: Vec<&str> = collapsed.split("||").collect();
    if parts.len() == 1 {
        return collapsed == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    rest.ends_with(last) && rest.len() >= last.len()
}

/// The interval of time a temporal operand stands for.
fn operand_interval(o: &Operand, ctx: &Context) -> Option<Interval> {
    match o {
        Operand::Literal(l) => literal_interval(&l.kind),
        Operand::Function(c) => function_interval(c, ctx.now),
    }
}

/// The value as an interval: a date is its day, an instant a single point.
fn value_interval(v: &Value) -> Option<Interval> {
    match v {
        Value::Date(d) => Some(day(*d)),
        Value::DateTime(t) => Some(Interval {
            start: *t,
            end: t
                .checked_add_signed(TimeDelta::nanoseconds(1))
                .unwrap_or(*t),
        }),
        _ => None,
    }
}

fn scalar(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(*n),
        Value::Duration(s) => Some(*s as f64),
        _ => None,
    }
}

fn operand_scalar(v: &Value, o: &Operand) -> Option<f64> {
    let Operand::Literal(l) = o else { return None };
    match (v, &l.kind) {
        (Value::Number(_), LiteralKind::Number(n)) => Some(*n),
        (Value::Duration(_), LiteralKind::Duration(d)) => Some(d.total_seconds() as f64),
        _ => None,
    }
}

fn user_matches(login: &str, display: &str, o: &Operand, ctx: &Context) -> bool {
    match o {
        Operand::Function(FunctionCall {
            function: Function::Me,
            ..
        }) => eq_ci(login, &ctx.me),
        Operand::Function(FunctionCall {
            function: Function::Group(g),
            ..
        }) => ctx.group(g).iter().any(|m| eq_ci(m, login)),
        Operand::Function(_) => false,
        Operand::Literal(l) => match &l.kind {
            LiteralKind::Login(want) => eq_ci(want, login),
            // A quoted full name finds similar names too, as the reference warns.
            _ if l.quoted => eq_ci(&l.text, login) || contains_ci(display, l.text.trim()),
            // A single word is a login or any part of the full name ("Followers: Ivan").
            _ => eq_ci(&l.text, login) || words(display).any(|w| eq_ci(w, &l.text)),
        },
    }
}

fn equals(v: &Value, o: &Operand, ctx: &Context) -> bool {
    match v {
        Value::Text(t) => match o {
            Operand::Literal(l) => {
                let want = text_words(&l.text);
                let have = text_words(t);
                !want.is_empty() && want.iter().all(|w| has_word(&have, w))
            }
            Operand::Function(_) => false,
        },
        Value::Entity { key, display } => match o {
            Operand::Literal(l) => eq_ci(&l.text, key) || eq_ci(&l.text, display),
            Operand::Function(_) => false,
        },
        Value::User { login, display } => user_matches(login, display, o, ctx),
        Value::Date(_) | Value::DateTime(_) => {
            match (value_interval(v), operand_interval(o, ctx)) {
                (Some(vi), Some(q)) => vi.start < q.end && vi.end > q.start,
                _ => false,
            }
        }
        Value::Number(_) | Value::Duration(_) => {
            matches!((scalar(v), operand_scalar(v, o)), (Some(a), Some(b)) if a == b)
        }
    }
}

fn exact(v: &Value, l: &Literal) -> bool {
    match v {
        Value::Text(t) => glob_eq(&l.text, t),
        Value::Entity { key, display } => glob_eq(&l.text, key) || glob_eq(&l.text, display),
        Value::User { login, display } => eq_ci(&l.text, login) || glob_eq(&l.text, display),
        _ => equals(
            v,
            &Operand::Literal(l.clone()),
            &Context::new("", DateTime::UNIX_EPOCH),
        ),
    }
}

fn compare(v: &Value, op: CompareOp, o: &Operand, ctx: &Context) -> bool {
    if let (Some(vi), Some(q)) = (value_interval(v), operand_interval(o, ctx)) {
        return match op {
            CompareOp::Gt => vi.start >= q.end,
            CompareOp::Ge => vi.start >= q.start,
            CompareOp::Lt => vi.end <= q.start,
            CompareOp::Le => vi.end <= q.end,
        };
    }
    match (scalar(v), operand_scalar(v, o)) {
        (Some(a), Some(b)) => match op {
            CompareOp::Gt => a > b,
            CompareOp::Ge => a >= b,
            CompareOp::Lt => a < b,
            CompareOp::Le => a <= b,
        },
        _ => false,
    }
}

fn in_range(v: &Value, a: &Operand, b: &Operand, ctx: &Context) -> bool {
    if let (Some(vi), Some(lo), Some(hi)) = (
        value_interval(v),
        operand_interval(a, ctx),
        operand_interval(b, ctx),
    ) {
        return vi.start >= lo.start && vi.end <= hi.end;
    }
    match (scalar(v), operand_scalar(v, a), operand_scalar(v, b)) {
        (Some(x), Some(lo), Some(hi)) => lo <= x && x <= hi,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_double_bar_matches_any_further_text_but_not_none() {
        assert!(glob_eq("Make ||", "Make lists"));
        assert!(glob_eq("Make ||", "make  a map"));
        assert!(!glob_eq("Make ||", "Makeshift"));
        assert!(!glob_eq("Make ||", "Make"));
        assert!(glob_eq("Version 2.0", " version 2.0 "));
        assert!(!glob_eq("Version 2.0", "Version 2.0 beta"));
    }
}
