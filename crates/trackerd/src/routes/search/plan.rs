//! From a parsed query to an [`IssueFilter`] the store runs as SQL.
//!
//! Each condition is translated against what its field can hold: a field
//! with a known set of values (statuses, the organization's queues and
//! members) is translated by asking the query language's own evaluator which
//! of those values the predicate accepts, so SQL and the in-memory evaluator
//! cannot disagree about names, logins, `me()` or `group()`. Dates become
//! instants, bare words full-text. What cannot be said exactly in SQL
//! (custom and local fields, `changed()`'s old and new values, `#"a || b"`)
//! becomes a wider filter plus `exact = false`: the caller then checks the
//! surviving issues in memory.

use tracker_domain::dictionaries::{self, Entry};
use tracker_domain::permissions::{allows, Caller, Grants, IssueRoles, Perm, Role};
use tracker_query::{
    text_words, Condition, Context, Expr, Field, Interval, Literal, Operand, Predicate, SortKey,
    Value,
};
use tracker_store::{
    CatalogList, CmpOp, Col, IssueFilter as F, LinkTargets, Order, OrderBy, QueueRecord, SqlValue,
    TextScope,
};

/// A member as the evaluator sees people.
pub struct Person {
    pub uid: i64,
    pub login: String,
    pub display: String,
}

pub struct Planner<'a> {
    pub ctx: &'a Context,
    pub queues: &'a [(QueueRecord, Grants)],
    pub people: &'a [Person],
}

/// How a field is stored.
enum Spec {
    /// One column holding a key from a dictionary.
    Dict(Col, &'static [Entry]),
    Queue,
    /// One column holding a user id.
    User(Col),
    Followers,
    Access,
    CommentAuthors,
    Time(Col),
    Number(Col),
    Text(TextScope),
    Tags,
    Catalog(CatalogList),
    Key,
    Parent,
    /// A text column compared whole, ignoring case.
    Name(Col),
    /// Links of these types in these directions (`Some(true)` outward,
    /// `Some(false)` inward, `None` either) to issues named by key, or to
    /// issues of queues.
    Link(&'static [&'static str], Option<bool>, Target),
    /// A created field, kept in the issue's extra fields under one of these
    /// `LIKE` patterns (its id, or a local field's `--key`), and in the
    /// given queue (local fields).
    Extra(Vec<String>, Option<String>),
    /// Not in a column: checked in memory.
    Elsewhere,
}

#[derive(Clone, Copy)]
enum Target {
    Key,
    Queue,
}

const ANY_LINK: &[&str] = &[
    "relates",
    "depends",
    "subtask",
    "duplicates",
    "epic",
    "clone",
];

