//! Admin commands for organizations' OpenID Connect identity providers.

use anyhow::Context;
use clap::{Args, Subcommand};
use tracker_domain::Clock;
use tracker_store::Store;

use super::ops::{self, FederationSpec};

#[derive(Subcommand)]
pub enum FederationCommand {
    /// Add an identity provider to an organization, or change it. The client
    /// secret is read from the environment variable `--client-secret-env`
    /// names, so it stays out of shell history and process lists.
    Put(Box<PutArgs>),
    /// List identity providers (never their secrets).
    List {
        /// Only this organization's (its X-Org-ID value).
        #[arg(long)]
        org: Option<String>,
    },
    /// Turn a provider off: its accounts' sessions and tokens end now, and
    /// nobody signs in through it until it is enabled again.
    Disable {
        #[arg(long)]
        id: String,
    },
    /// Turn a provider on again.
    Enable {
        #[arg(long)]
        id: String,
    },
}

#[derive(Args)]
pub struct PutArgs {
    /// The organization (its X-Org-ID value).
    #[arg(long)]
    org: String,
    /// The provider's id here: what `tracker login --federation` names.
    #[arg(long)]
    id: String,
    /// What the sign-in page's button says: "Sign in with NAME".
    #[arg(long)]
    name: String,
    /// The issuer URL exactly as the provider's ID tokens name it, e.g.
    /// https://keycloak.example/realms/acme.
    #[arg(long)]
    issuer: String,
    #[arg(long)]
    client_id: String,
    /// The environment variable holding the client secret.
    #[arg(long)]
    client_secret_env: String,
    #[arg(long, default_value_t = ops::default_federation_scopes())]
    scopes: String,
    /// The claim that names a new account's login.
    #[arg(long, default_value_t = ops::default_login_claim())]
    login_claim: String,
    #[arg(long, default_value_t = ops::default_first_name_claim())]
    first_name_claim: String,
    #[arg(long, default_value_t = ops::default_last_name_claim())]
    last_name_claim: String,
    #[arg(long, default_value_t = ops::default_email_claim())]
    email_claim: String,
    /// How a first sign-in finds its account: `create` (always a new one),
    /// `email` (a member with the same email, only when the provider says
    /// `email_verified`), `login` (a member with the login claim's login).
    #[arg(long, default_value_t = ops::default_link_rule())]
    link: String,
    /// The JWS algorithms ID tokens may be signed with, space-separated.
    #[arg(long, default_value_t = ops::default_algorithms())]
    algorithms: String,
}

pub async fn federation(
    cmd: FederationCommand,
    store: &dyn Store,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    // Switches the provider on or off; the provider as it was found.
    let set_enabled = |id: String, enabled: bool| async move {
        let p = store
            .federation_provider(&id)
            .await?
            .with_context(|| format!("no identity provider {id}"))?;
        store
            .set_federation_provider_enabled(p.id, enabled, clock.now())
            .await?;
        anyhow::Ok(p)
    };
    match cmd {
        FederationCommand::Put(a) => {
            let a = *a;
            let org = store
                .organization_by_org_id(&a.org)
                .await?
                .with_context(|| format!("no organization with id {}", a.org))?;
            let client_secret = std::env::var(&a.client_secret_env)
                .with_context(|| format!("reading ${}", a.client_secret_env))?;
            let p = ops::put_federation(
                store,
                clock,
                &org,
                &FederationSpec {
                    id: a.id,
                    name: a.name,
                    issuer: a.issuer,
                    client_id: a.client_id,
                    client_secret,
                    scopes: a.scopes,
                    login_claim: a.login_claim,
                    first_name_claim: a.first_name_claim,
                    last_name_claim: a.last_name_claim,
                    email_claim: a.email_claim,
                    link: a.link,
                    algorithms: a.algorithms,
                    enabled: true,
                },
            )
            .await?;
            println!(
                "identity provider {} ({}) in organization {}: redirect URI <public_url>/federation/callback",
                p.public_id, p.issuer, org.org_id
            );
        }
        FederationCommand::List { org } => {
            let org = match org {
                Some(o) => Some(
                    store
                        .organization_by_org_id(&o)
                        .await?
                        .with_context(|| format!("no organization with id {o}"))?
                        .id,
                ),
                None => None,
            };
            println!(
                "{:<20} {:<8} {:<8} {:<40} NAME",
                "ID", "ENABLED", "LINK", "ISSUER"
            );
            for p in store.list_federation_providers(org).await? {
                println!(
                    "{:<20} {:<8} {:<8} {:<40} {}",
                    p.public_id,
                    p.enabled,
                    p.link_rule.as_str(),
                    p.issuer,
                    p.name
                );
            }
        }
        FederationCommand::Disable { id } => {
            let p = set_enabled(id, false).await?;
            println!(
                "disabled identity provider {}: its accounts' sessions and tokens are ended",
                p.public_id
            );
        }
        FederationCommand::Enable { id } => {
            let p = set_enabled(id, true).await?;
            println!("enabled identity provider {}", p.public_id);
        }
    }
    Ok(())
}
