//! The typed syntax tree. Every node that comes from the text carries its byte [`Span`].

use std::fmt::{self, Write as _};

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

use crate::fields::{self, FieldKind};

/// Byte offsets `[start, end)` into the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    pub(crate) fn to(self, other: Span) -> Span {
        Span::new(self.start, other.end)
    }
}

/// A whole query: an optional filter (absent when the query is empty or only sorts) plus the
/// `"Sort by"` keys in priority order.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub filter: Option<Expr>,
    pub sort: Vec<SortKey>,
}

/// The boolean structure of a query.
///
/// # Translating to SQL
///
/// The tree maps onto a `WHERE` clause node by node; nothing needs the whole tree at once:
///
/// * `And(items)` → `(item₁ AND item₂ …)`; `Or(items)` → `(item₁ OR item₂ …)`. `AND` binds tighter
///   than `OR` and implicit `AND` (juxtaposition) is already folded into `And`, so parenthesise
///   every node and precedence takes care of itself.
/// * `Condition(c)` → see [`Condition`]: `(positive₁ OR positive₂ …) AND negative₁ AND …`.
/// * `Text(lit)` → full-text match of every word of `lit.text` against summary, description and
///   comments: SQLite `issues_fts MATCH 'w1 w2'`, PostgreSQL `tsv @@ plainto_tsquery($1)` (the
///   in-memory evaluator uses case-insensitive substrings, which stand in for "words and their
///   forms").
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Condition(Condition),
    /// A bare word or quoted text outside any `Field:`: full-text search.
    Text(Literal),
}

/// `Field: pred, pred, …`.
///
/// # Meaning and SQL shape
///
/// The predicates of a list combine as "in (…) and not in (…)": the condition holds when at
/// least one *positive* predicate holds (or there are none) **and** every *negative* predicate
/// ([`Predicate::is_negative`]: `!value`, `~"text"`) holds. So `Status: Open, "In Progress"` is
/// `status IN ('open','inProgress')` and `Tags: !a, !b` is `NOT (tags ∋ a) AND NOT (tags ∋ b)`.
///
/// Per [`Field`]: a known single-valued field becomes a column comparison; a multi-valued one
/// (followers, tags, components, access…) becomes `EXISTS (SELECT 1 FROM issue_<field> …)`, with
/// `NOT EXISTS` for negatives; [`Field::Local`] and [`Field::Custom`] must first be resolved by
/// the server against the queue's / organisation's field registry (unknown ones → 400).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub field: FieldRef,
    pub predicates: Vec<Predicate>,
    pub span: Span,
}

/// A field as written, with its place in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRef {
    pub field: Field,
    pub span: Span,
}

/// Which field a condition or sort key is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// A field from [`fields::FIELDS`], by canonical key (`createdBy` for `Author`).
    Known(&'static str),
    /// A queue's local field: `DEVS.tester`, `DEVS."Lead test engineer"`.
    Local { queue: String, name: String },
    /// Any other name, e.g. a global custom field by key or a quoted display name; the server
    /// resolves it (or answers 400).
    Custom(String),
}

impl Field {
    /// The kind of a known field; `None` for local and custom fields, whose kind only the
    /// server's registry knows.
    pub fn kind(&self) -> Option<FieldKind> {
        match self {
            Field::Known(key) => fields::by_key(key).map(|d| d.kind),
            _ => None,
        }
    }
}

/// One element of a condition's value list.
///
/// # Meaning and SQL shape
///
/// * `Equals(v)` — for text fields: every word of `v` occurs (`Summary: "invent the wheel"`) →
///   full-text on that column; for people: login, full name or name part (see
///   [`Literal`]) → `login = $1 OR display ILIKE …`; for named things: key or display name,
///   case-insensitive → `lower(col) = lower($1)`; for dates: the value's day/interval overlaps
///   the operand's interval (see [`Operand`]) → `col >= $start AND col < $end`; numbers and
///   durations: equality.
/// * `NotEquals(v)` (`!v`) → `NOT (Equals(v))`, which also holds when the field is empty.
/// * `Exact(lit)` (`#"…"`) → whole-value, case-insensitive, whitespace-collapsed equality;
///   `||` inside the text is a wildcard for "more text here" → `lower(col) LIKE 'make %'`.
/// * `NotExact(lit)` (`~"…"`) → `NOT (Exact(lit))`.
/// * `Compare(op, v)` → against the operand's interval: `> v` is `col >= v.end`, `>= v` is
///   `col >= v.start`, `< v` is `col < v.start`, `<= v` is `col < v.end` (for numbers the plain
///   comparison).
/// * `Range(a, b)` (`a..b`, both ends inclusive) → `col >= a.start AND col < b.end`.
/// * `Empty` (`empty()`, `unresolved()`) → `col IS NULL` / `NOT EXISTS`; `NotEmpty` the opposite.
/// * `Changed{…}` → `EXISTS (SELECT 1 FROM issue_changes WHERE field = … AND …)`.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    Equals(Operand),
    NotEquals(Operand),
    Exact(Literal),
    NotExact(Literal),
    Compare(CompareOp, Operand),
    Range(Operand, Operand),
    Empty,
    NotEmpty,
    /// `changed(from: … to: … by: … date: …)`: some change of the field satisfies every given part.
    Changed(Box<Changed>),
}