fn spec(field: &Field) -> Spec {
    match field {
        Field::Known(key) => match *key {
            "status" => Spec::Dict(Col::Status, dictionaries::STATUSES),
            "priority" => Spec::Dict(Col::Priority, dictionaries::PRIORITIES),
            "type" => Spec::Dict(Col::Type, dictionaries::ISSUE_TYPES),
            "resolution" => Spec::Dict(Col::Resolution, dictionaries::RESOLUTIONS),
            "queue" => Spec::Queue,
            "assignee" => Spec::User(Col::Assignee),
            "createdBy" => Spec::User(Col::Author),
            "updatedBy" => Spec::User(Col::UpdatedBy),
            "followers" => Spec::Followers,
            "access" => Spec::Access,
            "commentAuthor" => Spec::CommentAuthors,
            "createdAt" => Spec::Time(Col::CreatedAt),
            "updatedAt" => Spec::Time(Col::UpdatedAt),
            "resolvedAt" => Spec::Time(Col::ResolvedAt),
            "lastCommentUpdatedAt" => Spec::Time(Col::LastCommentAt),
            "votes" => Spec::Number(Col::Votes),
            "summary" => Spec::Text(TextScope::Summary),
            "description" => Spec::Text(TextScope::Description),
            "comment" => Spec::Text(TextScope::Comments),
            "tags" => Spec::Tags,
            "components" => Spec::Catalog(CatalogList::Components),
            "fixVersions" => Spec::Catalog(CatalogList::FixVersions),
            "affectedVersions" => Spec::Catalog(CatalogList::AffectedVersions),
            "key" => Spec::Key,
            "parent" => Spec::Parent,
            "dependsOn" => Spec::Link(&["depends"], Some(true), Target::Key),
            "isDependentBy" => Spec::Link(&["depends"], Some(false), Target::Key),
            "relates" => Spec::Link(&["relates"], None, Target::Key),
            "duplicates" => Spec::Link(&["duplicates"], Some(true), Target::Key),
            "isDuplicatedBy" => Spec::Link(&["duplicates"], Some(false), Target::Key),
            "isEpicOf" => Spec::Link(&["epic"], Some(true), Target::Key),
            "hasEpic" | "epic" => Spec::Link(&["epic"], Some(false), Target::Key),
            "isParentTaskFor" => Spec::Link(&["subtask"], Some(true), Target::Key),
            "isSubtaskFor" => Spec::Link(&["subtask"], Some(false), Target::Key),
            "clone" => Spec::Link(&["clone"], Some(true), Target::Key),
            "original" => Spec::Link(&["clone"], Some(false), Target::Key),
            "linkedTo" => Spec::Link(ANY_LINK, None, Target::Key),
            "dependOnQueue" => Spec::Link(&["depends"], Some(true), Target::Queue),
            "duplicatesInQueue" => Spec::Link(&["duplicates"], Some(true), Target::Queue),
            "duplicatedInQueue" => Spec::Link(&["duplicates"], Some(false), Target::Queue),
            "relatedToQueue" => Spec::Link(&["relates"], None, Target::Queue),
            "haveLinksToQueue" => Spec::Link(ANY_LINK, None, Target::Queue),
            _ => Spec::Elsewhere,
        },
        Field::Custom(name) => match name.as_str() {
            "statusStartTime" => Spec::Time(Col::StatusStartTime),
            "previousStatus" => Spec::Dict(Col::PreviousStatus, dictionaries::STATUSES),
            "unique" => Spec::Name(Col::Unique),
            "id" => Spec::Name(Col::Id),
            // By key, a global field's value is stored under the key and a
            // local one's under `<prefix>--key`.
            other if stored_name(other) => Spec::Extra(
                vec![format!("%\"{other}\"%"), format!("%--{other}\"%")],
                None,
            ),
            _ => Spec::Elsewhere,
        },
        Field::Local { queue, name } if stored_name(name) => {
            Spec::Extra(vec![format!("%--{name}\"%")], Some(queue.clone()))
        }
        Field::Local { .. } => Spec::Elsewhere,
    }
}

/// Whether a field name appears in stored JSON text as written, so a
/// pattern can look for it (`"` and `\\` would be escaped there).
fn stored_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['"', '\\']) && !name.starts_with('\u{0}')
}

fn time(t: chrono::DateTime<chrono::Utc>) -> SqlValue {
    SqlValue::Time(t)
}

