/// The kinds of [`tracker_store::TemplateRecord`] one module's handlers
/// serve, chosen by the handlers' const parameter (`_` for the last): each
/// kind's record `key`, its path segment and its name in messages.
macro_rules! template_kinds {
    ($($param:pat => $kind:ident { key: $key:expr, path: $path:literal, what: $what:literal }),+ $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Kind {
            $($kind),+
        }

        impl Kind {
            fn of(k: u8) -> Kind {
                match k {
                    $($param => Kind::$kind),+
                }
            }

            fn key(self) -> &'static str {
                match self {
                    $(Kind::$kind => $key),+
                }
            }

            fn path(self) -> &'static str {
                match self {
                    $(Kind::$kind => $path),+
                }
            }

            fn what(self) -> &'static str {
                match self {
                    $(Kind::$kind => $what),+
                }
            }
        }
    };
}

/// A template record's JSON body; an unreadable one reads as empty.
fn template_content(
    t: &tracker_store::TemplateRecord,
) -> serde_json::Map<String, serde_json::Value> {
    serde_json::from_str(&t.body).unwrap_or_default()
}

pub mod agile;
pub mod attachments;
pub mod automation;
pub mod bulkchange;
pub mod catalog;
pub mod changelog;
pub mod checklists;
pub mod comments;
pub mod dictionaries;
pub mod entities;
pub mod entity_attachments;
pub mod entity_checklists;
pub mod entity_comments;
pub mod entity_links;
pub mod fields;
pub mod import;
pub mod issues;
pub mod links;
pub mod permissions;
pub mod projects;
pub mod queues;
pub mod remote_links;
pub mod search;
pub mod templates;
pub mod users;
pub mod worklog;
