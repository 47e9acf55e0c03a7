//! The authorization server's storage: applications, grants and the
//! credentials minted from them (authorization codes, refresh tokens, device
//! codes), consents, browser sessions, sign-in throttling, service accounts
//! with their keys, and the audit trail.
//!
//! A *grant* is one authorization of one application by one account; every
//! access token and refresh token issued under it carries its id, so a
//! replayed refresh token or authorization code can revoke the whole family
//! at once. Access tokens stay rows of `tokens` (kind `oauth`) so the access
//! layer accepts them unchanged.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tracker_domain::{Scopes, TokenHash};

use crate::{NewToken, Result, StoreError, TokenRecord};

#[derive(Debug, Clone, PartialEq)]
pub struct AppRecord {
    pub id: i64,
    pub client_id: String,
    /// `None` for public clients.
    pub secret_hash: Option<TokenHash>,
    pub name: String,
    pub org: i64,
    pub owner_uid: i64,
    pub redirect_uris: Vec<String>,
    pub confidential: bool,
    pub scopes: Scopes,
    pub created_at: DateTime<Utc>,
}

/// Fields an update may change; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct AppUpdate {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub scopes: Option<Scopes>,
    pub secret_hash: Option<TokenHash>,
}

#[derive(Debug, Clone)]
pub struct NewGrant {
    pub app_id: i64,
    pub uid: i64,
    pub scopes: Scopes,
    /// `authorization_code`, `implicit`, `device_code`.
    pub flow: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct GrantRecord {
    pub id: i64,
    pub app_id: i64,
    pub uid: i64,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "String"))]
    pub scopes: Scopes,
    pub flow: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewAuthCode {
    pub hash: TokenHash,
    pub app_id: i64,
    pub uid: i64,
    pub scopes: Scopes,
    /// The `redirect_uri` the authorization request named, if it named one
    /// (RFC 6749 §4.1.3: then the token request must repeat it).
    pub redirect_uri: Option<String>,
    /// The PKCE S256 challenge.
    pub code_challenge: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct AuthCodeRecord {
    pub id: i64,
    pub app_id: i64,
    pub uid: i64,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "String"))]
    pub scopes: Scopes,
    pub redirect_uri: Option<String>,
    pub code_challenge: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// The grant the code was exchanged for.
    pub grant_id: Option<i64>,
}

/// The outcome of spending a single-use credential.
#[derive(Debug, Clone, PartialEq)]
pub enum Spent<T> {
    /// First use: the caller may issue tokens.
    Fresh(T),
    /// It had been spent before: a replay.
    Replayed(T),
    Unknown,
}

#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub hash: TokenHash,
    pub grant_id: i64,
    pub access_token_id: i64,
    pub scopes: Scopes,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct RefreshRecord {
    pub id: i64,
    pub grant_id: i64,
    pub access_token_id: i64,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "String"))]
    pub scopes: Scopes,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    Pending,
    Approved,
    Denied,
    /// Tokens were issued; the device code is spent.
    Done,
}

impl DeviceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Pending => "pending",
            DeviceStatus::Approved => "approved",
            DeviceStatus::Denied => "denied",
            DeviceStatus::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => DeviceStatus::Pending,
            "approved" => DeviceStatus::Approved,
            "denied" => DeviceStatus::Denied,
            "done" => DeviceStatus::Done,
            _ => return None,
        })
    }
}

/// A stored status, read back (e.g. by a database row mapper).
impl TryFrom<String> for DeviceStatus {
    type Error = StoreError;
    fn try_from(s: String) -> Result<Self> {
        DeviceStatus::parse(&s).ok_or_else(|| StoreError::Invalid(format!("device status {s:?}")))
    }
}

