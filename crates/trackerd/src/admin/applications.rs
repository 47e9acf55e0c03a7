//! Admin commands for an organization's external applications: what remote
//! links (`/v2/issues/{key}/remotelinks`) point into. Not OAuth clients
//! (those are `admin app`). Tracker offers no API to register one, so
//! neither does trackerd: they come from here or from the seed file.

use anyhow::Context;
use clap::Subcommand;
use tracker_domain::Clock;
use tracker_store::Store;

use super::ops;

#[derive(Subcommand)]
pub enum ExternalAppCommand {
    /// Register an application, or change its type and name.
    Put {
        /// The organization (its X-Org-ID value).
        #[arg(long)]
        org: String,
        /// What a remote link's `origin` names, e.g. ru.yandex.bitbucket.
        #[arg(long)]
        id: String,
        /// Defaults to the id.
        #[arg(long = "type")]
        app_type: Option<String>,
        #[arg(long)]
        name: String,
    },
    List {
        #[arg(long)]
        org: String,
    },
    /// Remove an application no remote link points into.
    Remove {
        #[arg(long)]
        org: String,
        #[arg(long)]
        id: String,
    },
}

pub async fn external_app(
    cmd: ExternalAppCommand,
    store: &dyn Store,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    let find_org = |org: String| async move {
        store
            .organization_by_org_id(&org)
            .await?
            .with_context(|| format!("no organization with id {org}"))
    };
    match cmd {
        ExternalAppCommand::Put {
            org,
            id,
            app_type,
            name,
        } => {
            let org = find_org(org).await?;
            let app =
                ops::put_application(store, clock, &org, &id, app_type.as_deref(), &name).await?;
            println!(
                "application {} ({}, type {}) in organization {}",
                app.id, app.name, app.app_type, org.org_id
            );
        }
        ExternalAppCommand::List { org } => {
            let org = find_org(org).await?;
            println!("{:<32} {:<20} NAME", "ID", "TYPE");
            for a in store.list_applications(org.id).await? {
                println!("{:<32} {:<20} {}", a.id, a.app_type, a.name);
            }
        }
        ExternalAppCommand::Remove { org, id } => {
            let org = find_org(org).await?;
            match store.delete_application(org.id, &id).await {
                Ok(true) => println!("removed application {id}"),
                Ok(false) => anyhow::bail!("no application {id} in organization {}", org.org_id),
                Err(tracker_store::StoreError::Invalid(_)) => {
                    anyhow::bail!("remote links point into application {id}: remove them first")
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}
