//! What issue search needs from storage.
//!
//! The server parses Tracker's query language (crate `tracker-query`) and
//! resolves it — names to ids, dates to instants, the caller's rights to
//! queues — into an [`IssueFilter`]: a small, backend-neutral tree that each
//! backend renders as one SQL `WHERE` clause over its indexes. Everything the
//! tree cannot say exactly (custom fields, `changed()` details) the server
//! approximates by a wider filter and checks in memory afterwards.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{IssueRecord, QueueRecord, Result};
use tracker_domain::permissions::Grants;

/// A column of `issues` a filter or an order can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Col {
    Pk,
    Queue,
    Status,
    PreviousStatus,
    Priority,
    Type,
    Resolution,
    Assignee,
    Author,
    UpdatedBy,
    Parent,
    Key,
    Id,
    Unique,
    CreatedAt,
    UpdatedAt,
    ResolvedAt,
    StatusStartTime,
    LastCommentAt,
    Votes,
    Summary,
    Description,
}

impl Col {
    /// The column's SQL name on the `issues` table.
    pub fn sql(self) -> &'static str {
        match self {
            Col::Pk => "pk",
            Col::Queue => "queue_id",
            Col::Status => "status",
            Col::PreviousStatus => "previous_status",
            Col::Priority => "priority",
            Col::Type => "issue_type",
            Col::Resolution => "resolution",
            Col::Assignee => "assignee",
            Col::Author => "author",
            Col::UpdatedBy => "updated_by",
            Col::Parent => "parent_pk",
            Col::Key => "key",
            Col::Id => "id",
            Col::Unique => "unique_key",
            Col::CreatedAt => "created_at",
            Col::UpdatedAt => "updated_at",
            Col::ResolvedAt => "resolved_at",
            Col::StatusStartTime => "status_start_time",
            Col::LastCommentAt => "last_comment_updated_at",
            Col::Votes => "votes",
            Col::Summary => "summary",
            Col::Description => "description",
        }
    }

    pub fn nullable(self) -> bool {
        matches!(
            self,
            Col::PreviousStatus
                | Col::Resolution
                | Col::Assignee
                | Col::Parent
                | Col::Unique
                | Col::ResolvedAt
                | Col::LastCommentAt
                | Col::Description
        )
    }
}