#[derive(Debug, Clone)]
pub struct NewDeviceCode {
    pub device_hash: TokenHash,
    pub user_code_hash: TokenHash,
    pub app_id: i64,
    pub scopes: Scopes,
    pub interval_secs: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct DeviceRecord {
    pub id: i64,
    pub app_id: i64,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "String"))]
    pub scopes: Scopes,
    pub interval_secs: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_polled_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "String"))]
    pub status: DeviceStatus,
    /// The account that approved or denied it.
    pub uid: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ConsentRecord {
    pub uid: i64,
    pub app_id: i64,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "String"))]
    pub scopes: Scopes,
    pub granted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct SessionRecord {
    pub id: i64,
    pub uid: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewServiceAccount {
    pub org: i64,
    /// The public id (`aje…`), also the account's cloud uid and login.
    pub sa_id: String,
    pub name: String,
    pub description: String,
    /// Organization admin rights for the account.
    pub admin: bool,
    pub scopes: Scopes,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ServiceAccount {
    pub uid: i64,
    pub org: i64,
    pub sa_id: String,
    pub name: String,
    pub description: String,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "String"))]
    pub scopes: Scopes,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ServiceAccountKey {
    pub id: String,
    pub sa_uid: i64,
    pub public_key_pem: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

/// The caller chooses a key's id, so a new key is stored as it is given.
pub type NewServiceAccountKey = ServiceAccountKey;

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct NewAuditEvent {
    pub at: DateTime<Utc>,
    /// The organization the event belongs to, when it belongs to one (apps,
    /// service accounts); account events are found through the account's
    /// memberships.
    pub org: Option<i64>,
    /// Whose account: the one acting, or the one signing in.
    pub uid: Option<i64>,
    /// A dotted name: `signin.succeeded`, `token.issued`, `app.created`, …
    pub action: String,
    /// What was acted on: a client id, a token id, a key id, a login.
    pub target: String,
    pub detail: String,
    /// The source address.
    pub ip: String,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct AuditEvent {
    pub id: i64,
    #[cfg_attr(feature = "sqlx", sqlx(flatten))]
    pub event: NewAuditEvent,
}

#[async_trait]
pub trait OAuthStore: Send + Sync + 'static {
    // Applications.
    /// Registers the application (`id` is assigned).
    async fn create_app(&self, new: &AppRecord) -> Result<AppRecord>;
    async fn app_by_client_id(&self, client_id: &str) -> Result<Option<AppRecord>>;
    async fn app_by_id(&self, id: i64) -> Result<Option<AppRecord>>;
    /// The organization's applications; only `owner`'s when given.
    async fn list_apps(&self, org: i64, owner: Option<i64>) -> Result<Vec<AppRecord>>;
    async fn list_apps_of_owner(&self, owner: i64) -> Result<Vec<AppRecord>>;
    async fn update_app(&self, id: i64, update: &AppUpdate) -> Result<AppRecord>;
    /// Deletes the application with its grants and every token issued to it.
    async fn delete_app(&self, id: i64) -> Result<bool>;

    // Grants and the access tokens issued under them.
    async fn create_grant(&self, new: &NewGrant) -> Result<GrantRecord>;
    async fn grant_by_id(&self, id: i64) -> Result<Option<GrantRecord>>;
    /// Revokes the grant, its refresh tokens and its access tokens (with the
    /// IAM tokens made from them). False when it was already revoked.
    async fn revoke_grant(&self, id: i64, at: DateTime<Utc>) -> Result<bool>;
    /// Inserts an access token (a `tokens` row) issued under `grant_id`.
    async fn insert_grant_token(&self, new: &NewToken, grant_id: i64) -> Result<TokenRecord>;
    /// The grant an access token was issued under, if any.
    async fn grant_of_token(&self, token_id: i64) -> Result<Option<GrantRecord>>;

    // Authorization codes.
    async fn insert_auth_code(&self, new: &NewAuthCode) -> Result<i64>;
    /// Marks the code used; says whether this was its first use.
    async fn spend_auth_code(
        &self,
        hash: &TokenHash,
        at: DateTime<Utc>,
    ) -> Result<Spent<AuthCodeRecord>>;
    async fn set_auth_code_grant(&self, code_id: i64, grant_id: i64) -> Result<()>;

    // Refresh tokens.
    async fn insert_refresh_token(&self, new: &NewRefreshToken) -> Result<RefreshRecord>;
    async fn refresh_token_by_hash(&self, hash: &TokenHash) -> Result<Option<RefreshRecord>>;
    /// Marks the refresh token used (rotation); says whether this was its
    /// first use.
    async fn spend_refresh_token(
        &self,
        hash: &TokenHash,
        at: DateTime<Utc>,
    ) -> Result<Spent<RefreshRecord>>;

    // Device authorization (RFC 8628).
    async fn insert_device_code(&self, new: &NewDeviceCode) -> Result<DeviceRecord>;
    async fn device_by_hash(&self, device_hash: &TokenHash) -> Result<Option<DeviceRecord>>;
    async fn device_by_user_code(&self, user_code_hash: &TokenHash)
        -> Result<Option<DeviceRecord>>;
    /// Records a poll and returns the previous poll time; a poll that came
    /// too early also widens the interval by `slow_down_by` seconds.
    async fn poll_device(
        &self,
        id: i64,
        at: DateTime<Utc>,
    ) -> Result<(Option<DateTime<Utc>>, DeviceRecord)>;
    async fn widen_device_interval(&self, id: i64, by_secs: i64) -> Result<()>;
    /// Approves or denies a pending request. False when it was not pending.
    async fn decide_device(&self, id: i64, uid: i64, approve: bool) -> Result<bool>;
    /// Moves an approved request to done. False when it was not approved
    /// (another poll got there first).
    async fn finish_device(&self, id: i64) -> Result<bool>;

    // Consents.
    async fn consent(&self, uid: i64, app_id: i64) -> Result<Option<ConsentRecord>>;
    async fn put_consent(&self, consent: &ConsentRecord) -> Result<()>;
    async fn list_consents(&self, uid: i64) -> Result<Vec<ConsentRecord>>;
    /// Forgets the consent and revokes every grant of the app by the account.
    async fn withdraw_consent(&self, uid: i64, app_id: i64, at: DateTime<Utc>) -> Result<bool>;
    /// Live grants of the account, newest first.
    async fn list_grants(&self, uid: i64) -> Result<Vec<GrantRecord>>;

    // Browser sessions.
    async fn create_session(
        &self,
        hash: &TokenHash,
        uid: i64,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<SessionRecord>;
    async fn session_by_hash(&self, hash: &TokenHash) -> Result<Option<SessionRecord>>;
    async fn delete_session(&self, hash: &TokenHash) -> Result<()>;

    /// The server key named `name`, shared by every node on the database:
    /// `candidate` becomes it if there is none yet (the first node to ask
    /// wins; every other gets the winner's).
    async fn server_key(&self, name: &str, candidate: &str) -> Result<String>;

    // Sign-in throttling: failures per key (`login:…`, `ip:…`).
    /// Records an attempt against `key`; its id, to forget it again
    /// ([`OAuthStore::forget_signin_failure`]) should it turn out a success.
    async fn record_signin_failure(&self, key: &str, at: DateTime<Utc>) -> Result<i64>;
    async fn forget_signin_failure(&self, id: i64) -> Result<()>;
    async fn signin_failures_since(&self, key: &str, since: DateTime<Utc>) -> Result<i64>;
    async fn clear_signin_failures(&self, key: &str) -> Result<()>;

    // Password changes required by an admin.
    async fn set_password(&self, uid: i64, hash: &str, must_change: bool) -> Result<()>;
    async fn must_change_password(&self, uid: i64) -> Result<bool>;

    // Service accounts and their keys.
    /// Creates the account (a user row), its membership and the record.
    async fn create_service_account(&self, new: &NewServiceAccount) -> Result<ServiceAccount>;
    async fn service_account_by_id(&self, sa_id: &str) -> Result<Option<ServiceAccount>>;
    async fn service_account_by_uid(&self, uid: i64) -> Result<Option<ServiceAccount>>;
    async fn list_service_accounts(&self, org: i64) -> Result<Vec<ServiceAccount>>;
    async fn insert_service_account_key(
        &self,
        new: &NewServiceAccountKey,
    ) -> Result<ServiceAccountKey>;
    async fn service_account_key(&self, id: &str) -> Result<Option<ServiceAccountKey>>;
    async fn list_service_account_keys(&self, sa_uid: i64) -> Result<Vec<ServiceAccountKey>>;
    async fn delete_service_account_key(&self, id: &str) -> Result<bool>;

    // Audit trail.
    async fn insert_audit_event(&self, event: &NewAuditEvent) -> Result<()>;
    /// Events of the organization and of its members' accounts, newest first.
    async fn list_audit_events(
        &self,
        org: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<AuditEvent>, i64)>;
}
