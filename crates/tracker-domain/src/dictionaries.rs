//! Tracker's standard dictionaries: statuses, priorities, issue types,
//! resolutions and link types, with the ids and keys clients see.

/// One dictionary entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub key: &'static str,
    pub display: &'static str,
}

impl Entry {
    const fn new(id: i64, key: &'static str, display: &'static str) -> Self {
        Self { id, key, display }
    }
}

pub const STATUSES: &[Entry] = &[
    Entry::new(1, "open", "Open"),
    Entry::new(2, "needInfo", "Need info"),
    Entry::new(3, "inProgress", "In progress"),
    Entry::new(4, "inReview", "In review"),
    Entry::new(5, "resolved", "Resolved"),
    Entry::new(6, "closed", "Closed"),
];

pub const PRIORITIES: &[Entry] = &[
    Entry::new(1, "trivial", "Trivial"),
    Entry::new(2, "minor", "Minor"),
    Entry::new(3, "normal", "Normal"),
    Entry::new(4, "critical", "Critical"),
    Entry::new(5, "blocker", "Blocker"),
];

pub const ISSUE_TYPES: &[Entry] = &[
    Entry::new(1, "bug", "Bug"),
    Entry::new(2, "task", "Task"),
    Entry::new(3, "newFeature", "New Feature"),
    Entry::new(4, "epic", "Epic"),
    Entry::new(5, "improvement", "Improvement"),
    Entry::new(6, "story", "Story"),
];

pub const RESOLUTIONS: &[Entry] = &[
    Entry::new(1, "fixed", "Fixed"),
    Entry::new(2, "wontFix", "Won't fix"),
    Entry::new(3, "duplicate", "Duplicate"),
    Entry::new(4, "invalid", "Invalid"),
    Entry::new(5, "later", "Later"),
    Entry::new(6, "cantReproduce", "Can't reproduce"),
];

/// A status's type, as Tracker groups statuses (`new`, `paused`,
/// `inProgress`, `done`, `cancelled`): clients pick the closing transition
/// by it.
pub fn status_type(key: &str) -> &'static str {
    match key {
        "open" => "new",
        "needInfo" => "paused",
        "inProgress" | "inReview" => "inProgress",
        "resolved" | "closed" => "done",
        _ => "new",
    }
}

/// The status every new issue starts in.
pub const INITIAL_STATUS: &str = "open";
pub const DEFAULT_TYPE: &str = "task";
pub const DEFAULT_PRIORITY: &str = "normal";

/// A link type, seen from its two ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkType {
    pub id: &'static str,
    /// What the link says from the issue it was created on ("depends on").
    pub outward: &'static str,
    /// What it says from the other issue ("is dependent by").
    pub inward: &'static str,
}

pub const LINK_TYPES: &[LinkType] = &[
    LinkType {
        id: "relates",
        outward: "relates",
        inward: "relates",
    },
    LinkType {
        id: "depends",
        outward: "depends on",
        inward: "is dependent by",
    },
    LinkType {
        id: "subtask",
        outward: "is parent task for",
        inward: "is subtask for",
    },
    LinkType {
        id: "duplicates",
        outward: "duplicates",
        inward: "is duplicated by",
    },
    LinkType {
        id: "epic",
        outward: "is epic of",
        inward: "has epic",
    },
    LinkType {
        id: "clone",
        outward: "clone",
        inward: "original",
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Outward,
    Inward,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Outward => "outward",
            Direction::Inward => "inward",
        }
    }

    pub fn reverse(self) -> Self {
        match self {
            Direction::Outward => Direction::Inward,
            Direction::Inward => Direction::Outward,
        }
    }
}

/// Finds the link type and direction a `relationship` names, as the API
/// takes it (`"depends on"`, `"is subtask for"`, …).
pub fn relationship(name: &str) -> Option<(LinkType, Direction)> {
    let name = name.trim();
    LINK_TYPES.iter().find_map(|t| {
        if t.outward.eq_ignore_ascii_case(name) {
            Some((*t, Direction::Outward))
        } else if t.inward.eq_ignore_ascii_case(name) {
            Some((*t, Direction::Inward))
        } else {
            None
        }
    })
}

pub fn link_type(id: &str) -> Option<LinkType> {
    LINK_TYPES.iter().copied().find(|t| t.id == id)
}

/// Looks an entry up by key (any case) or by numeric id.
pub fn find(dict: &'static [Entry], key_or_id: &str) -> Option<Entry> {
    let k = key_or_id.trim();
    if let Ok(id) = k.parse::<i64>() {
        return dict.iter().copied().find(|e| e.id == id);
    }
    dict.iter()
        .copied()
        .find(|e| e.key.eq_ignore_ascii_case(k) || e.display.eq_ignore_ascii_case(k))
}

pub fn by_key(dict: &'static [Entry], key: &str) -> Option<Entry> {
    dict.iter().copied().find(|e| e.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_by_key_id_or_display_name() {
        assert_eq!(find(PRIORITIES, "critical").unwrap().id, 4);
        assert_eq!(find(PRIORITIES, "4").unwrap().key, "critical");
        assert_eq!(find(ISSUE_TYPES, "New Feature").unwrap().key, "newFeature");
        assert!(find(STATUSES, "nope").is_none());
    }

    #[test]
    fn relationships_name_a_type_and_a_direction() {
        assert_eq!(
            relationship("depends on").map(|(t, d)| (t.id, d)),
            Some(("depends", Direction::Outward))
        );
        assert_eq!(
            relationship("is dependent by").map(|(t, d)| (t.id, d)),
            Some(("depends", Direction::Inward))
        );
        assert_eq!(relationship("relates").map(|(t, _)| t.id), Some("relates"));
        assert!(relationship("loves").is_none());
    }
}