/// A value bound into a query.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Int(i64),
    Float(f64),
    Text(String),
    Time(DateTime<Utc>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn sql(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// Where full-text words are looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextScope {
    /// Summary, description and comments (a bare word in a query).
    All,
    Summary,
    Description,
    Comments,
}

/// A resolved issue filter. Every node is two-valued: backends render
/// leaves so that `Not` of a leaf on an empty column holds.
#[derive(Debug, Clone, PartialEq)]
pub enum IssueFilter {
    All,
    Nothing,
    And(Vec<IssueFilter>),
    Or(Vec<IssueFilter>),
    Not(Box<IssueFilter>),
    /// The column equals one of the values.
    In(Col, Vec<SqlValue>),
    /// Text column equal to one of the values, ignoring case.
    InIgnoreCase(Col, Vec<String>),
    Cmp(Col, CmpOp, SqlValue),
    IsNull(Col),
    /// Empty or only whitespace (text columns).
    IsBlank(Col),
    /// Some of these users follow the issue (`None`: anyone does).
    Followers(Option<Vec<i64>>),
    /// The issue has one of these tags, ignoring case (`None`: any tag).
    Tags(Option<Vec<String>>),
    /// The issue has a component or version (in `which` of its lists) with
    /// one of these names, ignoring case (`None`: any).
    Catalog(CatalogList, Option<Vec<String>>),
    /// One of these users is on the issue's access list (`None`: anyone).
    Access(Option<Vec<i64>>),
    /// The issue's current or a former key is one of these.
    Keys(Vec<String>),
    /// The parent's current key is one of these.
    ParentKeys(Vec<String>),
    /// One of these users commented (`None`: anyone did).
    CommentAuthors(Option<Vec<i64>>),
    /// Every word is the beginning of a word in the scope's text (words are
    /// lowercase runs of letters and digits, see [`words`]).
    Words(TextScope, Vec<String>),
    /// A link of one of `types` from the issue, in `direction`, to an issue
    /// in `targets` (`None`: to any issue).
    Linked {
        types: Vec<String>,
        outward: bool,
        targets: LinkTargets,
    },
    /// The issue's stored extra fields (JSON text) contain one of these
    /// `LIKE` patterns, ignoring case: a custom field's value is there under
    /// its id. Wider than any condition on the value, which is then checked
    /// in memory.
    ExtraLike(Vec<String>),
    /// A changelog entry about `field` (by one of `by`, within `[from, to)`).
    ChangedField {
        field: String,
        by: Option<Vec<i64>>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    },
}

/// An issue's list of components or versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogList {
    Components,
    FixVersions,
    AffectedVersions,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LinkTargets {
    Any,
    Keys(Vec<String>),
    Queues(Vec<i64>),
}

impl IssueFilter {
    /// `And`, flattened, with `All` dropped and `Nothing` absorbing.
    pub fn and(items: Vec<IssueFilter>) -> IssueFilter {
        let mut out: Vec<IssueFilter> = Vec::new();
        for i in items {
            match i {
                IssueFilter::All => {}
                IssueFilter::Nothing => return IssueFilter::Nothing,
                IssueFilter::And(inner) => {
                    for item in inner {
                        push_and(&mut out, item);
                    }
                }
                other => push_and(&mut out, other),
            }
        }
        match out.len() {
            0 => IssueFilter::All,
            1 => out.pop().unwrap_or(IssueFilter::All),
            _ => IssueFilter::And(out),
        }
    }

    /// `Or`, flattened, with `Nothing` dropped and `All` absorbing, and the
    /// "any of these values" tests of one column joined into one: a filter
    /// of 100 000 tags is one list, not 100 000 alternatives (which passed
    /// the engines' limits on bound values).
    pub fn or(items: Vec<IssueFilter>) -> IssueFilter {
        let mut out = Vec::new();
        let mut lists: std::collections::HashMap<String, usize> = Default::default();
        for i in items {
            match i {
                IssueFilter::Nothing => {}
                IssueFilter::All => return IssueFilter::All,
                IssueFilter::Or(inner) => {
                    for item in inner {
                        push_or(&mut out, &mut lists, item);
                    }
                }
                other => push_or(&mut out, &mut lists, other),
            }
        }
        match out.len() {
            0 => IssueFilter::Nothing,
            1 => out.pop().unwrap_or(IssueFilter::Nothing),
            _ => IssueFilter::Or(out),
        }
    }

    pub fn negate(inner: IssueFilter) -> IssueFilter {
        match inner {
            IssueFilter::All => IssueFilter::Nothing,
            IssueFilter::Nothing => IssueFilter::All,
            IssueFilter::Not(x) => *x,
            other => IssueFilter::Not(Box::new(other)),
        }
    }
}

/// What an order key sorts by.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderBy {
    /// The issue key in its natural order: queue key, then number.
    Key,
    Col(Col),
    /// A column's values mapped to what they sort by (e.g. status key →
    /// display name); unmapped values sort by themselves, lowercased.
    Mapped(Col, Vec<(SqlValue, String)>),
    /// A user column, by the user's display name.
    UserName(Col),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub by: OrderBy,
    pub descending: bool,
}

/// One search: the organization's issues passing `filter`, in `order`
/// (ties broken by key), `offset`/`limit` applied by the store.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueSearch {
    pub org: i64,
    pub filter: IssueFilter,
    pub order: Vec<Order>,
}

#[async_trait]
pub trait SearchStore: Send + Sync + 'static {
    /// The internal keys of the matching issues, in order; `limit: None`
    /// returns them all.
    async fn search_pks(
        &self,
        s: &IssueSearch,
        offset: i64,
        limit: Option<i64>,
    ) -> Result<Vec<i64>>;
    async fn search_count(&self, s: &IssueSearch) -> Result<i64>;
    /// The count of the matching issues and, unless the window starts past
    /// them, the internal keys of `offset..offset + limit` in order: both
    /// on one connection, the count first.
    async fn search_counted_pks(
        &self,
        s: &IssueSearch,
        offset: i64,
        limit: Option<i64>,
    ) -> Result<(i64, Vec<i64>)>;
    /// The issues with these internal keys, in the order given; missing ones
    /// are left out. Reads a page in a few statements.
    async fn issues_by_pks(&self, org: i64, pks: &[i64]) -> Result<Vec<IssueRecord>>;
    /// Every queue of the organization (deleted ones too) with its grants.
    async fn queues_with_grants(&self, org: i64) -> Result<Vec<(QueueRecord, Grants)>>;
    /// The accounts with these uids, in one statement (rendering a page).
    async fn users_by_uids(&self, uids: &[i64]) -> Result<Vec<crate::User>>;
    /// The texts of the issues' comments, oldest first, per issue.
    async fn comment_texts(&self, pks: &[i64]) -> Result<Vec<(i64, String)>>;
    /// Folds the changes writers appended to kept counts since the last
    /// fold into the counts themselves (PostgreSQL's day counts; SQLite's
    /// triggers write them in place) once at least `at_least` are waiting,
    /// returning how many were folded. Counts read the same before and
    /// after; folding only keeps what a count reads short. Safe on several
    /// nodes at once.
    async fn fold_kept_counts(&self, at_least: u64) -> Result<u64>;
}

