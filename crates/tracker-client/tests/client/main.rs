//! tracker-client against an in-process trackerd (SQLite, `trackerd_testkit`): OAuth, IAM from
//! OAuth tokens and service-account keys, search with pages and scrolls;
//! and small mock servers for what trackerd cannot be made to do (rate
//! limiting, exact answer sequences).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tracker_client::{Auth, Client, ClientBuilder};

/// A client builder for mock server `base`, in Acme, with a token the mocks
/// take as it comes.
fn mock_client(base: &str) -> ClientBuilder {
    Client::builder()
        .base_url(base)
        .org_id(trackerd_testkit::ACME)
        .auth(Auth::OAuth("y0_test".into()))
}

/// A fresh trackerd (SQLite) and a client of it with OAuth token `token`:
/// keep the app for as long as the client is used.
async fn app_as(token: &str) -> (trackerd_testkit::TestApp, Client) {
    let app = trackerd_testkit::spawn_sqlite_app().await;
    let client = app.client(Auth::OAuth(token.into()));
    (app, client)
}

/// A queue to create, without a description.
fn new_queue(key: &str, name: &str, lead: &str) -> tracker_client::tracker_api::CreateQueueRequest {
    tracker_client::tracker_api::CreateQueueRequest {
        key: key.into(),
        name: name.into(),
        lead: lead.into(),
        description: None,
    }
}

mod access;
mod device;
mod iam;
mod issues;
mod paging;
mod retry;
mod search;
