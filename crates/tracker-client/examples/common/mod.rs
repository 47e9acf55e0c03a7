//! What the examples share: a client configured from the environment.

use tracker_client::{Auth, Client};

/// A client for `TRACKER_BASE_URL` (default: Yandex Tracker) in organization
/// `TRACKER_ORG_ID`, with OAuth token `TRACKER_TOKEN`.
pub fn client_from_env() -> Result<Client, Box<dyn std::error::Error>> {
    Ok(Client::builder()
        .base_url(
            std::env::var("TRACKER_BASE_URL")
                .unwrap_or_else(|_| tracker_client::DEFAULT_BASE_URL.into()),
        )
        .org_id(std::env::var("TRACKER_ORG_ID").map_err(|_| "set TRACKER_ORG_ID")?)
        .auth(Auth::OAuth(
            std::env::var("TRACKER_TOKEN").map_err(|_| "set TRACKER_TOKEN")?,
        ))
        .build()?)
}
