//! tracker-client against an in-process trackerd (SQLite) and small mock
//! servers for what trackerd does not serve yet or cannot be made to do
//! (rate limiting, the device flow, service-account JWTs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod device;
mod harness;
mod iam;
mod issues;
mod paging;
mod retry;
