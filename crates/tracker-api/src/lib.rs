//! Wire types of the Yandex Tracker API.
//!
//! Everything here is what travels over HTTP: the server renders these types and
//! the client parses them, so both sides agree on field names by construction.

pub mod error;
pub mod iam;
pub mod queue;
pub mod time;
pub mod user;

pub use error::ErrorEnvelope;
pub use iam::{CreateIamTokenRequest, CreateIamTokenResponse};
pub use queue::{CreateQueueRequest, Queue, Reference};
pub use user::User;
