//! The row types the store's queries read where a record is not stored
//! field by field (sqlx's `FromRow` is generic over the database), and their
//! conversions into the store's records. Records that are stored field by
//! field derive `FromRow` themselves (tracker-store's `sqlx` feature).

use std::str::FromStr;

use sqlx::FromRow;
use tracker_store::*;

use crate::split;

/// An issue with its lists as the `string_agg`s of their tables read them.
#[derive(FromRow)]
pub struct IssueRow {
    #[sqlx(flatten)]
    issue: IssueRecord,
    #[sqlx(try_from = "Option<String>")]
    followers: Sorted<i64>,
    #[sqlx(try_from = "Option<String>")]
    tags: Sorted<String>,
    #[sqlx(try_from = "Option<String>")]
    aliases: Sorted<String>,
    #[sqlx(try_from = "Option<String>")]
    components: Sorted<i64>,
    #[sqlx(try_from = "Option<String>")]
    fix_versions: Sorted<i64>,
    #[sqlx(try_from = "Option<String>")]
    affected_versions: Sorted<i64>,
}

/// One of an issue's lists, read from its `string_agg` (items that do not
/// parse are dropped) and sorted: the aggregate's order is the database's.
struct Sorted<T>(Vec<T>);

impl<T: FromStr + Ord> From<Option<String>> for Sorted<T> {
    fn from(list: Option<String>) -> Self {
        let mut items: Vec<T> = split(list).iter().filter_map(|s| s.parse().ok()).collect();
        items.sort_unstable();
        Sorted(items)
    }
}

/// A comment with its summonees as the one string they are stored as.
#[derive(FromRow)]
pub struct CommentRow {
    #[sqlx(flatten)]
    pub comment: CommentRecord,
    pub summonees: String,
}

impl From<IssueRow> for IssueRecord {
    fn from(r: IssueRow) -> Self {
        IssueRecord {
            followers: r.followers.0,
            tags: r.tags.0,
            aliases: r.aliases.0,
            components: r.components.0,
            fix_versions: r.fix_versions.0,
            affected_versions: r.affected_versions.0,
            ..r.issue
        }
    }
}

impl From<CommentRow> for CommentRecord {
    fn from(r: CommentRow) -> Self {
        CommentRecord {
            summonees: crate::split_ids(&r.summonees),
            ..r.comment
        }
    }
}
