//! Who am I? `GET /v2/myself` with an OAuth token, or with IAM tokens
//! exchanged from it when `TRACKER_USE_IAM=1`.
//!
//! ```sh
//! TRACKER_BASE_URL=http://127.0.0.1:8080 TRACKER_ORG_ID=7000001 TRACKER_TOKEN=y0_… \
//!     cargo run -p tracker-client --example myself
//! ```

use tracker_client::{Auth, Client};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let token = std::env::var("TRACKER_TOKEN").map_err(|_| "set TRACKER_TOKEN")?;
    let auth = if std::env::var("TRACKER_USE_IAM").is_ok_and(|v| v == "1") {
        Auth::IamFromOAuth(token)
    } else {
        Auth::OAuth(token)
    };
    let mut builder = Client::builder().auth(auth);
    if let Ok(url) = std::env::var("TRACKER_BASE_URL") {
        builder = builder.base_url(url);
    }
    if let Ok(org) = std::env::var("TRACKER_ORG_ID") {
        builder = builder.org_id(org);
    }
    if let Ok(org) = std::env::var("TRACKER_CLOUD_ORG_ID") {
        builder = builder.cloud_org_id(org);
    }
    let client = builder.build()?;
    let me = client.myself().await?;
    println!("{} ({}) <{}>", me.display, me.login, me.email);
    Ok(())
}
