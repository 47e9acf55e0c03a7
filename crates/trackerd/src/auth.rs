//! Who is calling, in which organization, with which rights.
//!
//! [`Principal`] is an extractor: a handler that takes one cannot run before
//! the token, the organization and the scope have been checked. Successful
//! lookups are cached per token hash so the hot path touches no database; the
//! cache is emptied whenever the store's auth epoch moves (a revocation or a
//! role change on any node) and by every local change that can take access
//! away.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tracker_domain::headers::AuthHeaderError;
use tracker_domain::{
    parse_authorization, parse_org_headers, Credential, OrgSelector, Scope, Scopes, TokenHash,
    TokenKind,
};
use tracker_store::{Membership, Organization, TokenRecord, User};

use crate::error::ApiError;
use crate::observe::Lookups;
use crate::state::AppState;

/// An authenticated caller inside one organization.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: Arc<User>,
    pub org: Arc<Organization>,
    pub scopes: Scopes,
    pub org_admin: bool,
    pub token_id: i64,
    pub token_kind: TokenKind,
    /// What the request does: reading or writing (from its endpoint row).
    pub wanted: Scope,
    /// The auth cache's entry the caller was found by (`None` for the
    /// callers the jobs worker and automations make up): what may be kept
    /// with the authentication, like `GET /v2/myself`'s body.
    pub authenticated: Option<Arc<Authenticated>>,
}

impl Principal {
    /// Nothing for an administrator of the organization; for anyone else
    /// `403` with `refusal`, which says what only administrators do.
    pub fn require_org_admin(&self, refusal: &str) -> Result<(), ApiError> {
        if self.org_admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden(refusal.into()))
        }
    }
}

/// A caller whose token is valid, before any organization is chosen (used by
/// endpoints outside an organization, like the IAM exchange).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub token: TokenRecord,
    pub user: Arc<User>,
    pub memberships: Arc<Vec<Membership>>,
    /// `GET /v2/myself`'s body, rendered from `user` once: exactly as fresh
    /// as `user` (both go with the cache entry, at a revocation, a role
    /// change or the TTL). Kept for the links it was rendered with (the
    /// `Host` and API version of its first request); other links render
    /// afresh.
    pub myself: std::sync::OnceLock<MyselfBody>,
    /// The first organization this token was used in and the caller's
    /// membership there: a client nearly always names one organization, and
    /// this spares it the organizations cache's lookup. As fresh as the
    /// entry itself (emptied with it at an auth epoch change or the TTL).
    pub org: std::sync::OnceLock<(OrgSelector, Arc<Organization>, Membership)>,
}

/// A rendered `GET /v2/myself` body and the links base and API version in it.
#[derive(Debug, Clone)]
pub struct MyselfBody {
    pub base: String,
    pub version: &'static str,
    pub body: bytes::Bytes,
}

type Hasher = foldhash::fast::RandomState;

pub struct AuthCache {
    tokens: moka::sync::Cache<TokenHash, Arc<Authenticated>, Hasher>,
    orgs: moka::sync::Cache<OrgSelector, Arc<Organization>, Hasher>,
    epoch: AtomicI64,
    /// Hits and misses, for `/metrics`.
    lookups: crate::observe::Lookups,
}

impl Default for AuthCache {
    fn default() -> Self {
        Self::new()
    }
}

impl AuthCache {
    pub fn new() -> Self {
        // The TTL is only a backstop; the epoch check empties the cache first.
        Self {
            tokens: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(60))
                .build_with_hasher(Hasher::default()),
            orgs: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(60))
                .build_with_hasher(Hasher::default()),
            epoch: AtomicI64::new(i64::MIN),
            lookups: crate::observe::Lookups::default(),
        }
    }

    /// The cache's hits and misses so far.
    pub fn lookups(&self) -> &crate::observe::Lookups {
        &self.lookups
    }

    pub fn invalidate_all(&self) {
        self.tokens.invalidate_all();
        self.orgs.invalidate_all();
    }

    /// The login of the account a cached token belongs to (the journal's
    /// "who", without a query).
    pub fn cached_login(&self, hash: &TokenHash) -> Option<String> {
        self.tokens.get(hash).map(|a| a.user.login.clone())
    }

    /// Empties the cache if `epoch` differs from the one last seen.
    pub fn observe_epoch(&self, epoch: i64) {
        if self.epoch.swap(epoch, Ordering::AcqRel) != epoch {
            self.invalidate_all();
        }
    }
}

