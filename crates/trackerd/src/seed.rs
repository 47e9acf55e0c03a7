//! Seed files: a deterministic, idempotent description of organizations,
//! users, tokens, queues and external applications (see docs/seed.md).

use std::collections::HashSet;
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tracker_domain::{Clock, Scopes, TokenHash, TokenKind};
use tracker_store::{NewOrganization, NewQueue, NewToken, Store};

use crate::access::queues::valid_queue_key;
use crate::admin::ops::{put_application, put_federation, put_user, FederationSpec, UserSpec};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    #[serde(default)]
    pub organizations: Vec<SeedOrganization>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedOrganization {
    pub id: String,
    pub cloud_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub users: Vec<SeedUser>,
    #[serde(default)]
    pub queues: Vec<SeedQueue>,
    /// External applications remote links point into.
    #[serde(default)]
    pub applications: Vec<SeedApplication>,
    /// OpenID Connect identity providers (federated accounts). A provider's
    /// `client_secret_env` names the environment variable holding its secret.
    #[serde(default)]
    pub federations: Vec<SeedFederation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFederation {
    /// The environment variable holding the client secret, kept out of the file.
    pub client_secret_env: String,
    #[serde(flatten)]
    pub spec: FederationSpec,
}

impl SeedFederation {
    fn spec(&self) -> anyhow::Result<FederationSpec> {
        let client_secret = std::env::var(&self.client_secret_env).with_context(|| {
            format!(
                "identity provider {}: reading ${}",
                self.spec.id, self.client_secret_env
            )
        })?;
        Ok(FederationSpec {
            client_secret,
            ..self.spec.clone()
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedApplication {
    pub id: String,
    /// Defaults to the id.
    #[serde(default, rename = "type")]
    pub app_type: Option<String>,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    pub login: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub admin: bool,
    pub password: Option<String>,
    #[serde(default)]
    pub tokens: Vec<SeedToken>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedToken {
    pub token: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedQueue {
    pub key: String,
    pub name: String,
    pub lead: String,
    pub description: Option<String>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub organizations: usize,
    pub users: usize,
    pub tokens: usize,
    pub queues: usize,
    pub applications: usize,
}

impl SeedFile {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let seed: SeedFile = serde_yaml_ng::from_str(&text)
            .with_context(|| format!("parsing {}", path.display()))?;
        seed.validate()
            .with_context(|| format!("checking {}", path.display()))?;
        Ok(seed)
    }

    /// Checks the whole file before anything is written, so a bad file
    /// leaves the database as it was.
    pub fn validate(&self) -> anyhow::Result<()> {
        let mut tokens = HashSet::new();
        for org in &self.organizations {
            if org.id.trim().is_empty() {
                anyhow::bail!("an organization needs an id");
            }
            let logins: HashSet<_> = org.users.iter().map(|u| u.login.to_lowercase()).collect();
            for user in &org.users {
                if !crate::admin::ops::valid_login(&user.login) {
                    anyhow::bail!("organization {}: invalid login {:?}", org.id, user.login);
                }
                for t in &user.tokens {
                    if t.token.trim().is_empty() || !t.token.bytes().all(|b| b.is_ascii_graphic()) {
                        anyhow::bail!(
                            "user {}: a token must be visible ASCII without spaces",
                            user.login
                        );
                    }
                    if !tokens.insert(t.token.as_str()) {
                        anyhow::bail!("user {}: a token is listed twice", user.login);
                    }
                    parse_scopes(&t.scopes).with_context(|| format!("user {}", user.login))?;
                }
            }
            let mut apps = HashSet::new();
            for a in &org.applications {
                if !crate::admin::ops::valid_application_id(&a.id) {
                    anyhow::bail!(
                        "application {:?}: an id is 1 to 100 letters, digits, '.', '-' and '_'",
                        a.id
                    );
                }
                if a.name.trim().is_empty() {
                    anyhow::bail!("application {}: a name is required", a.id);
                }
                if !apps.insert(a.id.as_str()) {
                    anyhow::bail!(
                        "application {} is listed twice in organization {}",
                        a.id,
                        org.id
                    );
                }
            }
            for f in &org.federations {
                f.spec()?.validate()?;
            }
            for q in &org.queues {
                if !valid_queue_key(&q.key) {
                    anyhow::bail!(
                        "queue {:?}: a key is 1 to 15 upper-case Latin letters",
                        q.key
                    );
                }
                if !logins.contains(&q.lead.to_lowercase()) {
                    anyhow::bail!(
                        "queue {}: lead {:?} is not a user of organization {}",
                        q.key,
                        q.lead,
                        org.id
                    );
                }
            }
        }
        Ok(())
    }

    pub async fn apply(&self, store: &dyn Store, clock: &dyn Clock) -> anyhow::Result<SeedReport> {
        let mut report = SeedReport::default();
        for o in &self.organizations {
            let org = store
                .upsert_organization(&NewOrganization {
                    org_id: o.id.trim().to_owned(),
                    cloud_id: o.cloud_id.clone(),
                    name: o.name.clone(),
                    created_at: clock.now(),
                })
                .await
                .with_context(|| format!("organization {}", o.id))?;
            report.organizations += 1;
            for u in &o.users {
                let user = put_user(
                    store,
                    clock,
                    &org,
                    &UserSpec {
                        login: u.login.clone(),
                        first_name: u.first_name.clone(),
                        last_name: u.last_name.clone(),
                        email: u.email.clone(),
                        admin: u.admin,
                        password: u.password.clone(),
                    },
                )
                .await
                .with_context(|| format!("user {}", u.login))?;
                report.users += 1;
                for t in &u.tokens {
                    store
                        .upsert_token(&NewToken {
                            kind: TokenKind::OAuth,
                            hash: TokenHash::of(&t.token),
                            uid: user.uid,
                            scopes: parse_scopes(&t.scopes)?,
                            parent_id: None,
                            description: "seed".into(),
                            created_at: clock.now(),
                            expires_at: t.expires_at,
                        })
                        .await
                        .with_context(|| format!("a token of {}", u.login))?;
                    report.tokens += 1;
                }
            }
            for q in &o.queues {
                let lead = store
                    .user_by_login(&q.lead)
                    .await?
                    .with_context(|| format!("queue {}: lead {}", q.key, q.lead))?;
                store
                    .upsert_queue(
                        org.id,
                        &NewQueue {
                            issue_types: String::new(),
                            key: q.key.clone(),
                            name: q.name.clone(),
                            description: q.description.clone(),
                            lead_uid: lead.uid,
                            default_type: tracker_domain::dictionaries::DEFAULT_TYPE.to_owned(),
                            default_priority: tracker_domain::dictionaries::DEFAULT_PRIORITY
                                .to_owned(),
                            created_at: clock.now(),
                        },
                    )
                    .await
                    .with_context(|| format!("queue {}", q.key))?;
                report.queues += 1;
            }
            for a in &o.applications {
                put_application(store, clock, &org, &a.id, a.app_type.as_deref(), &a.name)
                    .await
                    .with_context(|| format!("application {}", a.id))?;
                report.applications += 1;
            }
            for f in &o.federations {
                put_federation(store, clock, &org, &f.spec()?)
                    .await
                    .with_context(|| format!("identity provider {}", f.spec.id))?;
            }
        }
        Ok(report)
    }
}

fn parse_scopes(list: &[String]) -> anyhow::Result<Scopes> {
    let scopes = Scopes::parse(&list.join(" "))?;
    if scopes.is_empty() {
        anyhow::bail!("a token needs at least one scope");
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../docs/seed.example.yaml");

    #[test]
    fn the_documented_example_parses_and_validates() {
        let seed: SeedFile = serde_yaml_ng::from_str(EXAMPLE).unwrap();
        seed.validate().unwrap();
        assert_eq!(seed.organizations[0].users[0].tokens.len(), 1);
    }

    #[test]
    fn misspelled_keys_are_rejected() {
        let bad = "organizations:\n  - id: \"1\"\n    name: A\n    usres: []\n";
        assert!(serde_yaml_ng::from_str::<SeedFile>(bad).is_err());
    }

    #[test]
    fn an_application_id_must_fit_in_a_url_and_be_listed_once() {
        let seed = |apps: &str| {
            let text =
                format!("organizations:\n  - id: \"1\"\n    name: A\n    applications:\n{apps}");
            serde_yaml_ng::from_str::<SeedFile>(&text)
                .unwrap()
                .validate()
        };
        assert!(seed("      - {id: ru.yandex.bitbucket, name: Bitbucket}\n").is_ok());
        assert!(seed("      - {id: \"a/b\", name: X}\n").is_err());
        assert!(seed("      - {id: a, name: X}\n      - {id: a, name: Y}\n").is_err());
        assert!(seed("      - {id: a, name: \" \"}\n").is_err());
    }

    #[test]
    fn a_queue_lead_must_be_a_user_of_the_organization() {
        let bad = "organizations:\n  - id: \"1\"\n    name: A\n    queues:\n      - {key: TEST, name: T, lead: ghost}\n";
        let seed: SeedFile = serde_yaml_ng::from_str(bad).unwrap();
        assert!(seed.validate().is_err());
    }
}