/// `Literal` text with whitespace collapsed, as exact matching compares it.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Planner<'_> {
    /// The filter for a whole expression and whether it is exact.
    pub fn expr(&self, e: &Expr) -> (F, bool) {
        match e {
            Expr::And(items) | Expr::Or(items) => {
                let mut exact = true;
                let mut parts = Vec::with_capacity(items.len());
                for item in items {
                    let (f, x) = self.expr(item);
                    exact &= x;
                    parts.push(f);
                }
                let f = if matches!(e, Expr::And(_)) {
                    F::and(parts)
                } else {
                    F::or(parts)
                };
                (f, exact)
            }
            Expr::Text(lit) => (F::Words(TextScope::All, text_words(&lit.text)), true),
            Expr::Condition(c) => self.condition(c),
        }
    }

    /// Whether the condition is about something only SQL knows (links,
    /// access lists, comment authors); the in-memory evaluator is given its
    /// SQL answer instead (see `mod.rs`, `sql_only`).
    pub fn only_in_sql(&self, c: &Condition) -> bool {
        matches!(
            spec(&c.field.field),
            Spec::Link(..) | Spec::Access | Spec::CommentAuthors
        ) && c
            .predicates
            .iter()
            .all(|p| !matches!(p, Predicate::Changed(_)))
    }

    pub fn condition(&self, c: &Condition) -> (F, bool) {
        let field = &c.field.field;
        let mut exact = true;
        let mut positive = Vec::new();
        let mut negative = Vec::new();
        for p in &c.predicates {
            let (f, x) = self.predicate(field, p);
            exact &= x;
            if p.is_negative() {
                negative.push(f);
            } else {
                positive.push(f);
            }
        }
        let mut all = negative;
        if !positive.is_empty() {
            all.push(F::or(positive));
        }
        (F::and(all), exact)
    }

    fn predicate(&self, field: &Field, p: &Predicate) -> (F, bool) {
        match p {
            Predicate::NotEquals(o) => self.negated(field, &Predicate::Equals(o.clone())),
            Predicate::NotExact(l) => self.negated(field, &Predicate::Exact(l.clone())),
            Predicate::Changed(ch) => (self.changed(field, ch), false),
            _ => self.positive(field, p),
        }
    }

    /// A negation is exact only over an exact filter; over a wider one the
    /// only safe widening is "anything".
    fn negated(&self, field: &Field, positive: &Predicate) -> (F, bool) {
        match self.positive(field, positive) {
            (f, true) => (F::negate(f), true),
            (_, false) => (F::All, false),
        }
    }

    fn positive(&self, field: &Field, p: &Predicate) -> (F, bool) {
        match spec(field) {
            Spec::Dict(col, dict) => {
                let keys: Vec<SqlValue> = dict
                    .iter()
                    .filter(|e| self.accepts(p, &entity(e.key, e.display)))
                    .map(|e| SqlValue::Text(e.key.to_owned()))
                    .collect();
                (
                    self.empties(p, F::IsNull(col)).unwrap_or(F::In(col, keys)),
                    true,
                )
            }
            Spec::Queue => {
                let ids = self
                    .queues
                    .iter()
                    .filter(|(q, _)| self.accepts(p, &entity(&q.key, &q.name)))
                    .map(|(q, _)| SqlValue::Int(q.id))
                    .collect();
                (F::In(Col::Queue, ids), true)
            }
            Spec::User(col) => {
                let f = self
                    .empties(p, F::IsNull(col))
                    .unwrap_or_else(|| F::In(col, self.people(p).map(SqlValue::Int).collect()));
                (f, true)
            }
            Spec::Followers => self.people_set(p, F::Followers),
            Spec::Access => self.people_set(p, F::Access),
            Spec::CommentAuthors => self.people_set(p, F::CommentAuthors),
            Spec::Time(col) => (self.time(col, p), true),
            Spec::Number(col) => (number(col, p), true),
            Spec::Text(scope) => text(scope, p),
            Spec::Tags => match p {
                Predicate::Empty => (F::negate(F::Tags(None)), true),
                Predicate::NotEmpty => (F::Tags(None), true),
                _ => names(p, |names| F::Tags(Some(names))),
            },
            Spec::Catalog(list) => match p {
                Predicate::Empty => (F::negate(F::Catalog(list, None)), true),
                Predicate::NotEmpty => (F::Catalog(list, None), true),
                _ => names(p, |names| F::Catalog(list, Some(names))),
            },
            Spec::Key => names(p, |keys| {
                F::Keys(keys.into_iter().map(|k| k.to_uppercase()).collect())
            }),
            Spec::Parent => match p {
                Predicate::Empty => (F::IsNull(Col::Parent), true),
                Predicate::NotEmpty => (F::negate(F::IsNull(Col::Parent)), true),
                _ => names(p, |keys| {
                    F::ParentKeys(keys.into_iter().map(|k| k.to_uppercase()).collect())
                }),
            },
            Spec::Name(col) => match p {
                Predicate::Empty => (F::IsNull(col), true),
                Predicate::NotEmpty => (F::negate(F::IsNull(col)), true),
                _ => names(p, |names| F::InIgnoreCase(col, names)),
            },
            Spec::Link(types, direction, target) => (self.link(types, direction, target, p), true),
            Spec::Extra(patterns, queue) => {
                // Only a predicate that needs a value narrows: `empty()`
                // holds where the field is absent.
                let needs_value = matches!(
                    p,
                    Predicate::Equals(_)
                        | Predicate::Exact(_)
                        | Predicate::Compare(..)
                        | Predicate::Range(..)
                        | Predicate::NotEmpty
                );
                if !needs_value {
                    return (F::All, false);
                }
                let in_queue = match queue {
                    None => F::All,
                    Some(key) => F::In(
                        Col::Queue,
                        self.queues
                            .iter()
                            .filter(|(q, _)| q.key.eq_ignore_ascii_case(&key))
                            .map(|(q, _)| SqlValue::Int(q.id))
                            .collect(),
                    ),
                };
                (F::and(vec![in_queue, F::ExtraLike(patterns)]), false)
            }
            Spec::Elsewhere => (F::All, false),
        }
    }

    fn link(&self, types: &[&str], direction: Option<bool>, target: Target, p: &Predicate) -> F {
        let targets = match (p, target) {
            (Predicate::Empty | Predicate::NotEmpty, _) => LinkTargets::Any,
            (Predicate::Equals(Operand::Literal(l)), Target::Key) => {
                LinkTargets::Keys(vec![l.text.trim().to_uppercase()])
            }
            (_, Target::Queue) => LinkTargets::Queues(
                self.queues
                    .iter()
                    .filter(|(q, _)| self.accepts(p, &entity(&q.key, &q.name)))
                    .map(|(q, _)| q.id)
                    .collect(),
            ),
            _ => return F::Nothing,
        };
        let one = |outward: bool| F::Linked {
            types: types.iter().map(|t| (*t).to_owned()).collect(),
            outward,
            targets: targets.clone(),
        };
        let linked = match direction {
            Some(outward) => one(outward),
            None => F::or(vec![one(true), one(false)]),
        };
        match p {
            Predicate::Empty => F::negate(linked),
            _ => linked,
        }
    }

    fn accepts(&self, p: &Predicate, v: &Value) -> bool {
        p.holds(std::slice::from_ref(v), self.ctx)
    }

    /// `empty()` / `notEmpty()` in terms of the "is empty" filter.
    fn empties(&self, p: &Predicate, empty: F) -> Option<F> {
        match p {
            Predicate::Empty => Some(empty),
            Predicate::NotEmpty => Some(F::negate(empty)),
            _ => None,
        }
    }

    fn people<'p>(&'p self, p: &'p Predicate) -> impl Iterator<Item = i64> + 'p {
        self.people
            .iter()
            .filter(move |u| self.accepts(p, &Value::user(&u.login, &u.display)))
            .map(|u| u.uid)
    }

    fn people_set(&self, p: &Predicate, leaf: fn(Option<Vec<i64>>) -> F) -> (F, bool) {
        let f = match p {
            Predicate::Empty => F::negate(leaf(None)),
            Predicate::NotEmpty => leaf(None),
            _ => leaf(Some(self.people(p).collect())),
        };
        (f, true)
    }

    fn time(&self, col: Col, p: &Predicate) -> F {
        let iv = |o: &Operand| o.interval(self.ctx.now);
        let between = |a: Option<Interval>, b: Option<Interval>| match (a, b) {
            (Some(a), Some(b)) => F::and(vec![
                F::Cmp(col, CmpOp::Ge, time(a.start)),
                F::Cmp(col, CmpOp::Lt, time(b.end)),
            ]),
            _ => F::Nothing,
        };
        match p {
            Predicate::Empty => F::IsNull(col),
            Predicate::NotEmpty => F::negate(F::IsNull(col)),
            Predicate::Equals(o) => between(iv(o), iv(o)),
            Predicate::Exact(l) => {
                let o = Operand::Literal(l.clone());
                between(iv(&o), iv(&o))
            }
            Predicate::Range(a, b) => between(iv(a), iv(b)),
            Predicate::Compare(op, o) => match iv(o) {
                None => F::Nothing,
                Some(q) => match op {
                    tracker_query::CompareOp::Gt => F::Cmp(col, CmpOp::Ge, time(q.end)),
                    tracker_query::CompareOp::Ge => F::Cmp(col, CmpOp::Ge, time(q.start)),
                    tracker_query::CompareOp::Lt => F::Cmp(col, CmpOp::Lt, time(q.start)),
                    tracker_query::CompareOp::Le => F::Cmp(col, CmpOp::Lt, time(q.end)),
                },
            },
            _ => F::Nothing,
        }
    }

    /// `changed(…)`: narrowed to issues with a changelog entry about the
    /// field (by the named people, at the named time); the old and new
    /// values are checked in memory.
    fn changed(&self, field: &Field, ch: &tracker_query::Changed) -> F {
        let name = match field {
            Field::Known(k) => (*k).to_owned(),
            Field::Custom(n) => n.clone(),
            Field::Local { name, .. } => name.clone(),
        };
        let by = ch
            .by
            .as_ref()
            .filter(|p| !p.is_negative())
            .map(|p| self.people(p).collect());
        let (from, to) = match &ch.date {
            Some(Predicate::Equals(o)) => match o.interval(self.ctx.now) {
                Some(i) => (Some(i.start), Some(i.end)),
                None => return F::Nothing,
            },
            _ => (None, None),
        };
        F::ChangedField {
            field: name,
            by,
            from,
            to,
        }
    }

    /// The order for `"Sort by"` keys, or `None` when one of them is not a
    /// column (the caller sorts in memory then).
    pub fn order(&self, keys: &[SortKey]) -> Option<Vec<Order>> {
        keys.iter()
            .map(|k| {
                let by = match spec(&k.field.field) {
                    Spec::Key => OrderBy::Key,
                    Spec::Time(c) | Spec::Number(c) => OrderBy::Col(c),
                    Spec::Dict(c, dict) => OrderBy::Mapped(
                        c,
                        dict.iter()
                            .map(|e| (SqlValue::Text(e.key.to_owned()), e.display.to_lowercase()))
                            .collect(),
                    ),
                    Spec::Queue => OrderBy::Mapped(
                        Col::Queue,
                        self.queues
                            .iter()
                            .map(|(q, _)| (SqlValue::Int(q.id), q.name.to_lowercase()))
                            .collect(),
                    ),
                    Spec::User(c) => OrderBy::UserName(c),
                    Spec::Text(TextScope::Summary) => OrderBy::Mapped(Col::Summary, Vec::new()),
                    Spec::Text(TextScope::Description) => {
                        OrderBy::Mapped(Col::Description, Vec::new())
                    }
                    Spec::Name(c) => OrderBy::Mapped(c, Vec::new()),
                    _ => return None,
                };
                Some(Order {
                    by,
                    descending: k.descending,
                })
            })
            .collect()
    }
}

