//! The admin commands `trackerd` runs besides `serve`, `seed` and `migrate`.
//! They work on the database directly, so they need no running server and
//! no token: whoever can reach the database is the administrator.

pub mod accounts;
pub mod applications;
pub mod federation;
pub mod oauth;
pub mod ops;

use clap::Subcommand;
use tracker_domain::Clock;
use tracker_store::Store;

use accounts::{OrgCommand, TokenCommand, UserCommand};
use applications::ExternalAppCommand;
use federation::FederationCommand;
use oauth::{AppCommand, AuditArgs, PasswordArgs, ServiceAccountCommand};

#[derive(Subcommand)]
pub enum Command {
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
    App(AppCommand),
    /// External applications remote links point into (not OAuth clients).
    #[command(subcommand)]
    ExternalApp(ExternalAppCommand),
    /// Service accounts and their authorized keys.
    #[command(subcommand)]
    ServiceAccount(ServiceAccountCommand),
    /// Print an organization's audit trail, newest first.
    Audit(AuditArgs),
    /// Set a user's sign-in password, read from standard input.
    Password(PasswordArgs),
    /// Organizations' OpenID Connect identity providers (federated accounts).
    #[command(subcommand)]
    Federation(FederationCommand),
}

pub async fn run(cmd: Command, store: &dyn Store, clock: &dyn Clock) -> anyhow::Result<()> {
    match cmd {
        Command::Org(cmd) => accounts::org_command(cmd, store, clock).await,
        Command::User(cmd) => accounts::user_command(cmd, store, clock).await,
        Command::Token(cmd) => accounts::token_command(cmd, store, clock).await,
        Command::App(cmd) => oauth::app(cmd, store, clock).await,
        Command::ExternalApp(cmd) => applications::external_app(cmd, store, clock).await,
        Command::ServiceAccount(cmd) => oauth::service_account(cmd, store, clock).await,
        Command::Audit(args) => oauth::audit(args, store).await,
        Command::Password(args) => oauth::password(args, store, clock).await,
        Command::Federation(cmd) => federation::federation(cmd, store, clock).await,
    }
}
