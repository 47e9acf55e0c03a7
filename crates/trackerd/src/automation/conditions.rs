//! Trigger conditions: read from a trigger's JSON (anything not supported
//! is refused, naming it) and evaluated against the facts of one event,
//! without I/O.

use serde_json::{Map, Value};

use crate::fields::GLOBAL_FIELDS;

/// What happened to the issue in one write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Created,
    Updated,
    Commented,
}

impl EventKind {
    /// The event's name in Tracker's conditions (`Event.update`, …).
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Created => "Event.create",
            EventKind::Updated => "Event.update",
            EventKind::Commented => "Event.comment-create",
        }
    }
}

/// A comment the event added.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommentFact {
    pub text: String,
    /// Its author's login.
    pub author: String,
}

/// The facts of one event conditions are evaluated against. Field values
/// are normalized: a string, an array of strings, or null (users by login,
/// dictionaries by key).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub events: Vec<EventKind>,
    pub before: Map<String, Value>,
    pub after: Map<String, Value>,
    /// The fields the event changed.
    pub changed: Vec<String>,
    pub comment: Option<CommentFact>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Event(EventKind),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    FieldChanged(String),
    FieldEquals(String, Vec<String>),
    FieldBecameEqual(String, Vec<String>),
    FieldIsEmpty(String),
    FieldIsNotEmpty(String),
    FieldBecameEmpty(String),
    FieldBecameNotEmpty(String),
    /// Comment text conditions: the fragments, whether all must be absent
    /// (`none`), whether the whole text must equal the one fragment
    /// (`fully`), and case.
    Comment {
        words: Vec<String>,
        negate: bool,
        fully: bool,
        ignore_case: bool,
    },
    CommentAuthor(String, bool),
    /// Comments made in Tracker (`true`) or by e-mail (`false`); trackerd
    /// has only the former.
    CommentInternal(bool),
}

/// The field id a condition names (by id or by display name, any case).
pub fn field_id(name: &str) -> String {
    GLOBAL_FIELDS
        .iter()
        .find(|(id, display, _)| {
            id.eq_ignore_ascii_case(name) || display.eq_ignore_ascii_case(name)
        })
        .map(|(id, _, _)| (*id).to_owned())
        .unwrap_or_else(|| name.to_owned())
}

/// An action's or a condition's object and its `type`; `what` ("an
/// action") names it in the errors.
pub fn typed<'a>(v: &'a Value, what: &str) -> Result<(&'a Map<String, Value>, &'a str), String> {
    let o = v
        .as_object()
        .ok_or_else(|| format!("{what} must be an object with a type"))?;
    let ty = o
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what} must have a type"))?;
    Ok((o, ty))
}

/// A condition value as strings: a string, number, or object naming a
/// key, id or login; an array names any of several.
pub fn value_strings(v: &Value) -> Vec<String> {
    match v {
        Value::Null => Vec::new(),
        Value::String(s) => vec![s.clone()],
        Value::Number(n) => vec![n.to_string()],
        Value::Bool(b) => vec![b.to_string()],
        Value::Array(a) => a.iter().flat_map(value_strings).collect(),
        Value::Object(o) => ["key", "login", "id", "name"]
            .iter()
            .find_map(|k| o.get(*k))
            .map(value_strings)
            .unwrap_or_default(),
    }
}

/// Reads a trigger's `conditions`: an array (all must hold) of condition
/// objects, `And`/`Or` groups among them.
pub fn parse_list(v: &Value) -> Result<Vec<Condition>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.iter().map(parse).collect(),
        Value::Object(_) => Ok(vec![parse(v)?]),
        _ => Err("conditions must be an array of condition objects".into()),
    }
}

