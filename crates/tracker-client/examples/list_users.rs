//! Every user of the organization, streamed page by page.
//!
//! ```sh
//! TRACKER_BASE_URL=http://127.0.0.1:8080 TRACKER_ORG_ID=7000001 TRACKER_TOKEN=y0_… \
//!     cargo run -p tracker-client --example list_users
//! ```

use futures_util::TryStreamExt;
use tracker_client::{Auth, Client, ListOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::builder()
        .base_url(
            std::env::var("TRACKER_BASE_URL")
                .unwrap_or_else(|_| tracker_client::DEFAULT_BASE_URL.into()),
        )
        .org_id(std::env::var("TRACKER_ORG_ID").map_err(|_| "set TRACKER_ORG_ID")?)
        .auth(Auth::OAuth(
            std::env::var("TRACKER_TOKEN").map_err(|_| "set TRACKER_TOKEN")?,
        ))
        .build()?;

    let mut users = client.users().list(&ListOptions {
        per_page: Some(100),
    });
    let mut n = 0;
    while let Some(user) = users.try_next().await? {
        println!("{:>20} {:<20} {}", user.uid, user.login, user.display);
        n += 1;
    }
    eprintln!("{n} users");
    Ok(())
}
