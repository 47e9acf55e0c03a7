#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report
//! API tests through real HTTP on a random port, a fresh database per test,
//! each one run on SQLite and on PostgreSQL (`trackerd_testkit`).

mod access;
mod agile;
mod answers;
mod attachments;
mod automation;
mod browser;
mod bulkchange;
mod catalog;
mod checklists;
mod cli;
mod comments;
mod connections;
mod crash;
mod dictionaries;
mod emulator;
mod entities;
mod federation;
mod fidelity;
mod fields;
mod hardening;
mod hostile;
mod iam;
mod import;
mod issues;
mod links;
mod matrix;
mod oauth;
mod oauth_cli;
mod oauth_device;
mod observe;
mod permissions;
mod queues;
mod remote_links;
mod search;
mod service_accounts;
mod storage;
mod templates;
mod users;
mod worklog;

/// Gives the account `login` the first name `first` in the store itself, as
/// an admin command would: behind the server's back, with no request.
pub(crate) async fn rename_in_store(app: &trackerd_testkit::TestApp, login: &str, first: &str) {
    let store = app.state.store.as_ref();
    let user = store.user_by_login(login).await.unwrap().unwrap();
    store
        .upsert_user(&tracker_store::NewUser {
            login: user.login.clone(),
            cloud_uid: user.cloud_uid.clone(),
            first_name: first.into(),
            last_name: user.last_name.clone(),
            email: user.email.clone(),
            password_hash: None,
            created_at: user.created_at,
        })
        .await
        .unwrap();
}