fn entity(key: &str, display: &str) -> Value {
    Value::Entity {
        key: key.to_owned(),
        display: display.to_owned(),
    }
}

fn number(col: Col, p: &Predicate) -> F {
    let n = |o: &Operand| match o {
        Operand::Literal(Literal {
            kind: tracker_query::LiteralKind::Number(n),
            ..
        }) => Some(SqlValue::Float(*n)),
        _ => None,
    };
    let cmp = |op, o: &Operand| n(o).map_or(F::Nothing, |v| F::Cmp(col, op, v));
    match p {
        Predicate::Equals(o) => n(o).map_or(F::Nothing, |v| F::In(col, vec![v])),
        Predicate::Compare(op, o) => cmp(
            match op {
                tracker_query::CompareOp::Gt => CmpOp::Gt,
                tracker_query::CompareOp::Ge => CmpOp::Ge,
                tracker_query::CompareOp::Lt => CmpOp::Lt,
                tracker_query::CompareOp::Le => CmpOp::Le,
            },
            o,
        ),
        Predicate::Range(a, b) => F::and(vec![cmp(CmpOp::Ge, a), cmp(CmpOp::Le, b)]),
        Predicate::Exact(l) => number(col, &Predicate::Equals(Operand::Literal(l.clone()))),
        // Votes are never empty.
        Predicate::Empty => F::Nothing,
        Predicate::NotEmpty => F::All,
        _ => F::Nothing,
    }
}

