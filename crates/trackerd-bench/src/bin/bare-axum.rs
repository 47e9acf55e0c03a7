//! The baseline for `scripts/bench-myself`: a bare axum server answering
//! `GET /v2/myself` with a fixed JSON body of about the size of trackerd's
//! user JSON. Same axum version and runtime flavour as trackerd, no layers,
//! no auth, no serialization: the ceiling trackerd is compared against.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use clap::Parser;

/// A user as trackerd renders it for `GET /v2/myself` once the user has
/// signed in (same fields, same 505 bytes as trackerd's steady state, which
/// `scripts/bench-myself` brings trackerd to before measuring).
const BODY: &str = concat!(
    r#"{"self":"http://127.0.0.1:40000/v2/users/1130000000000001","uid":1130000000000001,"#,
    r#""login":"alice","trackerUid":1130000000000001,"passportUid":1130000000000001,"#,
    r#""cloudUid":"aje8h17ln7frhsunhq8i","firstName":"Alice","lastName":"Archer","#,
    r#""display":"Alice Archer","email":"alice@acme.test","external":false,"hasLicense":true,"#,
    r#""dismissed":false,"useNewFilters":true,"disableNotifications":false,"#,
    r#""firstLoginDate":"2026-01-01T00:00:00.000+0000","#,
    r#""lastLoginDate":"2026-01-01T00:00:00.000+0000","welcomeMailSent":true}"#
);

/// Serves a fixed `GET /v2/myself` answer.
#[derive(Parser)]
#[command(about)]
struct Cli {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
}

async fn myself() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], BODY)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let app = Router::new().route("/v2/myself", get(myself));
    let listener = tokio::net::TcpListener::bind(cli.listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
