//! Admin commands for organizations, users and OAuth tokens.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Subcommand;
use tracker_domain::{Clock, Scopes, TokenHash};
use tracker_store::{NewOrganization, Store};

use super::ops::{self, UserSpec};

#[derive(Subcommand)]
pub enum OrgCommand {
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
pub enum UserCommand {
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
pub enum TokenCommand {
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

async fn find_org(store: &dyn Store, org: &str) -> anyhow::Result<tracker_store::Organization> {
    store
        .organization_by_org_id(org)
        .await?
        .with_context(|| format!("no organization with id {org}"))
}

pub async fn org_command(
    cmd: OrgCommand,
    store: &dyn Store,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
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

pub async fn user_command(
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

pub async fn token_command(
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
            let (secret, record) = ops::issue_oauth_token(
                store,
                clock,
                user.uid,
                scopes.clone(),
                expires_at,
                &description,
            )
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
                    .minted
                    .expires_at
                    .map(|e| e.to_rfc3339())
                    .unwrap_or_else(|| "never".into());
                println!(
                    "{:<8} {:<28} {:<10} {:<26} {}",
                    t.id,
                    t.minted.scopes.to_list(),
                    state,
                    expires,
                    t.minted.description
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
