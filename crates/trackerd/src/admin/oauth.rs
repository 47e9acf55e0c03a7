//! Admin commands of the authorization server: service accounts and their
//! keys, required password changes, the audit trail. They work on the
//! database directly, like the other admin commands.

use std::io::Read;

use anyhow::Context;
use clap::{Args, Subcommand};
use tracker_domain::{Clock, Scopes};
use tracker_store::{NewAuditEvent, NewServiceAccount, NewServiceAccountKey, Store};

use crate::ids::cloud_style_id;
use crate::passwords::hash_password;

#[derive(Debug, Subcommand)]
pub enum ServiceAccountCommand {
    /// Create a service account in an organization.
    Create {
        /// The organization (its X-Org-ID value).
        #[arg(long)]
        org: String,
        /// 3 to 63 lowercase letters, digits and '-'.
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Organization admin rights for the account.
        #[arg(long)]
        admin: bool,
        /// Comma-separated: tracker:read, tracker:write.
        #[arg(long, default_value = "tracker:read,tracker:write")]
        scopes: String,
    },
    List {
        #[arg(long)]
        org: String,
    },
    /// Make a key pair and print the authorized key file (with its private
    /// key) once, as `yc iam key create` does.
    CreateKey {
        /// The service account id (aje…).
        #[arg(long)]
        id: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Delete a key: JWTs signed with it stop working.
    DeleteKey {
        #[arg(long)]
        key_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Register an application; prints its client id and, for a
    /// confidential one, its secret (once).
    Create {
        /// The organization (its X-Org-ID value).
        #[arg(long)]
        org: String,
        /// The login of the account that owns it.
        #[arg(long)]
        owner: String,
        #[arg(long)]
        name: String,
        /// A chosen client id, e.g. tracker-cli; random when absent.
        #[arg(long)]
        client_id: Option<String>,
        /// A chosen client secret (the one a client ships with); random when
        /// absent. Read from this environment variable rather than a flag, so
        /// it stays out of shell history and process lists.
        #[arg(long, value_name = "ENV_VAR")]
        client_secret_env: Option<String>,
        /// confidential or public.
        #[arg(long = "type", default_value = "confidential")]
        kind: String,
        /// An exact redirect URI; repeat for several (none: device flow only,
        /// public clients).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Comma-separated: tracker:read, tracker:write.
        #[arg(long, default_value = "tracker:read,tracker:write")]
        scopes: String,
    },
    List {
        #[arg(long)]
        org: String,
    },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The organization (its X-Org-ID value).
    #[arg(long)]
    pub org: String,
    /// How many of the newest events to print.
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
}

#[derive(Debug, Args)]
pub struct PasswordArgs {
    #[arg(long)]
    pub login: String,
    /// Make the user choose a new password at the next sign-in.
    #[arg(long)]
    pub must_change: bool,
}

async fn org_id(store: &dyn Store, org: &str) -> anyhow::Result<i64> {
    Ok(store
        .organization_by_org_id(org)
        .await?
        .with_context(|| format!("no organization with id {org}"))?
        .id)
}

async fn record(
    store: &dyn Store,
    clock: &dyn Clock,
    org: Option<i64>,
    action: &str,
    target: &str,
) {
    let e = NewAuditEvent {
        at: clock.now(),
        org,
        uid: None,
        action: action.into(),
        target: target.into(),
        detail: "admin command".into(),
        ip: "cli".into(),
    };
    if let Err(e) = store.insert_audit_event(&e).await {
        tracing::error!(error = %e, "could not write an audit event");
    }
}

pub async fn service_account(
    cmd: ServiceAccountCommand,
    store: &dyn Store,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    match cmd {
        ServiceAccountCommand::Create {
            org,
            name,
            description,
            admin,
            scopes,
        } => {
            let org = org_id(store, &org).await?;
            let valid = (3..=63).contains(&name.len())
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid {
                anyhow::bail!("invalid name {name:?}: 3 to 63 lowercase letters, digits and '-'");
            }
            let scopes = Scopes::parse(&scopes)?;
            if scopes.is_empty() {
                anyhow::bail!("a service account needs at least one scope");
            }
            let sa = store
                .create_service_account(&NewServiceAccount {
                    org,
                    sa_id: cloud_style_id("aje"),
                    name,
                    description,
                    admin,
                    scopes,
                    created_at: clock.now(),
                })
                .await?;
            record(
                store,
                clock,
                Some(org),
                "service_account.created",
                &sa.sa_id,
            )
            .await;
            println!("{}", sa.sa_id);
        }
        ServiceAccountCommand::List { org } => {
            let org = org_id(store, &org).await?;
            println!("{:<22} {:<28} {:<30} DESCRIPTION", "ID", "NAME", "SCOPES");
            for sa in store.list_service_accounts(org).await? {
                println!(
                    "{:<22} {:<28} {:<30} {}",
                    sa.sa_id,
                    sa.name,
                    sa.scopes.to_list(),
                    sa.description
                );
            }
        }
        ServiceAccountCommand::CreateKey { id, description } => {
            let sa = store
                .service_account_by_id(&id)
                .await?
                .with_context(|| format!("no service account {id}"))?;
            let (private, public) = crate::oauth::service_accounts::generate_key_pair().await?;
            let key = store
                .insert_service_account_key(&NewServiceAccountKey {
                    id: cloud_style_id("aje"),
                    sa_uid: sa.uid,
                    public_key_pem: public.clone(),
                    description,
                    created_at: clock.now(),
                })
                .await?;
            record(store, clock, Some(sa.org), "key.created", &key.id).await;
            eprintln!("the private key is shown only now; save this as key.json");
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::oauth::service_accounts::KeyFile {
                    id: key.id,
                    service_account_id: sa.sa_id,
                    created_at: key
                        .created_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    key_algorithm: "RSA_2048",
                    public_key: public,
                    private_key: Some(private),
                })?
            );
        }
        ServiceAccountCommand::DeleteKey { key_id } => {
            let key = store
                .service_account_key(&key_id)
                .await?
                .with_context(|| format!("no key {key_id}"))?;
            let org = store
                .service_account_by_uid(key.sa_uid)
                .await?
                .map(|s| s.org);
            store.delete_service_account_key(&key_id).await?;
            record(store, clock, org, "key.deleted", &key_id).await;
            println!("deleted key {key_id}");
        }
    }
    Ok(())
}

