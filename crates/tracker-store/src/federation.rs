//! Federated accounts: organizations' OpenID Connect identity providers, the
//! identities they vouch for, and the sign-ins under way.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{NewUser, Result, User};

/// How a first sign-in through a provider finds its account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRule {
    /// Always a new account (a taken login is refused).
    Create,
    /// A member of the organization with the same email, when the provider
    /// says the email is verified; otherwise a new account.
    Email,
    /// A member of the organization with the login the login claim names;
    /// otherwise a new account.
    Login,
}

impl LinkRule {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkRule::Create => "create",
            LinkRule::Email => "email",
            LinkRule::Login => "login",
        }
    }

    pub fn parse(s: &str) -> Option<LinkRule> {
        match s {
            "create" => Some(LinkRule::Create),
            "email" => Some(LinkRule::Email),
            "login" => Some(LinkRule::Login),
            _ => None,
        }
    }
}

/// A stored rule, as a row of a provider is read.
impl TryFrom<String> for LinkRule {
    type Error = String;

    fn try_from(s: String) -> std::result::Result<Self, String> {
        LinkRule::parse(&s).ok_or_else(|| format!("link rule {s:?}"))
    }
}

/// An OpenID Connect identity provider of one organization.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct FederationProvider {
    pub id: i64,
    pub public_id: String,
    pub org: i64,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Space-separated, `openid` among them.
    pub scopes: String,
    pub login_claim: String,
    pub first_name_claim: String,
    pub last_name_claim: String,
    pub email_claim: String,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "String"))]
    pub link_rule: LinkRule,
    /// Space-separated JWS algorithms ID tokens may use.
    pub algorithms: String,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

/// An account's identity at a provider: the provider's `sub` for it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct FederatedIdentity {
    pub id: i64,
    pub provider: i64,
    pub subject: String,
    pub uid: i64,
    pub refresh_token: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// A sign-in sent to a provider and not yet back.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct FederationLogin {
    pub state_hash: String,
    pub browser_hash: String,
    pub provider: i64,
    pub nonce: String,
    pub verifier: String,
    pub next: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[async_trait]
pub trait FederationStore: Send + Sync + 'static {
    /// Creates the provider, or updates the one with its public id in the
    /// same organization (seeds are applied again and again). A public id
    /// another organization uses is a conflict.
    async fn put_federation_provider(
        &self,
        provider: &FederationProvider,
    ) -> Result<FederationProvider>;
    async fn federation_provider(&self, public_id: &str) -> Result<Option<FederationProvider>>;
    async fn federation_provider_by_id(&self, id: i64) -> Result<Option<FederationProvider>>;
    /// Every provider, or the organization's.
    async fn list_federation_providers(&self, org: Option<i64>) -> Result<Vec<FederationProvider>>;
    /// Turns the provider on or off. Turning it off ends, in the same
    /// transaction, the sessions and tokens of every account it signed in.
    /// False when there is no such provider.
    async fn set_federation_provider_enabled(
        &self,
        id: i64,
        enabled: bool,
        at: DateTime<Utc>,
    ) -> Result<bool>;

    async fn insert_federation_login(&self, login: &FederationLogin) -> Result<()>;
    /// Forgets sign-ins that expired before `before`, used or not (a used
    /// one has done its job; an unused one can no longer be). How many.
    async fn forget_federation_logins(&self, before: DateTime<Utc>) -> Result<u64>;
    /// Marks the sign-in used and answers it, only on its first use and
    /// only for the browser that started it: a replayed callback, or one in
    /// another browser, finds nothing (and spends nothing).
    async fn spend_federation_login(
        &self,
        state_hash: &str,
        browser_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<FederationLogin>>;

    async fn federated_identity(
        &self,
        provider: i64,
        subject: &str,
    ) -> Result<Option<FederatedIdentity>>;
    async fn federated_identities_of(&self, uid: i64) -> Result<Vec<FederatedIdentity>>;
    /// Creates the account, its membership in the provider's organization
    /// and its identity, in one transaction.
    async fn create_federated_account(
        &self,
        provider: &FederationProvider,
        subject: &str,
        user: &NewUser,
        refresh_token: Option<&str>,
    ) -> Result<User>;
    /// Binds an existing account to the provider's subject.
    async fn link_federated_identity(
        &self,
        provider: i64,
        subject: &str,
        uid: i64,
        refresh_token: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<FederatedIdentity>;
    /// Records a sign-in or refresh; a new refresh token replaces the kept one.
    async fn touch_federated_identity(
        &self,
        id: i64,
        refresh_token: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// A member of the organization by email (case-insensitive), when exactly
    /// one has it.
    async fn member_by_email(&self, org: i64, email: &str) -> Result<Option<User>>;
    /// Ends the account's browser sessions, revokes its tokens and grants
    /// (with the IAM tokens made from them) and drops cached authentications.
    async fn end_account_access(&self, uid: i64, at: DateTime<Utc>) -> Result<()>;
}
