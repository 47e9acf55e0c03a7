//! The default workflow every queue gets: which transitions leave which
//! status, and what they require.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub id: &'static str,
    pub display: &'static str,
    pub to: &'static str,
    /// Whether executing it requires a `resolution`.
    pub needs_resolution: bool,
}

const fn t(
    id: &'static str,
    display: &'static str,
    to: &'static str,
    needs_resolution: bool,
) -> Transition {
    Transition {
        id,
        display,
        to,
        needs_resolution,
    }
}

const START: Transition = t("start_progress", "Start progress", "inProgress", false);
const STOP: Transition = t("stop_progress", "Stop progress", "open", false);
const NEED_INFO: Transition = t("need_info", "Need info", "needInfo", false);
const PROVIDE_INFO: Transition = t("provide_info", "Provide info", "open", false);
const REVIEW: Transition = t("send_to_review", "Send to review", "inReview", false);
const RESOLVE: Transition = t("resolve", "Resolve", "resolved", true);
const CLOSE: Transition = t("close", "Close", "closed", true);
const REOPEN: Transition = t("reopen", "Reopen", "open", false);

pub const WORKFLOW_ID: &str = "default";
pub const WORKFLOW_NAME: &str = "Default workflow";

/// The transitions available from `status`, in the order Tracker lists them.
pub fn transitions_from(status: &str) -> &'static [Transition] {
    match status {
        "open" => &[START, NEED_INFO, RESOLVE, CLOSE],
        "inProgress" => &[STOP, REVIEW, NEED_INFO, RESOLVE, CLOSE],
        "inReview" => &[START, RESOLVE, CLOSE],
        "needInfo" => &[PROVIDE_INFO, RESOLVE, CLOSE],
        "resolved" => &[REOPEN, CLOSE],
        "closed" => &[REOPEN],
        _ => &[],
    }
}

pub fn transition(status: &str, id: &str) -> Option<Transition> {
    transitions_from(status)
        .iter()
        .copied()
        .find(|t| t.id == id)
}

/// Whether any status has a transition with this id (to tell "no such
/// transition" from "not available in this status").
pub fn is_known_transition(id: &str) -> bool {
    [
        "open",
        "inProgress",
        "inReview",
        "needInfo",
        "resolved",
        "closed",
    ]
    .iter()
    .any(|s| transition(s, id).is_some())
}

/// Statuses in which an issue counts as resolved.
pub fn is_resolved_status(status: &str) -> bool {
    matches!(status, "resolved" | "closed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transition_leads_to_a_known_status() {
        for s in crate::dictionaries::STATUSES {
            for t in transitions_from(s.key) {
                assert!(
                    crate::dictionaries::by_key(crate::dictionaries::STATUSES, t.to).is_some(),
                    "{}",
                    t.to
                );
            }
        }
    }

    #[test]
    fn resolving_and_closing_need_a_resolution_and_reopening_does_not() {
        assert!(transition("open", "resolve").unwrap().needs_resolution);
        assert!(transition("inProgress", "close").unwrap().needs_resolution);
        assert!(!transition("closed", "reopen").unwrap().needs_resolution);
        assert!(transition("closed", "resolve").is_none());
        assert!(is_known_transition("resolve"));
        assert!(!is_known_transition("teleport"));
    }
}
