//! tracker-client against an in-process trackerd (SQLite, `trackerd_testkit`): OAuth, IAM from
//! OAuth tokens and service-account keys, search with pages and scrolls;
//! and small mock servers for what trackerd cannot be made to do (rate
//! limiting, exact answer sequences).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod device;
mod iam;
mod issues;
mod paging;
mod retry;
mod search;
