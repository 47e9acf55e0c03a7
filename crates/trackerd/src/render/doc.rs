//! An issue answer as a list of fields that serializes itself, so a page of
//! issues is written straight into the response's bytes. Building a
//! `serde_json::Value` tree first cost more than reading the issues: at
//! 1 000 issues a scroll page, building, serializing and dropping the trees
//! took 57 % of the server's CPU (`perf`, PostgreSQL, 1 000 000 issues).
//! One builder serves both sinks: [`serde_json::to_value`] of a document is
//! the `Value` the single-issue answers use, with the same keys in the same
//! (sorted) order as the map they were built in before.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// A reference object (`{"display","id","key","self","type"}`), each field
/// present when the referenced kind has it. Fields are declared in sorted
/// order: answers list keys sorted, as `serde_json`'s map does.
#[derive(Debug, Serialize)]
pub struct Ref {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(rename = "self", skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
}

/// One field's value, borrowed from the record where it can be.
pub enum Piece<'i> {
    Str(&'i str),
    Owned(String),
    Int(i64),
    Bool(bool),
    Time(&'i DateTime<Utc>),
    Strs(&'i [String]),
    Ref(Arc<Ref>),
    Refs(Vec<Arc<Ref>>),
    Value(Value),
}

impl Serialize for Piece<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Piece::Str(v) => s.serialize_str(v),
            Piece::Owned(v) => s.serialize_str(v),
            Piece::Int(v) => s.serialize_i64(*v),
            Piece::Bool(v) => s.serialize_bool(*v),
            Piece::Time(t) => s.serialize_str(&tracker_api::time::format(t)),
            Piece::Strs(v) => v.serialize(s),
            Piece::Ref(r) => r.serialize(s),
            Piece::Refs(refs) => {
                let mut seq = s.serialize_seq(Some(refs.len()))?;
                for r in refs {
                    seq.serialize_element(&**r)?;
                }
                seq.end()
            }
            Piece::Value(v) => v.serialize(s),
        }
    }
}

/// An object's fields, kept sorted by key; a key put twice keeps its last
/// value, as a map's insert does.
#[derive(Default)]
pub struct IssueDoc<'i> {
    fields: Vec<(Cow<'static, str>, Piece<'i>)>,
}

impl<'i> IssueDoc<'i> {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            fields: Vec::with_capacity(n),
        }
    }

    pub fn put(&mut self, key: impl Into<Cow<'static, str>>, value: Piece<'i>) {
        let key = key.into();
        match self
            .fields
            .binary_search_by(|(k, _)| k.as_ref().cmp(key.as_ref()))
        {
            Ok(at) => self.fields[at].1 = value,
            Err(at) => self.fields.insert(at, (key, value)),
        }
    }

    /// Keeps the fields `keep` accepts (`fields=` of a request).
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.fields.retain(|(k, _)| keep(k));
    }

    /// The document as a JSON value, for answers built on one.
    pub fn to_value(&self) -> Value {
        value_of(self)
    }
}

impl Serialize for IssueDoc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.fields.len()))?;
        for (k, v) in &self.fields {
            map.serialize_entry(k.as_ref(), v)?;
        }
        map.end()
    }
}

/// A value of types that always serialize (no map with non-string keys, no
/// failing `Serialize`): the `Null` fallback is never taken.
pub fn value_of(v: &impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_document_lists_its_keys_sorted_and_a_key_put_twice_keeps_its_last_value() {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        let tags = vec!["a\"b".to_owned()];
        let mut doc = IssueDoc::default();
        doc.put("summary", Piece::Str("first"));
        doc.put("id", Piece::Owned("42".into()));
        doc.put("createdAt", Piece::Time(&t));
        doc.put(String::from("tags"), Piece::Strs(&tags));
        doc.put(
            "queue",
            Piece::Ref(Arc::new(Ref {
                display: Some("Test".into()),
                id: "1".into(),
                key: Some("TEST".into()),
                link: Some("http://x/v2/queues/TEST".into()),
                kind: None,
            })),
        );
        doc.put("summary", Piece::Str("second"));
        doc.put("votes", Piece::Int(3));
        doc.put("favorite", Piece::Bool(false));
        doc.put("extra", Piece::Value(json!({"b": 1, "a": [null]})));
        let built = json!({
            "summary": "second",
            "id": "42",
            "createdAt": tracker_api::time::format(&t),
            "tags": ["a\"b"],
            "queue": {"display": "Test", "id": "1", "key": "TEST", "self": "http://x/v2/queues/TEST"},
            "votes": 3,
            "favorite": false,
            "extra": {"a": [null], "b": 1},
        });
        assert_eq!(doc.to_value(), built);
        // The bytes are those of the map the answer was built in before.
        assert_eq!(
            serde_json::to_string(&doc).ok(),
            serde_json::to_string(&built).ok()
        );
        doc.retain(|k| k != "tags");
        assert!(doc.to_value().get("tags").is_none());
    }
}