impl Predicate {
    /// Negative predicates are ANDed within a list; positive ones are ORed.
    pub fn is_negative(&self) -> bool {
        matches!(self, Predicate::NotEquals(_) | Predicate::NotExact(_))
    }
}

/// The arguments of `changed(…)`; each is a single predicate on the old value, new value,
/// author of the change, and its time.
#[derive(Debug, Clone, PartialEq)]
pub struct Changed {
    pub from: Option<Predicate>,
    pub to: Option<Predicate>,
    pub by: Option<Predicate>,
    pub date: Option<Predicate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    fn symbol(self) -> &'static str {
        match self {
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
        }
    }
}

/// A value to compare with.
///
/// Temporal operands stand for a half-open interval of time `[start, end)`: a date is its whole
/// day (UTC), `"2017-04-30 17:25:00"` its second, `now()` its minute (the reference: "current
/// time with to-the-minute precision"), `today()`/`week()`/`month()`/`quarter()`/`year()` the
/// current day / ISO week (Monday first) / month / quarter / year; `± interval` shifts both ends.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Literal(Literal),
    Function(FunctionCall),
}

/// A word or quoted string as written, plus what it looks like.
///
/// `text` is always kept: `"Affected Version": "14.09.1978"` is a version *name* that happens to
/// parse as a date, so the evaluator decides by the field's values which reading applies.
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    pub text: String,
    pub quoted: bool,
    pub kind: LiteralKind,
    pub span: Span,
}

/// How a literal can also be read.
#[derive(Debug, Clone, PartialEq)]
pub enum LiteralKind {
    /// Plain text / a name.
    Text,
    /// `login@` (unquoted): exactly this user.
    Login(String),
    /// `MM/DD/YYYY`, `DD.MM.YYYY`, `DD-MM-YYYY` or `YYYY-MM-DD`.
    Date(NaiveDate),
    /// `YYYY-MM-DD HH:MM:SS` (or `…THH:MM[:SS]`).
    DateTime(NaiveDateTime),
    Number(f64),
    /// `XXw XXd XXh XXm XXs`.
    Duration(Duration),
}

/// A time interval as written: `"1w 1d"`, `12h`, `3d 5h 32m`. A week is 7 days and a day 24
/// hours (calendar arithmetic, as `today() - 1w` means "a week ago").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Duration {
    pub weeks: i64,
    pub days: i64,
    pub hours: i64,
    pub minutes: i64,
    pub seconds: i64,
}

impl Duration {
    pub fn to_time_delta(self) -> TimeDelta {
        TimeDelta::seconds(self.total_seconds())
    }

    pub fn total_seconds(self) -> i64 {
        self.weeks
            .saturating_mul(7 * 86_400)
            .saturating_add(self.days.saturating_mul(86_400))
            .saturating_add(self.hours.saturating_mul(3_600))
            .saturating_add(self.minutes.saturating_mul(60))
            .saturating_add(self.seconds)
            // TimeDelta's range is about ±2.9e11 years; clamp so hostile input cannot panic it.
            .clamp(-(1 << 52), 1 << 52)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for (n, unit) in [
            (self.weeks, 'w'),
            (self.days, 'd'),
            (self.hours, 'h'),
            (self.minutes, 'm'),
            (self.seconds, 's'),
        ] {
            if n != 0 {
                parts.push(format!("{n}{unit}"));
            }
        }
        if parts.is_empty() {
            parts.push("0s".into());
        }
        f.write_str(&parts.join(" "))
    }
}

/// A function call with optional date arithmetic: `today() - "1w 1d"`, `now()-12h`.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionCall {
    pub function: Function,
    pub shifts: Vec<Shift>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Function {
    /// The user running the query ([`crate::Context::me`]).
    Me,
    Now,
    Today,
    Week,
    Month,
    Quarter,
    Year,
    /// `group(value: "Sales department")`: members of the group, from [`crate::Context`].
    Group(String),
}