/// Adds `item` to a conjunction, folding full-text words into the words node
/// of the same scope: every bare word of a query was its own full-text
/// sub-select, and PostgreSQL's planner is exponential in the number of
/// them (128 words took 4 s, 500 over five minutes).
/// Which "any of" list a test is, if it is one that unions under `Or`.
fn any_of_list(f: &IssueFilter) -> Option<String> {
    Some(match f {
        IssueFilter::In(c, _) => format!("in {c:?}"),
        IssueFilter::InIgnoreCase(c, _) => format!("in-ignore-case {c:?}"),
        IssueFilter::Tags(Some(_)) => "tags".into(),
        IssueFilter::Keys(_) => "keys".into(),
        IssueFilter::ParentKeys(_) => "parent keys".into(),
        IssueFilter::Followers(Some(_)) => "followers".into(),
        IssueFilter::Catalog(list, Some(_)) => format!("catalog {list:?}"),
        _ => return None,
    })
}

fn push_or(
    out: &mut Vec<IssueFilter>,
    lists: &mut std::collections::HashMap<String, usize>,
    item: IssueFilter,
) {
    let Some(list) = any_of_list(&item) else {
        return out.push(item);
    };
    let Some(&at) = lists.get(&list) else {
        lists.insert(list, out.len());
        return out.push(item);
    };
    match (&mut out[at], item) {
        (IssueFilter::In(_, have), IssueFilter::In(_, more)) => have.extend(more),
        (IssueFilter::InIgnoreCase(_, have), IssueFilter::InIgnoreCase(_, more))
        | (IssueFilter::Tags(Some(have)), IssueFilter::Tags(Some(more)))
        | (IssueFilter::Keys(have), IssueFilter::Keys(more))
        | (IssueFilter::ParentKeys(have), IssueFilter::ParentKeys(more))
        | (IssueFilter::Catalog(_, Some(have)), IssueFilter::Catalog(_, Some(more))) => {
            have.extend(more)
        }
        (IssueFilter::Followers(Some(have)), IssueFilter::Followers(Some(more))) => {
            have.extend(more)
        }
        (_, item) => out.push(item),
    }
}

fn push_and(out: &mut Vec<IssueFilter>, item: IssueFilter) {
    if let IssueFilter::Words(scope, words) = item {
        let existing = out
            .iter_mut()
            .find(|f| matches!(f, IssueFilter::Words(s, _) if *s == scope));
        match existing {
            Some(IssueFilter::Words(_, have)) => {
                have.extend(words);
                *have = reduce_words(std::mem::take(have));
            }
            _ => out.push(IssueFilter::Words(scope, reduce_words(words))),
        }
    } else {
        out.push(item);
    }
}

/// The words a full-text match needs, without those another word implies:
/// each word matches the beginning of a word of the text, so a repeated
/// word, or a word that begins another one (`print` beside `printer`), adds
/// nothing.
pub fn reduce_words(mut words: Vec<String>) -> Vec<String> {
    // Longest first: a word is dropped when a kept one begins with it.
    words.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    let mut kept: Vec<String> = Vec::with_capacity(words.len());
    for w in words {
        if !kept.iter().any(|k| k.starts_with(w.as_str())) {
            kept.push(w);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternatives_of_one_list_become_one_list() {
        let tags: Vec<IssueFilter> = (0..100_000)
            .map(|n| IssueFilter::Tags(Some(vec![format!("t{n}")])))
            .collect();
        match IssueFilter::or(tags) {
            IssueFilter::Tags(Some(all)) => assert_eq!(all.len(), 100_000),
            other => panic!("{other:?}"),
        }
        // Tests of other lists and of other kinds stay apart.
        let mixed = IssueFilter::or(vec![
            IssueFilter::Keys(vec!["A-1".into()]),
            IssueFilter::IsNull(Col::Assignee),
            IssueFilter::Keys(vec!["A-2".into()]),
            IssueFilter::Tags(None),
        ]);
        assert_eq!(
            mixed,
            IssueFilter::Or(vec![
                IssueFilter::Keys(vec!["A-1".into(), "A-2".into()]),
                IssueFilter::IsNull(Col::Assignee),
                IssueFilter::Tags(None),
            ])
        );
    }

    #[test]
    fn words_anded_together_become_one_full_text_match() {
        let f = IssueFilter::and(
            ["a", "a", "printer", "print", "b"]
                .iter()
                .map(|w| IssueFilter::Words(TextScope::All, vec![w.to_string()]))
                .collect(),
        );
        match f {
            IssueFilter::Words(TextScope::All, words) => {
                assert_eq!(words, vec!["printer".to_string(), "a".into(), "b".into()])
            }
            other => panic!("{other:?}"),
        }
    }
}