fn text(scope: TextScope, p: &Predicate) -> (F, bool) {
    let col = match scope {
        TextScope::Summary => Some(Col::Summary),
        TextScope::Description => Some(Col::Description),
        _ => None,
    };
    match p {
        Predicate::Equals(Operand::Literal(l)) => {
            let words = text_words(&l.text);
            if words.is_empty() {
                (F::Nothing, true)
            } else {
                (F::Words(scope, words), true)
            }
        }
        // Whole-text matches contain every word: full text narrows, memory decides.
        Predicate::Exact(l) => (
            F::Words(scope, text_words(&l.text.replace("||", " "))),
            false,
        ),
        Predicate::Empty => match col {
            Some(c) => (F::IsBlank(c), true),
            None => (F::negate(F::CommentAuthors(None)), false),
        },
        Predicate::NotEmpty => match col {
            Some(c) => (F::negate(F::IsBlank(c)), true),
            None => (F::CommentAuthors(None), false),
        },
        _ => (F::Nothing, true),
    }
}

/// Plain names (tags, keys, ids): `Field: name`, `#"name"` without `||`.
fn names(p: &Predicate, leaf: impl Fn(Vec<String>) -> F) -> (F, bool) {
    match p {
        Predicate::Equals(Operand::Literal(l)) => (leaf(vec![l.text.trim().to_owned()]), true),
        Predicate::Exact(l) if !l.text.contains("||") => (leaf(vec![squash(&l.text)]), true),
        Predicate::Exact(_) => (F::All, false),
        // Only keys reach here (tags, parents and names handle emptiness
        // first), and every issue has one.
        Predicate::Empty => (F::Nothing, true),
        Predicate::NotEmpty => (F::All, true),
        _ => (F::Nothing, true),
    }
}

