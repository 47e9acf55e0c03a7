use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tracker_domain::{Clock, SystemClock};
use tracker_store::Store;
use trackerd::config::{Config, LogFormat, Overrides};
use trackerd::ops;
use trackerd::seed::SeedFile;

/// glibc's allocator keeps the large buffers heavy requests free (its mmap
/// threshold rises with them), so a server's memory grew with every round of
/// 2 MB searches; mimalloc returns them (see the hostile suite's memory test).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A self-hosted server that speaks the Yandex Tracker API.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// A TOML configuration file.
    #[arg(long, global = true, env = "TRACKERD_CONFIG")]
    config: Option<PathBuf>,
    /// Database DSN: sqlite://PATH or postgres://…
    #[arg(long, global = true)]
    database: Option<String>,
    /// Log format.
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Apply a seed file (idempotent).
    Seed { file: PathBuf },
    /// Bring the database schema up to date.
    Migrate,
    #[command(flatten)]
    Admin(trackerd::admin::Command),
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Base URL for absolute links, e.g. https://tracker.example.com
    #[arg(long)]
    public_url: Option<String>,
    /// A seed file applied before serving.
    #[arg(long)]
    seed: Option<PathBuf>,
}

fn init_logging(format: LogFormat, filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut overrides = Overrides {
        database: cli.database.clone(),
        log_format: cli.log_format,
        ..Overrides::default()
    };
    if let Command::Serve(args) = &cli.command {
        overrides.listen = args.listen;
        overrides.public_url = args.public_url.clone();
        overrides.seed = args.seed.clone();
    }
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    init_logging(config.log_format, &config.log);
    let unknown = Config::unknown_environment();
    if !unknown.is_empty() {
        tracing::warn!(
            variables = %unknown.join(", "),
            "ignoring TRACKERD_ environment variables that name no setting (see docs/configuration.md)"
        );
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = trackerd::db::open(&config.database).await?;

    match cli.command {
        Command::Serve(_) => serve(config, store, clock).await,
        Command::Migrate => {
            println!("{} database is up to date", store.backend());
            Ok(())
        }
        Command::Seed { file } => {
            let report = SeedFile::load(&file)?
                .apply(store.as_ref(), clock.as_ref())
                .await?;
            println!(
                "seeded {} organizations, {} users, {} tokens, {} queues, {} applications",
                report.organizations,
                report.users,
                report.tokens,
                report.queues,
                report.applications
            );
            Ok(())
        }
        Command::Admin(cmd) => trackerd::admin::run(cmd, store.as_ref(), clock.as_ref()).await,
    }
}

async fn serve(config: Config, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    if let Some(seed) = &config.seed {
        let report = SeedFile::load(seed)?
            .apply(store.as_ref(), clock.as_ref())
            .await?;
        tracing::info!(?report, "applied the seed file");
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let base = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    if let Some(b) = ops::bootstrap_if_empty(store.as_ref(), clock.as_ref()).await? {
        // Printed, never logged: the token is shown exactly once.
        println!(
            "trackerd: first start, created organization {} and its administrator {:?}",
            b.org.org_id, b.user.login
        );
        println!("  organization id (X-Org-ID):         {}", b.org.org_id);
        if let Some(cloud) = &b.org.cloud_id {
            println!("  cloud organization (X-Cloud-Org-ID): {cloud}");
        }
        println!("  login:                              {}", b.user.login);
        println!("  password (shown once):              {}", b.password);
        println!("  OAuth token (shown once, keep it):  {}", b.token);
        println!("  try it:");
        println!(
            "    curl -H 'Authorization: OAuth {}' -H 'X-Org-ID: {}' {}/v2/myself",
            b.token, b.org.org_id, base
        );
        println!(
            "  or sign in from the tracker CLI (client id {}):",
            trackerd::ops::TRACKER_CLI_CLIENT_ID
        );
        println!(
            "    cargo run -p tracker-cli -- login --base-url {} --org-id {}",
            base, b.org.org_id
        );
    }
    let blob_store = config.attachments.store;
    let state = trackerd::AppState::new(store.clone(), clock, config.clone())?;
    if config.seed.is_some() {
        // The seed file may have changed since the seed snapshot was taken:
        // `POST /_trackerd/reset` must bring back this start's state.
        trackerd::control::state::snapshot_at_start(&state, true).await?;
    }
    tracing::info!(%addr, database = %config.database, backend = store.backend(), ?blob_store, "trackerd listening");
    println!("trackerd listening on http://{addr}");
    trackerd::serve(state, listener, shutdown_signal()).await?;
    tracing::info!("trackerd stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}