/// Keeps a node's cache in step with the store's auth epoch.
pub fn spawn_epoch_watcher(state: AppState) -> tokio::task::JoinHandle<()> {
    let period = Duration::from_millis(state.config.auth_cache_refresh_ms.max(10));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match state.store.auth_epoch().await {
                Ok(epoch) => state.auth.observe_epoch(epoch),
                Err(e) => {
                    // Without the epoch we cannot tell whether access was
                    // revoked elsewhere: drop everything to be safe.
                    tracing::warn!(error = %e, "could not read the auth epoch");
                    state.auth.invalidate_all();
                }
            }
            // The test clock another node may have moved.
            if let Err(e) = crate::control::clock::refresh(&state).await {
                tracing::warn!(error = %e, "could not read the test clock");
            }
        }
    })
}

fn unauthorized(e: AuthHeaderError) -> ApiError {
    ApiError::Unauthorized(match e {
        AuthHeaderError::Missing => "Authorization required: send 'Authorization: OAuth <token>' or 'Authorization: Bearer <IAM token>'".into(),
        AuthHeaderError::Malformed => e.to_string(),
    })
}

/// Resolves a credential to a live token and its account.
pub async fn authenticate<S: AsRef<str>>(
    state: &AppState,
    credential: &Credential<S>,
) -> Result<Arc<Authenticated>, ApiError> {
    let hash = TokenHash::of(credential.secret());
    let cached = state.auth.tokens.get(&hash);
    let lookups = &state.auth.lookups;
    Lookups::count(if cached.is_some() {
        &lookups.token_hits
    } else {
        &lookups.token_misses
    });
    let auth = match cached {
        Some(a) => a,
        None => {
            let Some(token) = state.store.token_by_hash(&hash).await? else {
                return Err(ApiError::Unauthorized("Invalid token".into()));
            };
            let user = state
                .store
                .user_by_uid(token.minted.uid)
                .await?
                .ok_or_else(|| ApiError::Unauthorized("Invalid token".into()))?;
            let memberships = state.store.memberships_of(user.uid).await?;
            let now = state.clock.now();
            if token.is_live(now)
                && user
                    .last_login_at
                    .is_none_or(|t| now - t > chrono::Duration::minutes(1))
            {
                let store = state.store.clone();
                let uid = user.uid;
                tokio::spawn(async move {
                    if let Err(e) = store.record_login(uid, now).await {
                        tracing::warn!(error = %e, "could not record a login");
                    }
                });
            }
            let auth = Arc::new(Authenticated {
                token,
                user: Arc::new(user),
                memberships: Arc::new(memberships),
                myself: std::sync::OnceLock::new(),
                org: std::sync::OnceLock::new(),
            });
            state.auth.tokens.insert(hash, auth.clone());
            auth
        }
    };
    let expected = match credential {
        Credential::OAuth(_) => TokenKind::OAuth,
        Credential::Bearer(_) => TokenKind::Iam,
    };
    if auth.token.minted.kind != expected {
        return Err(ApiError::Unauthorized(match expected {
            TokenKind::OAuth => {
                "An IAM token must be sent as 'Authorization: Bearer <token>'".into()
            }
            TokenKind::Iam => {
                "An OAuth token must be sent as 'Authorization: OAuth <token>'".into()
            }
        }));
    }
    let now = state.clock.now();
    if auth.token.revoked_at.is_some() || auth.token.parent_revoked_at.is_some() {
        return Err(ApiError::Unauthorized("The token has been revoked".into()));
    }
    if !auth.token.is_live(now) {
        return Err(ApiError::Unauthorized("The token has expired".into()));
    }
    if auth.user.dismissed {
        return Err(ApiError::Unauthorized("The account is disabled".into()));
    }
    Ok(auth)
}