pub async fn app(cmd: AppCommand, store: &dyn Store, clock: &dyn Clock) -> anyhow::Result<()> {
    match cmd {
        AppCommand::Create {
            org,
            owner,
            name,
            client_id,
            client_secret_env,
            kind,
            redirect_uris,
            scopes,
        } => {
            let client_secret = match client_secret_env {
                Some(var) => {
                    Some(std::env::var(&var).with_context(|| format!("{var} is not set"))?)
                }
                None => None,
            };
            let org = org_id(store, &org).await?;
            let owner = store
                .user_by_login(&owner)
                .await?
                .with_context(|| format!("no user {owner}"))?;
            let body = crate::oauth::apps::CreateApp {
                name,
                redirect_uris,
                client_id,
                client_secret,
                kind: Some(kind),
                scopes: Some(scopes.split(',').map(|s| s.trim().to_owned()).collect()),
            };
            let (app, secret) =
                crate::oauth::apps::register(store, clock.now(), org, owner.uid, body)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            record(store, clock, Some(org), "app.created", &app.client_id).await;
            println!("client_id: {}", app.client_id);
            if let Some(secret) = secret {
                eprintln!("the client secret is shown only now:");
                println!("client_secret: {secret}");
            }
        }
        AppCommand::List { org } => {
            let org = org_id(store, &org).await?;
            println!("{:<34} {:<13} {:<28} NAME", "CLIENT ID", "TYPE", "SCOPES");
            for a in store.list_apps(org, None).await? {
                println!(
                    "{:<34} {:<13} {:<28} {}",
                    a.client_id,
                    if a.confidential {
                        "confidential"
                    } else {
                        "public"
                    },
                    a.scopes.to_list(),
                    a.name
                );
            }
        }
    }
    Ok(())
}

pub async fn audit(args: AuditArgs, store: &dyn Store) -> anyhow::Result<()> {
    let org = org_id(store, &args.org).await?;
    let (events, total) = store.list_audit_events(org, 0, args.limit.max(1)).await?;
    println!(
        "{:<25} {:<24} {:<18} {:<16} {:<24} DETAIL",
        "AT", "ACTION", "ACCOUNT", "FROM", "TARGET"
    );
    for e in events.into_iter().map(|e| e.event) {
        let who = match e.uid {
            Some(uid) => store
                .user_by_uid(uid)
                .await?
                .map(|u| u.login)
                .unwrap_or_else(|| uid.to_string()),
            None => "-".into(),
        };
        println!(
            "{:<25} {:<24} {:<18} {:<16} {:<24} {}",
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            e.action,
            who,
            e.ip,
            e.target,
            e.detail
        );
    }
    eprintln!("{total} events in all");
    Ok(())
}

/// Sets a password read from standard input (never from the command line,
/// where other users could see it).
pub async fn password(
    args: PasswordArgs,
    store: &dyn Store,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    let user = store
        .user_by_login(&args.login)
        .await?
        .with_context(|| format!("no user {}", args.login))?;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("reading the password from standard input")?;
    let password = input.trim_end_matches(['\r', '\n']).to_owned();
    if password.chars().count() < 10 {
        anyhow::bail!("the password must be at least 10 characters long");
    }
    let hash = hash_password(password).await?;
    store
        .set_password(user.uid, &hash, args.must_change)
        .await?;
    record(store, clock, None, "password.set", &user.login).await;
    println!(
        "set the password of {}{}",
        user.login,
        if args.must_change {
            "; it must be changed at the next sign-in"
        } else {
            ""
        }
    );
    Ok(())
}
