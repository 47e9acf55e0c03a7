//! Tracker's filter parameters: the names a query may use and the canonical keys they stand for.
//!
//! Names come from the "Filter parameters" table of the query-language reference plus the fields
//! its examples use (`Resolution`, `Type`, `Parent`). Keys are the issue's REST field keys where
//! the issue has such a field (`createdBy`, `createdAt`, …); relation filters that exist only in
//! the query language (`Depends On`, `Block Queue`, …) get a camelCase key of their English name.
//! Lookup ignores case and collapses inner whitespace, and every key is also accepted as a name.

/// What kind of values a field holds; tells a SQL translator which comparison to emit and lets
/// the server reject nonsense such as `Summary: > 5` if it wants to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// People: matched by `login@`, login, full name or a name part, `me()`, `group()`.
    User,
    /// Free text searched by words: summary, description, comments, history.
    Text,
    /// Named things matched whole and case-insensitively by key or display name: status, queue…
    Entity,
    /// Issue keys (`TASK-123`), including relation filters such as `Depends On`.
    IssueKey,
    /// Queues named by key or name, in relation filters such as `Block Queue`.
    QueueRelation,
    /// Dates and date-times: comparisons, ranges, `today()` and friends.
    Date,
    /// Numbers: comparisons and ranges.
    Number,
    /// Time intervals like `"5d 2h 30m"`.
    Duration,
}

/// One row of the table.
#[derive(Debug, PartialEq, Eq)]
pub struct FieldDef {
    /// Canonical key, e.g. `createdBy`.
    pub key: &'static str,
    pub kind: FieldKind,
    /// Display names accepted in queries, English first as the reference spells them.
    pub names: &'static [&'static str],
}

macro_rules! fields {
    ($($key:literal $kind:ident [$($name:literal),*]),* $(,)?) => {
        /// Every field the query language knows by name.
        pub static FIELDS: &[FieldDef] = &[
            $(FieldDef { key: $key, kind: FieldKind::$kind, names: &[$($name),*] }),*
        ];
    };
}

fields! {
    "access" User ["Access"],
    "affectedVersions" Entity ["Affected Version", "Affected Versions"],
    "assignee" User ["Assignee"],
    "createdBy" User ["Author", "Reporter", "Created By"],
    "blockQueue" QueueRelation ["Block Queue"],
    "clone" IssueKey ["Clone"],
    "clonesOfQueue" QueueRelation ["Clones Of Queue"],
    "comment" Text ["Comment", "Comments"],
    "commentAuthor" User ["Comment Author"],
    "componentOwner" User ["Component Owner"],
    "components" Entity ["Components", "Component"],
    "createdAt" Date ["Created"],
    "deadline" Date ["Deadline"],
    "dependOnQueue" QueueRelation ["Depend On Queue"],
    "dependsOn" IssueKey ["Depends On"],
    "description" Text ["Description"],
    "duplicatedInQueue" QueueRelation ["Duplicated In Queue"],
    "duplicates" IssueKey ["Duplicates"],
    "duplicatesInQueue" QueueRelation ["Duplicates In Queue"],
    "end" Date ["End Date"],
    "epic" IssueKey ["Epic"],
    "epicsForQueue" QueueRelation ["Epics For Queue"],
    "favoritedBy" User ["Favorited By"],
    "filter" Entity ["Filter"],
    "fixVersions" Entity ["Fix Version", "Fix Versions"],
    "followers" User ["Followers", "Follower"],
    "hasEpic" IssueKey ["Has Epic"],
    "haveLinksToQueue" QueueRelation ["Have Links To Queue"],
    "history" Text ["History"],
    "inEpicsOfQueue" QueueRelation ["In Epics Of Queue"],
    "isDependentBy" IssueKey ["Is Dependent By"],
    "isDuplicatedBy" IssueKey ["Is Duplicated By"],
    "isEpicOf" IssueKey ["Is Epic Of"],
    "isParentTaskFor" IssueKey ["Is Parent Task For"],
    "isSubtaskFor" IssueKey ["Is Subtask For"],
    "key" IssueKey ["Key", "Issue"],
    "lastCommentUpdatedAt" Date ["Last Comment"],
    "linkedTo" IssueKey ["Linked To"],
    "updatedBy" User ["Modifier", "Updated By"],
    "oldQueue" QueueRelation ["Old Queue"],
    "original" IssueKey ["Original"],
    "originalEstimation" Duration ["Original Estimate", "Original Estimation"],
    "originalsOfQueue" QueueRelation ["Originals Of Queue"],
    "parent" IssueKey ["Parent", "Parent Issue"],
    "parentTasksForQueue" QueueRelation ["Parent Tasks For Queue"],
    "pendingReplyFrom" User ["Pending Reply From"],
    "priority" Entity ["Priority"],
    "project" Entity ["Project"],
    "queue" Entity ["Queue"],
    "queueOwner" User ["Queue Owner"],
    "related" User ["Related"],
    "relatedToQueue" QueueRelation ["Related To Queue"],
    "relates" IssueKey ["Relates"],
    "resolution" Entity ["Resolution"],
    "resolvedAt" Date ["Resolved"],
    "resolvedBy" User ["Resolver", "Resolved By"],
    "sprint" Entity ["Sprint"],
    "sprintInProgressByBoard" Number ["Sprint In Progress By Board"],
    "sprintsByBoard" Number ["Sprints By Board"],
    "start" Date ["Start Date"],
    "status" Entity ["Status"],
    "storyPoints" Number ["Story Points"],
    "subtasksForQueue" QueueRelation ["Subtasks For Queue"],
    "summary" Text ["Summary"],
    "tags" Entity ["Tags", "Tag"],
    "spent" Duration ["Time Spent", "Spent"],
    "type" Entity ["Type"],
    "updatedAt" Date ["Updated"],
    "votedBy" User ["Voted By"],
    "votes" Number ["Votes"],
}

/// Lowercase with runs of whitespace collapsed to one space, for name comparison.
pub(crate) fn normalize_name(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Finds a field by display name or key, ignoring case and extra whitespace.
pub fn lookup(name: &str) -> Option<&'static FieldDef> {
    let wanted = normalize_name(name);
    FIELDS.iter().find(|f| {
        f.key.to_lowercase() == wanted || f.names.iter().any(|n| n.to_lowercase() == wanted)
    })
}

/// Finds a field by its canonical key (exact spelling).
pub fn by_key(key: &str) -> Option<&'static FieldDef> {
    FIELDS.iter().find(|f| f.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_and_keys_resolve_to_the_same_field() {
        assert_eq!(lookup("Author").map(|f| f.key), Some("createdBy"));
        assert_eq!(lookup("createdby").map(|f| f.key), Some("createdBy"));
        assert_eq!(
            lookup("  last   COMMENT ").map(|f| f.key),
            Some("lastCommentUpdatedAt")
        );
        assert_eq!(lookup("no such field"), None);
    }

    #[test]
    fn no_two_fields_share_a_name_or_key() {
        let mut seen = std::collections::HashSet::new();
        for f in FIELDS {
            assert!(seen.insert(f.key.to_lowercase()), "{}", f.key);
            for n in f.names {
                let n = normalize_name(n);
                if n != f.key.to_lowercase() {
                    assert!(seen.insert(n.clone()), "{n}");
                }
            }
        }
    }
}
