//! The escape hatch: any path, any method, JSON in and out, with the
//! client's credentials, organization and retries.
//!
//! ```sh
//! TRACKER_BASE_URL=http://127.0.0.1:8080 TRACKER_ORG_ID=7000001 TRACKER_TOKEN=y0_… \
//!     cargo run -p tracker-client --example raw_request -- /v3/myself
//! ```

use tracker_client::{Error, Method};

mod common;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/v2/myself".into());
    let client = common::client_from_env()?;
    match client
        .request(Method::GET, &path)
        .send_json::<serde_json::Value>()
        .await
    {
        Ok(body) => println!("{}", serde_json::to_string_pretty(&body)?),
        Err(Error::Api {
            status,
            error_messages,
            ..
        }) => {
            eprintln!("{status}: {}", error_messages.join("; "));
            std::process::exit(1);
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