impl Function {
    pub fn name(&self) -> &'static str {
        match self {
            Function::Me => "me",
            Function::Now => "now",
            Function::Today => "today",
            Function::Week => "week",
            Function::Month => "month",
            Function::Quarter => "quarter",
            Function::Year => "year",
            Function::Group(_) => "group",
        }
    }

    pub fn is_temporal(&self) -> bool {
        !matches!(self, Function::Me | Function::Group(_))
    }
}

/// `+ interval` or `- interval` after a temporal function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    pub negative: bool,
    pub by: Duration,
    pub span: Span,
}

/// One `"Sort by"` key.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub field: FieldRef,
    pub descending: bool,
}

// ---------------------------------------------------------------------------------------------
// Printing. `Display` writes canonical query text that parses back to the same tree (fields by
// canonical key, parentheses around every nested OR); `describe()` writes a span-free
// S-expression used by tests to state what a query means.

/// `s` as a quoted string of the query language: any text, read back as itself.
pub fn quote(s: &str) -> String {
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

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Known(key) => f.write_str(key),
            Field::Local { queue, name } => write!(f, "{queue}.{}", quote(name)),
            Field::Custom(name) => f.write_str(&quote(name)),
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.quoted {
            f.write_str(&quote(&self.text))
        } else {
            f.write_str(&self.text)
        }
    }
}

impl fmt::Display for FunctionCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.function {
            Function::Group(g) => write!(f, "group(value: {})", quote(g))?,
            other => write!(f, "{}()", other.name())?,
        }
        for s in &self.shifts {
            write!(
                f,
                " {} {}",
                if s.negative { '-' } else { '+' },
                quote(&s.by.to_string())
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Literal(l) => l.fmt(f),
            Operand::Function(c) => c.fmt(f),
        }
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Predicate::Equals(o) => o.fmt(f),
            Predicate::NotEquals(o) => write!(f, "!{o}"),
            Predicate::Exact(l) => write!(f, "#{l}"),
            Predicate::NotExact(l) => write!(f, "~{l}"),
            Predicate::Compare(op, o) => write!(f, "{} {o}", op.symbol()),
            Predicate::Range(a, b) => write!(f, "{a} .. {b}"),
            Predicate::Empty => f.write_str("empty()"),
            Predicate::NotEmpty => f.write_str("notEmpty()"),
            Predicate::Changed(c) => {
                f.write_str("changed(")?;
                let mut first = true;
                for (name, p) in [
                    ("from", &c.from),
                    ("to", &c.to),
                    ("by", &c.by),
                    ("date", &c.date),
                ] {
                    if let Some(p) = p {
                        if !first {
                            f.write_char(' ')?;
                        }
                        first = false;
                        write!(f, "{name}: {p}")?;
                    }
                }
                f.write_char(')')
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::And(items) => write_separated(f, items, " AND ", write_operand),
            Expr::Or(items) => write_separated(f, items, " OR ", write_operand),
            Expr::Condition(c) => {
                write!(f, "{}: ", c.field.field)?;
                write_separated(f, &c.predicates, ", ", |f, p| p.fmt(f))
            }
            Expr::Text(l) => l.fmt(f),
        }
    }
}

/// Writes `items` with `sep` between them, each as `write` writes it.
fn write_separated<T>(
    f: &mut fmt::Formatter<'_>,
    items: &[T],
    sep: &str,
    mut write: impl FnMut(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write(f, item)?;
    }
    Ok(())
}

/// An operand of `AND` or `OR`: an `OR` inside either is parenthesized.
fn write_operand(f: &mut fmt::Formatter<'_>, e: &Expr) -> fmt::Result {
    match e {
        Expr::Or(_) => write!(f, "({e})"),
        _ => fmt::Display::fmt(e, f),
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        if let Some(e) = &self.filter {
            e.fmt(f)?;
            wrote = true;
        }
        if !self.sort.is_empty() {
            if wrote {
                f.write_char(' ')?;
            }
            f.write_str("\"Sort by\": ")?;
            write_separated(f, &self.sort, ", ", |f, k| {
                let order = if k.descending { "DESC" } else { "ASC" };
                write!(f, "{} {order}", k.field.field)
            })?;
        }
        Ok(())
    }
}

