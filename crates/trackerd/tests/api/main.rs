#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! API tests through real HTTP on a random port, a fresh database per test,
//! each one run on SQLite and on PostgreSQL.

mod harness;

mod access;
mod cli;
mod comments;
mod dictionaries;
mod iam;
mod issues;
mod links;
mod matrix;
mod permissions;
mod queues;
mod search;
mod storage;
mod users;