/// Which issues the caller may read, as a filter: whole queues the account
/// may read, issues in queues that admit it by role, and issues whose access
/// list names it. Mirrors `access::Guard::issue_allows`.
pub fn readable(uid: i64, org_admin: bool, groups: &[i64], queues: &[(QueueRecord, Grants)]) -> F {
    if org_admin {
        return F::All;
    }
    let caller = Caller {
        uid,
        org_admin: false,
        groups,
    };
    let mut whole = Vec::new();
    let mut by_role: [(Role, Vec<i64>); 3] = [
        (Role::Author, Vec::new()),
        (Role::Assignee, Vec::new()),
        (Role::Follower, Vec::new()),
    ];
    for (q, grants) in queues {
        let lead = q.lead_uid == uid;
        if allows(grants, Perm::Read, &caller, lead, IssueRoles::default()) {
            whole.push(q.id);
            continue;
        }
        for (role, ids) in &mut by_role {
            let roles = IssueRoles {
                author: *role == Role::Author,
                assignee: *role == Role::Assignee,
                follower: *role == Role::Follower,
                access: false,
            };
            if allows(grants, Perm::Read, &caller, lead, roles) {
                ids.push(q.id);
            }
        }
    }
    if whole.len() == queues.len() {
        return F::All;
    }
    let in_queues =
        |ids: &[i64]| F::In(Col::Queue, ids.iter().map(|i| SqlValue::Int(*i)).collect());
    let [(_, author), (_, assignee), (_, follower)] = &by_role;
    let me = || vec![SqlValue::Int(uid)];
    F::or(vec![
        in_queues(&whole),
        F::and(vec![in_queues(author), F::In(Col::Author, me())]),
        F::and(vec![in_queues(assignee), F::In(Col::Assignee, me())]),
        F::and(vec![in_queues(follower), F::Followers(Some(vec![uid]))]),
        F::Access(Some(vec![uid])),
    ])
}
