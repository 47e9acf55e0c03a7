use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use tracker_domain::{Clock, Scopes, SystemClock, TokenHash};
use tracker_store::{NewOrganization, Store};
use trackerd::config::{Config, LogFormat, Overrides};
use trackerd::ops::{self, UserSpec};
use trackerd::seed::SeedFile;

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
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Issue, list and revoke OAuth tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// OAuth applications.
    #[command(subcommand)]
    App(trackerd::oauth::cli::AppCommand),
    /// Service accounts and their authorized keys.
    #[command(subcommand)]
    ServiceAccount(trackerd::oauth::cli::ServiceAccountCommand),
    /// Print an organization's audit trail, newest first.
    Audit(trackerd::oauth::cli::AuditArgs),
    /// Set a user's sign-in password, read from standard input.
    Password(trackerd::oauth::cli::PasswordArgs),
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

#[derive(Subcommand)]
enum OrgCommand {
    Create {
        /// The X-Org-ID value.
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// The X-Cloud-Org-ID value.
        #[arg(long)]
        cloud_id: Option<String>,
    },
    List,
}

#[derive(Subcommand)]
enum UserCommand {
    Create {
        /// The organization (its X-Org-ID value).
        #[arg(long)]
        org: String,
        #[arg(long)]
        login: String,
        #[arg(long, default_value = "")]
        first_name: String,
        #[arg(long, default_value = "")]
        last_name: String,
        #[arg(long, default_value = "")]
        email: String,
        #[arg(long)]
        admin: bool,
    },
    List {
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new OAuth token once.
    Issue {
        #[arg(long)]
        login: String,
        /// Comma-separated: tracker:read, tracker:write.
        #[arg(long, default_value = "tracker:read,tracker:write")]
        scopes: String,
        /// RFC 3339 expiry, e.g. 2030-01-01T00:00:00Z.
        #[arg(long)]
        expires_at: Option<DateTime<Utc>>,
        #[arg(long, default_value = "")]
        description: String,
    },
    List {
        #[arg(long)]
        login: String,
    },
    /// Revoke a token (and every IAM token made from it).
    Revoke {
        /// The token's id, as `token list` shows it.
        #[arg(long, conflicts_with = "token", required_unless_present = "token")]
        id: Option<i64>,
        /// The token itself.
        #[arg(long)]
        token: Option<String>,
    },
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
                "seeded {} organizations, {} users, {} tokens, {} queues",
                report.organizations, report.users, report.tokens, report.queues
            );
            Ok(())
        }
        Command::Org(cmd) => org_command(cmd, store.as_ref(), clock.as_ref()).await,
        Command::User(cmd) => user_command(cmd, store.as_ref(), clock.as_ref()).await,
        Command::Token(cmd) => token_command(cmd, store.as_ref(), clock.as_ref()).await,
        Command::App(cmd) => trackerd::oauth::cli::app(cmd, store.as_ref(), clock.as_ref()).await,
        Command::ServiceAccount(cmd) => {
            trackerd::oauth::cli::service_account(cmd, store.as_ref(), clock.as_ref()).await
        }
        Command::Audit(args) => trackerd::oauth::cli::audit(args, store.as_ref()).await,
        Command::Password(args) => {
            trackerd::oauth::cli::password(args, store.as_ref(), clock.as_ref()).await
        }
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
    tracing::info!(%addr, database = %config.database, backend = store.backend(), "trackerd listening");
    println!("trackerd listening on http://{addr}");
    let state = trackerd::AppState::new(store, clock, config);
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

async fn find_org(store: &dyn Store, org: &str) -> anyhow::Result<tracker_store::Organization> {
    store
        .organization_by_org_id(org)
        .await?
        .with_context(|| format!("no organization with id {org}"))
}

async fn org_command(cmd: OrgCommand, store: &dyn Store, clock: &dyn Clock) -> anyhow::Result<()> {
    match cmd {
        OrgCommand::Create { id, name, cloud_id } => {
            let org = store
                .create_organization(&NewOrganization {
                    org_id: id,
                    cloud_id,
                    name,
                    created_at: clock.now(),
                })
                .await?;
            println!("created organization {} ({})", org.org_id, org.name);
        }
        OrgCommand::List => {
            println!("{:<12} {:<22} NAME", "ID", "CLOUD ID");
            for o in store.list_organizations().await? {
                println!(
                    "{:<12} {:<22} {}",
                    o.org_id,
                    o.cloud_id.as_deref().unwrap_or("-"),
                    o.name
                );
            }
        }
    }
    Ok(())
}

async fn user_command(
    cmd: UserCommand,
    store: &dyn Store,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Create {
            org,
            login,
            first_name,
            last_name,
            email,
            admin,
        } => {
            let org = find_org(store, &org).await?;
            if store.user_by_login(&login).await?.is_some() {
                anyhow::bail!("a user with login {login} already exists");
            }
            let spec = UserSpec {
                login,
                first_name,
                last_name,
                email,
                admin,
                password: None,
            };
            let user = ops::put_user(store, clock, &org, &spec).await?;
            println!(
                "created user {} (uid {}) in organization {}",
                user.login, user.uid, org.org_id
            );
        }
        UserCommand::List { org } => {
            let org = find_org(store, &org).await?;
            println!("{:<18} {:<20} NAME", "UID", "LOGIN");
            let mut offset = 0;
            loop {
                let (users, total) = store.list_members(org.id, offset, 500).await?;
                for u in &users {
                    println!("{:<18} {:<20} {}", u.uid, u.login, u.display());
                }
                offset += users.len() as i64;
                if users.is_empty() || offset >= total {
                    break;
                }
            }
        }
    }
    Ok(())
}

async fn token_command(
    cmd: TokenCommand,
    store: &dyn Store,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Issue {
            login,
            scopes,
            expires_at,
            description,
        } => {
            let user = store
                .user_by_login(&login)
                .await?
                .with_context(|| format!("no user {login}"))?;
            let scopes = Scopes::parse(&scopes)?;
            let (secret, record) =
                ops::issue_oauth_token(store, clock, user.uid, scopes, expires_at, &description)
                    .await?;
            eprintln!(
                "issued token {} for {} with {}; it is shown only now:",
                record.id,
                user.login,
                scopes.to_list()
            );
            println!("{secret}");
        }
        TokenCommand::List { login } => {
            let user = store
                .user_by_login(&login)
                .await?
                .with_context(|| format!("no user {login}"))?;
            let now = clock.now();
            println!(
                "{:<8} {:<28} {:<10} {:<26} DESCRIPTION",
                "ID", "SCOPES", "STATE", "EXPIRES"
            );
            for t in store.list_tokens(user.uid).await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else if t.is_live(now) {
                    "live"
                } else {
                    "expired"
                };
                let expires = t
                    .expires_at
                    .map(|e| e.to_rfc3339())
                    .unwrap_or_else(|| "never".into());
                println!(
                    "{:<8} {:<28} {:<10} {:<26} {}",
                    t.id,
                    t.scopes.to_list(),
                    state,
                    expires,
                    t.description
                );
            }
        }
        TokenCommand::Revoke { id, token } => {
            let id = match (id, token) {
                (Some(id), _) => id,
                (None, Some(secret)) => {
                    store
                        .token_by_hash(&TokenHash::of(&secret))
                        .await?
                        .context("no such token")?
                        .id
                }
                (None, None) => anyhow::bail!("give --id or --token"),
            };
            if store.revoke_token(id, clock.now()).await? {
                println!("revoked token {id} and the tokens made from it");
            } else {
                anyhow::bail!("no live token with id {id}");
            }
        }
    }
    Ok(())
}