fn parse(v: &Value) -> Result<Condition, String> {
    let (o, ty) = typed(v, "a condition")?;
    let field = || -> Result<String, String> {
        o.get("field")
            .and_then(|f| value_strings(f).into_iter().next())
            .map(|f| field_id(&f))
            .ok_or_else(|| format!("condition {ty} needs a field"))
    };
    let value = || -> Result<Vec<String>, String> {
        match o.get("value") {
            None => Err(format!("condition {ty} needs a value")),
            Some(v) => Ok(value_strings(v)),
        }
    };
    let words = || -> Result<Vec<String>, String> {
        let w = value_strings(o.get("word").or(o.get("words")).unwrap_or(&Value::Null));
        if w.is_empty() {
            Err(format!("condition {ty} needs a word"))
        } else {
            Ok(w)
        }
    };
    let ignore_case = o
        .get("ignoreCase")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let comment = |negate: bool, fully: bool| -> Result<Condition, String> {
        Ok(Condition::Comment {
            words: words()?,
            negate,
            fully,
            ignore_case,
        })
    };
    let user = || -> Result<String, String> {
        o.get("user")
            .and_then(|u| value_strings(u).into_iter().next())
            .ok_or_else(|| format!("condition {ty} needs a user"))
    };
    Ok(match ty {
        "Event.create" => Condition::Event(EventKind::Created),
        "Event.update" => Condition::Event(EventKind::Updated),
        "Event.comment-create" => Condition::Event(EventKind::Commented),
        "And" | "and" | "Or" | "or" => {
            let inner = parse_list(o.get("conditions").unwrap_or(&Value::Null))?;
            if ty.eq_ignore_ascii_case("and") {
                Condition::And(inner)
            } else {
                Condition::Or(inner)
            }
        }
        "FieldChangedCondition" => Condition::FieldChanged(field()?),
        "FieldEquals" | "FieldEqualsString" => Condition::FieldEquals(field()?, value()?),
        "FieldBecameEqual" => Condition::FieldBecameEqual(field()?, value()?),
        "FieldIsEmpty" => Condition::FieldIsEmpty(field()?),
        "FieldIsNotEmpty" => Condition::FieldIsNotEmpty(field()?),
        "FieldBecameEmpty" => Condition::FieldBecameEmpty(field()?),
        "FieldBecameNotEmpty" => Condition::FieldBecameNotEmpty(field()?),
        "CommentStringMatchCondition" | "CommentAnyMatchCondition" => comment(false, false)?,
        "CommentStringNotMatchCondition" | "CommentNoneMatchCondition" => comment(true, false)?,
        "CommentFullyMatchCondition" => comment(false, true)?,
        "CommentAuthor" => Condition::CommentAuthor(user()?, true),
        "CommentAuthorNot" => Condition::CommentAuthor(user()?, false),
        "CommentMessageInternal" => Condition::CommentInternal(true),
        "CommentMessageExternal" => Condition::CommentInternal(false),
        other => {
            return Err(format!(
                "condition type {other} is not supported by trackerd"
            ))
        }
    })
}

fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    }
}

fn equals(v: Option<&Value>, wanted: &[String]) -> bool {
    let have = v.map(value_strings).unwrap_or_default();
    !wanted.is_empty() && wanted.iter().all(|w| have.contains(w))
}

/// Whether every condition holds for the event.
pub fn all(conditions: &[Condition], f: &Facts) -> bool {
    conditions.iter().all(|c| holds(c, f))
}

