//! trackerd: the Yandex Tracker API, self-hosted.
//!
//! Layout: [`router`] holds the endpoint table (and is the only module that
//! names handlers), [`state`] what requests share, [`extract`] the shared
//! extractors, [`auth`] turns headers into a [`auth::Principal`],
//! [`access`] decides what the caller may touch and holds the issue and
//! queue services handlers reach objects through, [`routes`] and [`oauth`]
//! hold the handlers, [`render`] the views. [`admin`] and [`seed`] are the
//! offline ways in (admin commands, seed files, first start), [`db`] picks
//! the storage backend from the DSN.

pub mod access;
pub mod admin;
pub mod answers;
pub mod auth;
pub mod automation;
pub mod blobs;
pub mod config;
pub mod control;
pub mod custom_fields;
pub mod db;
pub mod error;
pub mod extract;
pub mod fields;
mod head_deadline;
pub mod ids;
pub mod jobs;
pub mod kept_counts;
pub mod oauth;
pub mod observe;
pub mod openapi;
pub mod paging;
pub mod passwords;
pub mod render;
pub mod router;
pub mod routes;
pub mod seed;
pub mod state;
pub mod sweep;
pub mod testing;

/// The operations admin commands, seeds and tests share, at their old path.
pub use admin::ops;
pub use config::Config;
pub use router::{router, serve};
pub use state::AppState;
