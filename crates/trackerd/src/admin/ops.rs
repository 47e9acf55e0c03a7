//! Operations shared by the admin commands, the seed loader and the first
//! start: the only places that mint accounts and tokens outside the API.

pub use crate::ids::{cloud_style_id, object_id};
pub use crate::passwords::{hash_password, verify_password};

use anyhow::Context;
use chrono::{DateTime, Utc};
use rand::Rng;
use tracker_domain::{Clock, Scopes, TokenHash, TokenKind};
use tracker_store::{NewOrganization, NewToken, NewUser, Organization, Store, TokenRecord, User};

#[derive(Debug, Clone)]
pub struct UserSpec {
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub admin: bool,
    pub password: Option<String>,
}

/// Creates or updates an account and makes it a member of `org`.
pub async fn put_user(
    store: &dyn Store,
    clock: &dyn Clock,
    org: &Organization,
    spec: &UserSpec,
) -> anyhow::Result<User> {
    if !valid_login(&spec.login) {
        anyhow::bail!(
            "invalid login {:?}: use letters, digits, '.', '-' and '_'",
            spec.login
        );
    }
    let existing = store.user_by_login(&spec.login).await?;
    // Re-hash only a password that changed: seeds are applied on every start.
    let password_hash = match (
        &spec.password,
        existing.as_ref().and_then(|u| u.password_hash.clone()),
    ) {
        (None, _) => None,
        (Some(p), Some(h)) if verify_password(h.clone(), p.clone()).await => None,
        (Some(p), _) => Some(hash_password(p.clone()).await?),
    };
    let user = store
        .upsert_user(&NewUser {
            login: spec.login.clone(),
            cloud_uid: cloud_style_id("aje"),
            first_name: spec.first_name.clone(),
            last_name: spec.last_name.clone(),
            email: spec.email.clone(),
            password_hash,
            created_at: clock.now(),
        })
        .await?;
    store.put_membership(org.id, user.uid, spec.admin).await?;
    Ok(user)
}

pub fn valid_login(login: &str) -> bool {
    !login.is_empty()
        && login.len() <= 64
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'@'))
        && !login.bytes().all(|b| b.is_ascii_digit())
}

/// Mints an OAuth token for `uid`. The secret is returned once and never stored.
pub async fn issue_oauth_token(
    store: &dyn Store,
    clock: &dyn Clock,
    uid: i64,
    scopes: Scopes,
    expires_at: Option<DateTime<Utc>>,
    description: &str,
) -> anyhow::Result<(String, TokenRecord)> {
    if scopes.is_empty() {
        anyhow::bail!("a token needs at least one scope");
    }
    let secret = TokenKind::OAuth.mint();
    let record = store
        .insert_token(&NewToken {
            kind: TokenKind::OAuth,
            hash: TokenHash::of(&secret),
            uid,
            scopes,
            parent_id: None,
            description: description.to_owned(),
            created_at: clock.now(),
            expires_at,
        })
        .await
        .context("storing the token")?;
    Ok((secret, record))
}

/// The client id the `tracker` CLI uses by default.
pub const TRACKER_CLI_CLIENT_ID: &str = "tracker-cli";

pub struct Bootstrap {
    pub org: Organization,
    pub user: User,
    pub token: String,
    /// The administrator's password for the sign-in pages, shown once.
    pub password: String,
}