pub fn holds(c: &Condition, f: &Facts) -> bool {
    let changed = |field: &str| f.changed.iter().any(|c| c == field);
    match c {
        Condition::Event(k) => f.events.contains(k),
        Condition::And(cs) => cs.iter().all(|c| holds(c, f)),
        Condition::Or(cs) => cs.iter().any(|c| holds(c, f)),
        Condition::FieldChanged(field) => changed(field),
        Condition::FieldEquals(field, v) => equals(f.after.get(field), v),
        Condition::FieldBecameEqual(field, v) => {
            changed(field) && equals(f.after.get(field), v) && !equals(f.before.get(field), v)
        }
        Condition::FieldIsEmpty(field) => is_empty(f.after.get(field)),
        Condition::FieldIsNotEmpty(field) => !is_empty(f.after.get(field)),
        Condition::FieldBecameEmpty(field) => {
            is_empty(f.after.get(field)) && !is_empty(f.before.get(field))
        }
        Condition::FieldBecameNotEmpty(field) => {
            !is_empty(f.after.get(field)) && is_empty(f.before.get(field))
        }
        Condition::Comment {
            words,
            negate,
            fully,
            ignore_case,
        } => {
            let Some(comment) = &f.comment else {
                return false;
            };
            let fold = |s: &str| {
                if *ignore_case {
                    s.to_lowercase()
                } else {
                    s.to_owned()
                }
            };
            let text = fold(comment.text.trim());
            let found = words.iter().any(|w| {
                let w = fold(w);
                if *fully {
                    text == w.trim()
                } else {
                    text.contains(&w)
                }
            });
            found != *negate
        }
        Condition::CommentAuthor(user, is) => f
            .comment
            .as_ref()
            .is_some_and(|c| (c.author == *user) == *is),
        Condition::CommentInternal(internal) => f.comment.is_some() && *internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts(events: &[EventKind], before: Value, after: Value, changed: &[&str]) -> Facts {
        Facts {
            events: events.to_vec(),
            before: before.as_object().cloned().unwrap_or_default(),
            after: after.as_object().cloned().unwrap_or_default(),
            changed: changed.iter().map(|s| (*s).to_owned()).collect(),
            comment: None,
        }
    }

    /// An update that changed only `field`, from `from` to `to`.
    fn one_field_update(field: &str, from: &str, to: &str) -> Facts {
        facts(
            &[EventKind::Updated],
            json!({ field: from }),
            json!({ field: to }),
            &[field],
        )
    }

    fn conds(v: Value) -> Vec<Condition> {
        parse_list(&v).unwrap()
    }

    #[test]
    fn a_status_that_became_closed_matches_became_equal_but_an_issue_already_closed_does_not() {
        let c = conds(
            json!([{"type": "FieldBecameEqual", "field": "Status", "value": {"key": "closed"}}]),
        );
        let closing = one_field_update("status", "open", "closed");
        assert!(all(&c, &closing));
        let edit_of_closed = facts(
            &[EventKind::Updated],
            json!({"status": "closed", "summary": "a"}),
            json!({"status": "closed", "summary": "b"}),
            &["summary"],
        );
        assert!(!all(&c, &edit_of_closed));
        let equals = conds(json!([{"type": "FieldEquals", "field": "status", "value": "closed"}]));
        assert!(all(&equals, &edit_of_closed));
    }

    #[test]
    fn events_select_what_happened_and_groups_combine_conditions() {
        let c = conds(json!([{"type": "Or", "conditions": [
            {"type": "Event.create"}, {"type": "Event.comment-create"}
        ]}]));
        let created = facts(&[EventKind::Created], json!({}), json!({}), &[]);
        let updated = facts(&[EventKind::Updated], json!({}), json!({}), &[]);
        assert!(all(&c, &created));
        assert!(!all(&c, &updated));
        let both = conds(
            json!([{"type": "Event.update"}, {"type": "FieldChangedCondition", "field": "priority"}]),
        );
        assert!(!all(&both, &updated));
        let prio = one_field_update("priority", "normal", "critical");
        assert!(all(&both, &prio));
    }

    #[test]
    fn emptiness_conditions_compare_before_and_after() {
        let f = facts(
            &[EventKind::Updated],
            json!({"assignee": null, "tags": []}),
            json!({"assignee": "bob", "tags": []}),
            &["assignee"],
        );
        assert!(all(
            &conds(json!([{"type": "FieldBecameNotEmpty", "field": "assignee"}])),
            &f
        ));
        assert!(!all(
            &conds(json!([{"type": "FieldBecameEmpty", "field": "assignee"}])),
            &f
        ));
        assert!(all(
            &conds(json!([{"type": "FieldIsEmpty", "field": "tags"}])),
            &f
        ));
        assert!(all(
            &conds(json!([{"type": "FieldIsNotEmpty", "field": "Assignee"}])),
            &f
        ));
    }

    #[test]
    fn comment_conditions_read_the_comment_text_and_author() {
        let mut f = facts(&[EventKind::Commented], json!({}), json!({}), &[]);
        f.comment = Some(CommentFact {
            text: "Please Open it".into(),
            author: "bob".into(),
        });
        assert!(all(
            &conds(
                json!([{"type": "CommentStringMatchCondition", "word": "open", "ignoreCase": true}])
            ),
            &f
        ));
        assert!(!all(
            &conds(json!([{"type": "CommentStringMatchCondition", "word": "open"}])),
            &f
        ));
        assert!(!all(
            &conds(json!([{"type": "CommentFullyMatchCondition", "word": "Open"}])),
            &f
        ));
        assert!(all(
            &conds(json!([{"type": "CommentNoneMatchCondition", "words": ["x", "y"]}])),
            &f
        ));
        assert!(all(
            &conds(json!([{"type": "CommentAuthor", "user": "bob"}])),
            &f
        ));
        assert!(!all(
            &conds(json!([{"type": "CommentAuthorNot", "user": "bob"}])),
            &f
        ));
        f.comment = None;
        assert!(!all(
            &conds(json!([{"type": "CommentAuthorNot", "user": "bob"}])),
            &f
        ));
    }

    #[test]
    fn unsupported_or_malformed_conditions_are_refused_by_name() {
        let e = parse_list(&json!([{"type": "ChecklistDone"}])).unwrap_err();
        assert!(e.contains("ChecklistDone"), "{e}");
        assert!(parse_list(&json!([{"type": "FieldEquals", "field": "status"}])).is_err());
        assert!(parse_list(&json!("x")).is_err());
    }
}