impl Literal {
    fn describe(&self) -> String {
        match &self.kind {
            LiteralKind::Text if self.quoted => quote(&self.text),
            LiteralKind::Text => self.text.clone(),
            LiteralKind::Login(l) => format!("login:{l}"),
            LiteralKind::Date(d) => format!("date:{d}"),
            LiteralKind::DateTime(d) => format!("datetime:{}", d.format("%Y-%m-%dT%H:%M:%S")),
            LiteralKind::Number(n) => format!("num:{n}"),
            LiteralKind::Duration(d) => format!("dur:{}", d.to_string().replace(' ', "")),
        }
    }
}

impl Operand {
    fn describe(&self) -> String {
        match self {
            Operand::Literal(l) => l.describe(),
            Operand::Function(c) => {
                let mut s = match &c.function {
                    Function::Group(g) => format!("group({})", quote(g)),
                    other => format!("{}()", other.name()),
                };
                for sh in &c.shifts {
                    s.push(if sh.negative { '-' } else { '+' });
                    s.push_str(&sh.by.to_string().replace(' ', ""));
                }
                s
            }
        }
    }
}

impl Predicate {
    /// Span-free S-expression of the predicate; see [`Query::describe`].
    pub fn describe(&self) -> String {
        match self {
            Predicate::Equals(o) => o.describe(),
            Predicate::NotEquals(o) => format!("!{}", o.describe()),
            Predicate::Exact(l) => format!("#{}", l.describe()),
            Predicate::NotExact(l) => format!("~{}", l.describe()),
            Predicate::Compare(op, o) => format!("{}{}", op.symbol(), o.describe()),
            Predicate::Range(a, b) => format!("{}..{}", a.describe(), b.describe()),
            Predicate::Empty => "empty".into(),
            Predicate::NotEmpty => "notEmpty".into(),
            Predicate::Changed(c) => {
                let parts: Vec<String> = [
                    ("from", &c.from),
                    ("to", &c.to),
                    ("by", &c.by),
                    ("date", &c.date),
                ]
                .into_iter()
                .filter_map(|(n, p)| p.as_ref().map(|p| format!("{n} {}", p.describe())))
                .collect();
                format!("changed({})", parts.join(" "))
            }
        }
    }
}

impl Field {
    fn describe(&self) -> String {
        match self {
            Field::Known(k) => (*k).to_string(),
            Field::Local { queue, name } => format!("{queue}.{}", quote(name)),
            Field::Custom(n) => format!("custom:{}", quote(n)),
        }
    }
}

impl Expr {
    /// How many terms the expression holds: each value of a condition and
    /// each free-text literal counts one. What a server limits, since the
    /// cost of running a query grows with it.
    pub fn terms(&self) -> usize {
        match self {
            Expr::And(items) | Expr::Or(items) => items.iter().map(Expr::terms).sum(),
            Expr::Condition(c) => c.predicates.len().max(1),
            Expr::Text(_) => 1,
        }
    }

    /// Span-free S-expression of the tree; see [`Query::describe`].
    pub fn describe(&self) -> String {
        match self {
            Expr::And(items) => format!("(and {})", describe_all(items, Expr::describe)),
            Expr::Or(items) => format!("(or {})", describe_all(items, Expr::describe)),
            Expr::Condition(c) => format!(
                "({} {})",
                c.field.field.describe(),
                describe_all(&c.predicates, Predicate::describe)
            ),
            Expr::Text(l) => format!("(text {})", l.describe()),
        }
    }
}

/// Each item as `describe` describes it, space-separated.
fn describe_all<T>(items: &[T], describe: impl Fn(&T) -> String) -> String {
    items.iter().map(describe).collect::<Vec<_>>().join(" ")
}

impl Query {
    /// A span-free S-expression stating what the query means, e.g.
    /// `(and (queue TEST) (assignee me())) (sort updatedAt desc)`. Fields appear by canonical key,
    /// literals with the reading the parser found (`date:2017-01-01`, `login:user3370`, `num:5`,
    /// `dur:1w1d`, `"quoted"`, `bare`); useful in tests and logs.
    pub fn describe(&self) -> String {
        let mut out = match &self.filter {
            Some(e) => e.describe(),
            None => "(all)".to_string(),
        };
        if !self.sort.is_empty() {
            let keys: Vec<String> = self
                .sort
                .iter()
                .map(|k| {
                    format!(
                        "{} {}",
                        k.field.field.describe(),
                        if k.descending { "desc" } else { "asc" }
                    )
                })
                .collect();
            let _ = write!(out, " (sort {})", keys.join(", "));
        }
        out
    }
}
