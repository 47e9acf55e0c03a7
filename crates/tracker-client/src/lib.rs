//! An async client for the Yandex Tracker API — `api.tracker.yandex.net` or a
//! self-hosted trackerd.
//!
//! * **Auth**: an OAuth token, a static IAM token, or IAM tokens obtained and
//!   refreshed automatically from an OAuth token or a service-account key
//!   ([`Auth`]). Concurrent calls share one refresh.
//! * **Organization**: `X-Org-ID` or `X-Cloud-Org-ID`, never both ([`Org`]).
//! * **Typed calls** for users, queues and issues ([`Client::myself`],
//!   [`Client::users`], [`Client::queues`], [`Client::issues`]) and a raw
//!   escape hatch for everything else ([`Client::request`]).
//! * **Paging** as [`futures_util::Stream`]s that follow `Link: rel="next"`,
//!   one page in memory at a time ([`ItemStream`]).
//! * **Retries** of idempotent calls on `429`/`5xx` with exponential backoff
//!   and jitter, honouring `Retry-After` ([`RetryPolicy`]). A `POST` that
//!   creates something is never retried blindly.
//! * **Errors** in one enum carrying the status, `errorMessages` and field
//!   `errors` of Tracker's envelope ([`Error`]).
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//! use tracker_client::{Auth, Client, ListOptions};
//!
//! # async fn run() -> tracker_client::Result<()> {
//! let client = Client::builder()
//!     .base_url("http://127.0.0.1:8080") // default: https://api.tracker.yandex.net
//!     .org_id("7000001")
//!     .auth(Auth::OAuth("y0_…".into()))
//!     .build()?;
//!
//! println!("I am {}", client.myself().await?.login);
//! let mut users = client.users().list(&ListOptions { per_page: Some(100) });
//! while let Some(user) = users.try_next().await? {
//!     println!("{} {}", user.uid, user.login);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Wire types (users, queues, the error envelope) come from [`tracker_api`],
//! shared with the trackerd server, so both sides agree on every field.

mod api;
mod client;
mod error;
pub mod iam;
pub mod oauth;
mod paging;
mod retry;

pub use api::{
    ChangelogEntry, Comment, Issue, IssueSearch, Issues, Link, ListOptions, NewComment, NewIssue,
    Queues, Ref, Transition, Users,
};
pub use client::{
    Auth, Client, ClientBuilder, Org, RequestBuilder, DEFAULT_BASE_URL, DEFAULT_IAM_URL,
};
pub use error::{Error, Result};
pub use iam::{IamToken, ServiceAccountKey};
pub use paging::ItemStream;
pub use retry::RetryPolicy;

pub use reqwest::Method;
pub use tracker_api;

/// The time IAM token expiry is judged by. The system clock unless a test
/// supplies its own.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
}

/// [`chrono::Utc::now`].
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}
