//! The rules of trackerd's access layer, free of I/O so they can be tested alone.

pub mod clock;
pub mod dictionaries;
pub mod duration;
pub mod headers;
pub mod permissions;
pub mod scope;
pub mod token;
pub mod workflow;

pub use clock::{Clock, ManualClock, SystemClock, TestClock};
pub use headers::{parse_authorization, parse_org_headers, Credential, OrgSelector};
pub use scope::{Scope, Scopes};
pub use token::{TokenHash, TokenKind, Unreadable};