async fn resolve_org(
    state: &AppState,
    selector: &OrgSelector,
) -> Result<Option<Arc<Organization>>, ApiError> {
    if let Some(org) = state.auth.orgs.get(selector) {
        Lookups::count(&state.auth.lookups.org_hits);
        return Ok(Some(org));
    }
    Lookups::count(&state.auth.lookups.org_misses);
    let org = match selector {
        OrgSelector::OrgId(id) => state.store.organization_by_org_id(id).await?,
        OrgSelector::CloudOrgId(id) => state.store.organization_by_cloud_id(id).await?,
    };
    Ok(org.map(|org| {
        let org = Arc::new(org);
        state.auth.orgs.insert(selector.clone(), org.clone());
        org
    }))
}

/// What a caller must bring to reach an endpoint, as its row in
/// [`crate::router::endpoints`] states it; [`crate::router::needs`] finds the
/// matched row's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Nothing from the headers: the body carries what the endpoint checks.
    Nothing,
    /// A token with this scope, of a member of the organization named.
    Token(Scope),
}

// Names made once: a lookup by `&str` parses and validates the name on every
// request (callgrind: a few hundred instructions each).
static X_ORG_ID: axum::http::HeaderName = axum::http::HeaderName::from_static("x-org-id");
static X_CLOUD_ORG_ID: axum::http::HeaderName =
    axum::http::HeaderName::from_static("x-cloud-org-id");

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let credential = parse_authorization(
            parts
                .headers
                .get(axum::http::header::AUTHORIZATION)
                .map(|v| v.as_bytes()),
        )
        .map_err(unauthorized)?;
        let auth = authenticate(state, &credential).await?;

        let selector = parse_org_headers(
            parts.headers.get(&X_ORG_ID).map(|v| v.as_bytes()),
            parts.headers.get(&X_CLOUD_ORG_ID).map(|v| v.as_bytes()),
        )
        .ok_or_else(|| {
            ApiError::Forbidden(
                "Organization required: send the X-Org-ID or X-Cloud-Org-ID header".into(),
            )
        })?;
        let (org, membership) = match auth.org.get() {
            Some((kept, org, membership)) if kept.is(&selector) => {
                // Found without the store: a hit of the organizations cache.
                Lookups::count(&state.auth.lookups.org_hits);
                (org.clone(), *membership)
            }
            _ => {
                let not_member = || {
                    ApiError::Forbidden(
                        "The user does not belong to this organization or it does not exist".into(),
                    )
                };
                let selector = selector.owned();
                let org = resolve_org(state, &selector)
                    .await?
                    .ok_or_else(not_member)?;
                let membership = auth
                    .memberships
                    .iter()
                    .find(|m| m.org == org.id)
                    .ok_or_else(not_member)?;
                // Another request may have kept its own first: either is right.
                let _ = auth.org.set((selector, org.clone(), *membership));
                (org, *membership)
            }
        };

        // A handler outside the table has no stated scope: refuse rather
        // than guess.
        let matched = parts
            .extensions
            .get::<axum::extract::MatchedPath>()
            .map(|m| m.as_str());
        let wanted = match matched.and_then(|path| crate::router::needs(&parts.method, path)) {
            Some(Needs::Token(scope)) => scope,
            Some(Needs::Nothing) | None => {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "{} {} takes a Principal but its endpoint row states no scope",
                    parts.method,
                    parts.uri.path()
                )))
            }
        };
        if !auth.token.minted.scopes.allows(wanted) {
            return Err(ApiError::Forbidden(format!(
                "The token lacks the {wanted} scope needed for this request"
            )));
        }
        Ok(Principal {
            user: auth.user.clone(),
            org,
            scopes: auth.token.minted.scopes.clone(),
            org_admin: membership.admin,
            token_id: auth.token.id,
            token_kind: auth.token.minted.kind,
            wanted,
            authenticated: Some(auth),
        })
    }
}
