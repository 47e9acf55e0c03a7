//! Yandex Tracker's query language (`"query"` of `POST /v2/issues/_search` and `_count`), as a
//! pure parser and in-memory evaluator. No I/O: the server resolves local/custom fields, saved
//! filters and groups, and translates the tree to SQL (the shape is documented on [`Expr`],
//! [`Condition`] and [`Predicate`]).
//!
//! ```
//! use tracker_query::{parse, Context, Document, Field, Value};
//!
//! struct Issue;
//! impl Document for Issue {
//!     fn values(&self, field: &Field) -> Vec<Value> {
//!         match field {
//!             Field::Known("queue") => vec![Value::name("TEST")],
//!             Field::Known("assignee") => vec![Value::user("alice", "Alice Smith")],
//!             _ => vec![],
//!         }
//!     }
//! }
//!
//! let q = parse("Queue: TEST Assignee: me() Status: !Closed").unwrap();
//! let ctx = Context::new("alice", chrono::Utc::now());
//! assert!(q.matches(&Issue, &ctx));
//! ```
//!
//! Choices where the reference is silent (also the in-memory semantics SQL must reproduce):
//! * Positions in errors are 0-based byte offsets into the query.
//! * `AND`/`OR`/`ASC`/`DESC` and function names are case-insensitive; field names are matched
//!   case-insensitively against display names and keys ([`fields::FIELDS`]).
//! * Within one condition's list, positive values are ORed and negated ones (`!x`, `~"x"`) ANDed.
//! * A bare multi-word field name (`Affected Version: x`, `DEVS.Test engineer: x`) is taken as a
//!   field only if it is a known name or a `QUEUE.name` local field; otherwise the leading words
//!   are full-text words.
//! * Calendar functions work on UTC days, weeks start on Monday, `1w` is 7 days and `1d` 24 hours.
//! * `unresolved()` is `empty()`; `!empty()` is `notEmpty()`.

mod ast;
mod error;
mod eval;
pub mod fields;
mod lexer;
mod parser;
mod temporal;

pub use ast::quote;
pub use ast::{
    Changed, CompareOp, Condition, Duration, Expr, Field, FieldRef, Function, FunctionCall,
    Literal, LiteralKind, Operand, Predicate, Query, Shift, SortKey, Span,
};
pub use error::ParseError;
pub use eval::{text_words, Change, Context, Document, Value};
pub use fields::{FieldDef, FieldKind};
pub use parser::{parse, MAX_DEPTH, MAX_FIELD_WORDS};
pub use temporal::Interval;
