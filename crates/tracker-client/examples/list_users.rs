//! Every user of the organization, streamed page by page.
//!
//! ```sh
//! TRACKER_BASE_URL=http://127.0.0.1:8080 TRACKER_ORG_ID=7000001 TRACKER_TOKEN=y0_… \
//!     cargo run -p tracker-client --example list_users
//! ```

use futures_util::TryStreamExt;
use tracker_client::ListOptions;

mod common;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = common::client_from_env()?;

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
