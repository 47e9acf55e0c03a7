//! trackerd: the Yandex Tracker API, self-hosted.
//!
//! Layout: [`app`] builds the router and shared extractors, [`auth`] turns
//! headers into a [`auth::Principal`], [`routes`] holds the handlers, [`ops`]
//! and [`seed`] are the offline ways in (admin commands, seed files, first
//! start), [`db`] picks the storage backend from the DSN.

pub mod access;
pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod fields;
pub mod oauth;
pub mod ops;
pub mod paging;
pub mod render;
pub mod routes;
pub mod seed;

pub use app::{router, serve, AppState};
pub use config::Config;