/// On a first start with an empty database: one organization, one admin and
/// a token for them, so the server is usable at once.
pub async fn bootstrap_if_empty(
    store: &dyn Store,
    clock: &dyn Clock,
) -> anyhow::Result<Option<Bootstrap>> {
    if store.organization_count().await? > 0 {
        return Ok(None);
    }
    let org_id = rand::thread_rng()
        .gen_range(1_000_000..10_000_000)
        .to_string();
    let org = store
        .create_organization(&NewOrganization {
            org_id,
            cloud_id: Some(cloud_style_id("bpf")),
            name: "My organization".into(),
            created_at: clock.now(),
        })
        .await?;
    let password: String = {
        use rand::distributions::{Alphanumeric, DistString};
        Alphanumeric.sample_string(&mut rand::rngs::OsRng, 20)
    };
    let user = put_user(
        store,
        clock,
        &org,
        &UserSpec {
            login: "admin".into(),
            first_name: "Admin".into(),
            last_name: String::new(),
            email: String::new(),
            admin: true,
            password: Some(password.clone()),
        },
    )
    .await?;
    let (token, _) = issue_oauth_token(
        store,
        clock,
        user.uid,
        Scopes::READ_WRITE,
        None,
        "created on first start",
    )
    .await?;
    // The `tracker` CLI signs in with the well-known public client id
    // `tracker-cli` through the device flow: register it, so a newcomer's
    // `tracker login` works at once. Every token it gets still needs a person
    // to sign in and consent; an administrator may delete the app.
    crate::oauth::apps::register(
        store,
        clock.now(),
        org.id,
        user.uid,
        crate::oauth::apps::CreateApp {
            name: "tracker CLI".into(),
            redirect_uris: Vec::new(),
            client_id: Some(TRACKER_CLI_CLIENT_ID.into()),
            client_secret: None,
            kind: Some("public".into()),
            scopes: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("registering the tracker CLI: {e}"))?;
    Ok(Some(Bootstrap {
        org,
        user,
        token,
        password,
    }))
}

/// An external application's id: it is a segment of URLs
/// (`/v2/applications/{id}`), so 1–100 letters, digits, `.`, `-`, `_`.
pub fn valid_application_id(id: &str) -> bool {
    (1..=100).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Creates or updates an external application of `org`; `app_type`
/// defaults to the id, as Tracker's own applications have it.
pub async fn put_application(
    store: &dyn Store,
    clock: &dyn Clock,
    org: &Organization,
    id: &str,
    app_type: Option<&str>,
    name: &str,
) -> anyhow::Result<tracker_store::ApplicationRecord> {
    if !valid_application_id(id) {
        anyhow::bail!(
            "invalid application id {id:?}: use 1 to 100 letters, digits, '.', '-' and '_'"
        );
    }
    if name.trim().is_empty() {
        anyhow::bail!("application {id}: a name is required");
    }
    let app_type = app_type
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(id);
    Ok(store
        .put_application(&tracker_store::ApplicationRecord {
            org: org.id,
            id: id.to_owned(),
            app_type: app_type.to_owned(),
            name: name.trim().to_owned(),
            created_at: clock.now(),
        })
        .await?)
}

/// An identity provider as an admin command or a seed file describes it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationSpec {
    /// What `tracker login --federation` and the sign-in URLs name.
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    /// The client secret itself (commands read it from the environment).
    #[serde(default)]
    pub client_secret: String,
    #[serde(default = "default_federation_scopes")]
    pub scopes: String,
    #[serde(default = "default_login_claim")]
    pub login_claim: String,
    #[serde(default = "default_first_name_claim")]
    pub first_name_claim: String,
    #[serde(default = "default_last_name_claim")]
    pub last_name_claim: String,
    #[serde(default = "default_email_claim")]
    pub email_claim: String,
    /// `create`, `email` or `login` (see `tracker_store::LinkRule`).
    #[serde(default = "default_link_rule")]
    pub link: String,
    #[serde(default = "default_algorithms")]
    pub algorithms: String,
    #[serde(default = "default_enabled")]
    pub enabled: bool,
}

pub fn default_federation_scopes() -> String {
    "openid profile email".into()
}
pub fn default_login_claim() -> String {
    "preferred_username".into()
}
pub fn default_first_name_claim() -> String {
    "given_name".into()
}
pub fn default_last_name_claim() -> String {
    "family_name".into()
}
pub fn default_email_claim() -> String {
    "email".into()
}
pub fn default_link_rule() -> String {
    "create".into()
}
pub fn default_algorithms() -> String {
    "RS256".into()
}
fn default_enabled() -> bool {
    true
}

impl FederationSpec {
    /// Checks everything before anything is written.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !valid_application_id(&self.id) {
            anyhow::bail!(
                "identity provider {:?}: an id is 1 to 100 letters, digits, '.', '-' and '_'",
                self.id
            );
        }
        let issuer = url::Url::parse(&self.issuer)
            .map_err(|e| anyhow::anyhow!("identity provider {}: issuer: {e}", self.id))?;
        if !matches!(issuer.scheme(), "https" | "http") || issuer.query().is_some() {
            anyhow::bail!(
                "identity provider {}: the issuer is an http(s) URL without a query",
                self.id
            );
        }
        if self.name.trim().is_empty() || self.client_id.trim().is_empty() {
            anyhow::bail!(
                "identity provider {}: a name and a client id are required",
                self.id
            );
        }
        if self.client_secret.is_empty() {
            anyhow::bail!("identity provider {}: a client secret is required", self.id);
        }
        if !self.scopes.split_whitespace().any(|s| s == "openid") {
            anyhow::bail!(
                "identity provider {}: the scopes must include openid",
                self.id
            );
        }
        if tracker_store::LinkRule::parse(&self.link).is_none() {
            anyhow::bail!(
                "identity provider {}: link is create, email or login",
                self.id
            );
        }
        if !crate::oauth::federation::valid_algorithms(&self.algorithms) {
            anyhow::bail!(
                "identity provider {}: algorithms are asymmetric JWS names (RS256, ES256, PS256, EdDSA, …)",
                self.id
            );
        }
        Ok(())
    }
}

/// Creates or updates the organization's identity provider; turning it off
/// ends the sessions and tokens of the accounts it signed in.
pub async fn put_federation(
    store: &dyn Store,
    clock: &dyn Clock,
    org: &Organization,
    spec: &FederationSpec,
) -> anyhow::Result<tracker_store::FederationProvider> {
    spec.validate()?;
    let link = tracker_store::LinkRule::parse(&spec.link)
        .ok_or_else(|| anyhow::anyhow!("link is create, email or login"))?;
    let provider = store
        .put_federation_provider(&tracker_store::FederationProvider {
            id: 0,
            public_id: spec.id.clone(),
            org: org.id,
            name: spec.name.trim().to_owned(),
            issuer: spec.issuer.clone(),
            client_id: spec.client_id.clone(),
            client_secret: spec.client_secret.clone(),
            scopes: spec.scopes.split_whitespace().collect::<Vec<_>>().join(" "),
            login_claim: spec.login_claim.clone(),
            first_name_claim: spec.first_name_claim.clone(),
            last_name_claim: spec.last_name_claim.clone(),
            email_claim: spec.email_claim.clone(),
            link_rule: link,
            algorithms: spec
                .algorithms
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            enabled: spec.enabled,
            created_at: clock.now(),
        })
        .await?;
    if provider.enabled != spec.enabled {
        store
            .set_federation_provider_enabled(provider.id, spec.enabled, clock.now())
            .await?;
    }
    Ok(tracker_store::FederationProvider {
        enabled: spec.enabled,
        ..provider
    })
}
