//! Federated accounts: signing in through an organization's OpenID Connect
//! identity provider (authorization code flow with PKCE, `state` bound to
//! the browser, `nonce`), creating or linking the account on the first
//! sign-in and finding it by the provider's subject afterwards.
//!
//! Built on `jsonwebtoken` (already used for service-account keys: JWK sets,
//! signature checks, `iss`/`aud`) and reqwest with rustls, rather than the
//! `openidconnect` crate: the flow needs discovery, one token request, one
//! refresh request and ID-token checks, each a few lines here, and
//! `openidconnect` would bring its own HTTP and crypto stacks to compile on
//! every machine. The checks follow OpenID Connect Core §3.1.3.7.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tracker_store::{FederationLogin, FederationProvider, LinkRule, NewUser, User};

use super::html::{self, PageError};
use super::session::{cookie, safe_next, set_cookie};
use super::{audit, mint, s256, ClientAddr};
use crate::extract::base_url;
use crate::state::AppState;

/// `[federation]` in the configuration file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct FederationConfig {
    /// Each request to an identity provider (discovery, keys, tokens) must
    /// answer within this many seconds.
    pub http_timeout_secs: u64,
    /// A provider's keys are fetched again for an unknown `kid` at most this
    /// often, so tokens naming made-up keys cannot make trackerd hammer it.
    pub jwks_refetch_min_secs: u64,
    /// How long a browser may take at the provider.
    pub login_lifetime_secs: u64,
    /// How far a provider's clock may be from trackerd's.
    pub clock_skew_secs: u64,
}

impl Default for FederationConfig {
    fn default() -> Self {
        Self {
            http_timeout_secs: 10,
            jwks_refetch_min_secs: 60,
            login_lifetime_secs: 600,
            clock_skew_secs: 60,
        }
    }
}

/// The cookie that binds a sign-in under way to the browser that started it.
pub const BROWSER_COOKIE: &str = "trackerd_federation";

/// What a node remembers of providers: their discovery documents and keys.
pub struct FederationCache {
    http: reqwest::Client,
    providers: Mutex<HashMap<String, Known>>,
}

#[derive(Clone)]
struct Known {
    meta: Metadata,
    keys: Option<JwkSet>,
    keys_fetched: Option<Instant>,
    meta_fetched: Instant,
}

/// How long a discovery document is trusted before it is read again.
const METADATA_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Deserialize)]
struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    #[error("the identity provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the identity provider answered badly: {0}")]
    BadAnswer(String),
    #[error("the ID token was refused: {0}")]
    Refused(String),
}

impl FederationCache {
    pub fn new(cfg: &FederationConfig) -> anyhow::Result<Self> {
        let timeout = Duration::from_secs(cfg.http_timeout_secs.max(1));
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // The provider's answers are read, never followed elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            http,
            providers: Mutex::new(HashMap::new()),
        })
    }

    fn known(&self, issuer: &str) -> Option<Known> {
        self.providers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(issuer)
            .cloned()
    }

    fn remember(&self, issuer: &str, k: Known) {
        self.providers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(issuer.to_owned(), k);
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<T, FederationError> {
        let r = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| FederationError::Unreachable(format!("{url}: {e}")))?;
        if !r.status().is_success() {
            return Err(FederationError::BadAnswer(format!(
                "{url} answered {}",
                r.status()
            )));
        }
        r.json()
            .await
            .map_err(|e| FederationError::BadAnswer(format!("{url}: {e}")))
    }

    /// The provider's discovery document (OpenID Connect Discovery §4),
    /// whose `issuer` must be the configured one exactly (§4.3).
    async fn metadata(&self, issuer: &str) -> Result<Metadata, FederationError> {
        if let Some(k) = self.known(issuer) {
            if k.meta_fetched.elapsed() < METADATA_TTL {
                return Ok(k.meta);
            }
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let meta: Metadata = self.get_json(&url).await?;
        if meta.issuer != issuer {
            return Err(FederationError::BadAnswer(format!(
                "the discovery document names issuer {:?}, not {issuer:?}",
                meta.issuer
            )));
        }
        let previous = self.known(issuer);
        self.remember(
            issuer,
            Known {
                meta: meta.clone(),
                keys: previous.as_ref().and_then(|p| p.keys.clone()),
                keys_fetched: previous.and_then(|p| p.keys_fetched),
                meta_fetched: Instant::now(),
            },
        );
        Ok(meta)
    }

    /// The key `kid` names. An unknown `kid` (the provider rotated its keys)
    /// fetches the set again, at most once per `min_refetch`.
    async fn key(
        &self,
        issuer: &str,
        kid: Option<&str>,
        min_refetch: Duration,
    ) -> Result<jsonwebtoken::jwk::Jwk, FederationError> {
        let meta = self.metadata(issuer).await?;
        let find = |set: &JwkSet| match kid {
            Some(kid) => set.find(kid).cloned(),
            // Without a `kid` only a set of one key says which it is.
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        };
        let known = self.known(issuer);
        if let Some(found) = known.as_ref().and_then(|k| k.keys.as_ref()).and_then(find) {
            return Ok(found);
        }
        let recently = known
            .as_ref()
            .and_then(|k| k.keys_fetched)
            .is_some_and(|at| at.elapsed() < min_refetch);
        if recently {
            return Err(FederationError::Refused(
                "signed with a key the provider does not publish".into(),
            ));
        }
        let set: JwkSet = self.get_json(&meta.jwks_uri).await?;
        let found = find(&set);
        self.remember(
            issuer,
            Known {
                meta,
                keys: Some(set),
                keys_fetched: Some(Instant::now()),
                meta_fetched: known.map_or_else(Instant::now, |k| k.meta_fetched),
            },
        );
        found.ok_or_else(|| {
            FederationError::Refused("signed with a key the provider does not publish".into())
        })
    }

    /// Posts to the provider's token endpoint as the confidential client
    /// (`client_secret_basic`, the OpenID Connect default).
    async fn token_request(
        &self,
        provider: &FederationProvider,
        form: &[(&str, &str)],
    ) -> Result<TokenAnswer, TokenFailure> {
        let meta = self
            .metadata(&provider.issuer)
            .await
            .map_err(TokenFailure::Other)?;
        let r = self
            .http
            .post(&meta.token_endpoint)
            .basic_auth(
                form_encode(&provider.client_id),
                Some(form_encode(&provider.client_secret)),
            )
            .form(form)
            .send()
            .await
            .map_err(|e| TokenFailure::Other(FederationError::Unreachable(e.to_string())))?;
        let status = r.status();
        if status == reqwest::StatusCode::BAD_REQUEST || status == reqwest::StatusCode::UNAUTHORIZED
        {
            let body: Value = r.json().await.unwrap_or(Value::Null);
            return Err(TokenFailure::Refused(
                body["error"].as_str().unwrap_or("refused").to_owned(),
            ));
        }
        if !status.is_success() {
            return Err(TokenFailure::Other(FederationError::BadAnswer(format!(
                "the token endpoint answered {status}"
            ))));
        }
        r.json()
            .await
            .map_err(|e| TokenFailure::Other(FederationError::BadAnswer(e.to_string())))
    }
}

/// RFC 6749 §2.3.1: the client id and secret are form-encoded before they
/// go into HTTP Basic.
fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
    refresh_token: Option<String>,
}

enum TokenFailure {
    /// The provider said no (`invalid_grant`, …): the code or refresh
    /// token is not good, or the account is gone.
    Refused(String),
    Other(FederationError),
}

fn hash(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn redirect_uri(state: &AppState, headers: &HeaderMap) -> String {
    format!(
        "{}/federation/callback",
        base_url(&state.config, headers).trim_end_matches('/')
    )
}

fn refused(title: &'static str, message: impl Into<String>) -> PageError {
    PageError::refused(StatusCode::FORBIDDEN, title, message)
}

#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// `GET /federation/{id}/start`: sends the browser to the provider.
pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<StartQuery>,
) -> Result<Response, PageError> {
    let provider = match state.store.federation_provider(&id).await? {
        Some(p) if p.enabled => p,
        _ => {
            return Err(PageError::refused(
                StatusCode::NOT_FOUND,
                "Unknown identity provider",
                "No identity provider with this id is enabled here.",
            ))
        }
    };
    let meta = state
        .federation
        .metadata(&provider.issuer)
        .await
        .map_err(unreachable)?;
    let now = state.clock.now();
    let st = mint("");
    let nonce = mint("");
    let verifier = mint("");
    let browser = mint("");
    state
        .store
        .insert_federation_login(&FederationLogin {
            state_hash: hash(&st),
            browser_hash: hash(&browser),
            provider: provider.id,
            nonce: nonce.clone(),
            verifier: verifier.clone(),
            next: safe_next(q.next.as_deref()),
            created_at: now,
            expires_at: now + super::secs(state.config.federation.login_lifetime_secs),
        })
        .await?;
    let mut url = url::Url::parse(&meta.authorization_endpoint)
        .map_err(|e| PageError::internal(format!("the provider's authorization endpoint: {e}")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &provider.client_id)
        .append_pair("redirect_uri", &redirect_uri(&state, &headers))
        .append_pair("scope", &provider.scopes)
        .append_pair("state", &st)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &s256(&verifier))
        .append_pair("code_challenge_method", "S256");
    let mut r = super::session::see_other(url.as_str());
    set_cookie(&mut r, &state, &headers, BROWSER_COOKIE, &browser, None);
    Ok(r)
}

fn unreachable(e: FederationError) -> PageError {
    PageError::Internal {
        cause: e.to_string(),
        message: "The identity provider could not be reached. Try again later.",
    }
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /federation/callback`: the provider sends the browser back here.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    addr: ClientAddr,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, PageError> {
    const TITLE: &str = "Sign-in refused";
    let now = state.clock.now();
    let (Some(st), Some(browser)) = (q.state.as_deref(), cookie(&headers, BROWSER_COOKIE)) else {
        return Err(refused(
            TITLE,
            "This sign-in was not started in this browser. Start again from the sign-in page.",
        ));
    };
    let Some(login) = state
        .store
        .spend_federation_login(&hash(st), &hash(&browser), now)
        .await?
    else {
        return Err(refused(
            TITLE,
            "This sign-in is unknown, was already used, or was started in another browser. \
             Start again from the sign-in page.",
        ));
    };
    if login.expires_at <= now {
        return Err(refused(TITLE, "This sign-in took too long. Start again."));
    }
    let provider = match state
        .store
        .federation_provider_by_id(login.provider)
        .await?
    {
        Some(p) if p.enabled => p,
        _ => return Err(refused(TITLE, "This identity provider is disabled.")),
    };
    if let Some(e) = q.error {
        return Err(refused(TITLE, format!("{} answered: {e}", provider.name)));
    }
    let Some(code) = q.code else {
        return Err(refused(TITLE, "The identity provider sent no code."));
    };
    let answer = match state
        .federation
        .token_request(
            &provider,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &redirect_uri(&state, &headers)),
                ("code_verifier", &login.verifier),
            ],
        )
        .await
    {
        Ok(a) => a,
        Err(TokenFailure::Refused(e)) => {
            return Err(refused(
                TITLE,
                format!("{} refused the sign-in code ({e}).", provider.name),
            ))
        }
        Err(TokenFailure::Other(e)) => return Err(unreachable(e)),
    };
    let Some(id_token) = answer.id_token else {
        return Err(refused(TITLE, "The identity provider sent no ID token."));
    };
    let claims = match verify_id_token(&state, &provider, &id_token, &login.nonce).await {
        Ok(c) => c,
        Err(FederationError::Refused(why)) => {
            audit(
                &state,
                Some(provider.org),
                None,
                "signin.denied",
                &provider.public_id,
                format!("federated: {why}"),
                &addr,
            )
            .await;
            return Err(refused(TITLE, format!("The ID token was refused: {why}.")));
        }
        Err(e) => return Err(unreachable(e)),
    };
    let user = account_for(&state, &provider, &claims, answer.refresh_token.as_deref()).await?;
    let mut r = super::authorize::start_session(
        &state,
        &headers,
        &user,
        &login.next,
        &addr,
        &format!("federated: {}", provider.public_id),
    )
    .await?;
    // The binding cookie has done its work.
    set_cookie(&mut r, &state, &headers, BROWSER_COOKIE, "", Some(0));
    Ok(r)
}

/// Checks the ID token as OpenID Connect Core §3.1.3.7 says: a signature by
/// a key the provider publishes, with one of the provider's configured
/// algorithms; `iss`, `aud` (and `azp`), `exp`, `iat` and `nonce`.
async fn verify_id_token(
    state: &AppState,
    provider: &FederationProvider,
    token: &str,
    nonce: &str,
) -> Result<Map<String, Value>, FederationError> {
    let bad = |why: &str| FederationError::Refused(why.to_owned());
    let header = jsonwebtoken::decode_header(token).map_err(|_| bad("it is not a signed JWT"))?;
    let allowed = algorithms(&provider.algorithms);
    if !allowed.contains(&header.alg) {
        return Err(bad(
            "it is signed with an algorithm this provider may not use",
        ));
    }
    let cfg = &state.config.federation;
    let jwk = state
        .federation
        .key(
            &provider.issuer,
            header.kid.as_deref(),
            Duration::from_secs(cfg.jwks_refetch_min_secs),
        )
        .await?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| bad("the provider's key is unusable"))?;
    let mut v = Validation::new(header.alg);
    v.set_audience(&[&provider.client_id]);
    v.set_issuer(&[&provider.issuer]);
    // Lifetimes are checked below on trackerd's clock.
    v.validate_exp = false;
    v.required_spec_claims = ["iss", "aud", "sub"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &v).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::InvalidAudience => bad("it was issued for another client"),
            ErrorKind::InvalidIssuer => bad("it was issued by another issuer"),
            ErrorKind::InvalidSignature => bad("its signature does not verify"),
            _ => bad("it is malformed"),
        }
    })?;
    let claims = data.claims;
    // Several audiences: the authorized party must be this client (§3.1.3.7 item 5).
    if let Some(azp) = claims.get("azp").and_then(Value::as_str) {
        if azp != provider.client_id {
            return Err(bad("it was issued to another client"));
        }
    }
    let now = state.clock.now().timestamp();
    let skew = cfg.clock_skew_secs as i64;
    let exp = claims.get("exp").and_then(Value::as_i64);
    let iat = claims.get("iat").and_then(Value::as_i64);
    match (exp, iat) {
        (Some(exp), Some(iat)) if exp + skew > now && iat - skew <= now => {}
        (Some(_), Some(_)) => return Err(bad("it has expired or is not valid yet")),
        _ => return Err(bad("it has no exp or iat")),
    }
    let sent = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
    if !super::session::same(sent, nonce) {
        return Err(bad("its nonce is not this sign-in's"));
    }
    Ok(claims)
}

/// The provider's configured algorithms; unknown names allow nothing.
fn algorithms(list: &str) -> Vec<Algorithm> {
    list.split_whitespace()
        .filter_map(|a| a.parse::<Algorithm>().ok())
        .collect()
}

/// Whether `list` names only algorithms an ID token may be checked with.
pub fn valid_algorithms(list: &str) -> bool {
    let names: Vec<&str> = list.split_whitespace().collect();
    !names.is_empty()
        && names
            .iter()
            .all(|a| a.parse::<Algorithm>().is_ok() && !a.starts_with("HS"))
}

fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The account the claims sign in: the one bound to the subject, or (first
/// sign-in) one linked by the provider's rule or created.
async fn account_for(
    state: &AppState,
    provider: &FederationProvider,
    claims: &Map<String, Value>,
    refresh: Option<&str>,
) -> Result<User, PageError> {
    const TITLE: &str = "Sign-in refused";
    let now = state.clock.now();
    let Some(subject) = claim(claims, "sub") else {
        return Err(refused(TITLE, "The ID token names no subject."));
    };
    let store = &state.store;
    if let Some(identity) = store.federated_identity(provider.id, subject).await? {
        let user = store
            .user_by_uid(identity.uid)
            .await?
            .filter(|u| !u.dismissed);
        let member = match &user {
            Some(u) => store.membership(provider.org, u.uid).await?.is_some(),
            None => false,
        };
        return match user {
            Some(u) if member => {
                store
                    .touch_federated_identity(identity.id, refresh, now)
                    .await?;
                Ok(u)
            }
            _ => Err(refused(
                TITLE,
                "Your account here is disabled or no longer belongs to the organization.",
            )),
        };
    }
    let login = claim(claims, &provider.login_claim);
    let email = claim(claims, &provider.email_claim).unwrap_or("");
    let verified = claims.get("email_verified").and_then(Value::as_bool) == Some(true);
    let candidate = match provider.link_rule {
        LinkRule::Create => None,
        LinkRule::Email if verified && !email.is_empty() => {
            store.member_by_email(provider.org, email).await?
        }
        LinkRule::Email => None,
        LinkRule::Login => match login {
            Some(l) => match store.user_by_login(l).await? {
                Some(u) if store.membership(provider.org, u.uid).await?.is_some() => Some(u),
                _ => None,
            },
            None => None,
        },
    };
    if let Some(u) = candidate {
        // An account that belongs to another organization too would let this
        // organization's provider sign someone into that one.
        let orgs = store.memberships_of(u.uid).await?;
        if u.dismissed || orgs.iter().any(|m| m.org != provider.org) {
            return Err(refused(
                TITLE,
                "The account this sign-in would be linked to cannot be: ask an administrator.",
            ));
        }
        store
            .link_federated_identity(provider.id, subject, u.uid, refresh, now)
            .await?;
        return Ok(u);
    }
    let Some(login) = login.filter(|l| crate::admin::ops::valid_login(l)) else {
        return Err(refused(
            TITLE,
            format!(
                "The identity provider sent no usable login (claim {}).",
                provider.login_claim
            ),
        ));
    };
    let new = NewUser {
        login: login.to_owned(),
        cloud_uid: crate::ids::cloud_style_id("aje"),
        first_name: claim(claims, &provider.first_name_claim)
            .unwrap_or("")
            .to_owned(),
        last_name: claim(claims, &provider.last_name_claim)
            .unwrap_or("")
            .to_owned(),
        email: email.to_owned(),
        password_hash: None,
        created_at: now,
    };
    match store
        .create_federated_account(provider, subject, &new, refresh)
        .await
    {
        Ok(u) => Ok(u),
        Err(tracker_store::StoreError::Conflict(_)) => Err(refused(
            TITLE,
            format!("The login {login} is taken by another account here: ask an administrator."),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Whether a federated account may keep using trackerd's refresh token:
/// each of its providers must be enabled and, where trackerd kept the
/// provider's refresh token, the provider must still accept it (the account
/// still exists there). When not, the account's sessions and tokens end.
/// `Err` is a failure to ask, not a refusal.
pub async fn still_allowed(state: &AppState, uid: i64) -> Result<bool, FederationError> {
    let store = &state.store;
    let fail = |e: tracker_store::StoreError| FederationError::Unreachable(e.to_string());
    let now = state.clock.now();
    for identity in store.federated_identities_of(uid).await.map_err(fail)? {
        let provider = store
            .federation_provider_by_id(identity.provider)
            .await
            .map_err(fail)?;
        let ok = match (&provider, &identity.refresh_token) {
            (Some(p), _) if !p.enabled => false,
            (None, _) => false,
            (Some(p), Some(rt)) => match state
                .federation
                .token_request(p, &[("grant_type", "refresh_token"), ("refresh_token", rt)])
                .await
            {
                Ok(a) => {
                    store
                        .touch_federated_identity(identity.id, a.refresh_token.as_deref(), now)
                        .await
                        .map_err(fail)?;
                    true
                }
                Err(TokenFailure::Refused(_)) => false,
                Err(TokenFailure::Other(e)) => return Err(e),
            },
            (Some(_), None) => true,
        };
        if !ok {
            store.end_account_access(uid, now).await.map_err(fail)?;
            state.auth.invalidate_all();
            return Ok(false);
        }
    }
    Ok(true)
}

/// The sign-in page's buttons: every enabled provider.
pub async fn signin_links(state: &AppState, next: &str) -> String {
    let providers = match state.store.list_federation_providers(None).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "listing identity providers");
            return String::new();
        }
    };
    let next = form_encode(next);
    let links: String = providers
        .iter()
        .filter(|p| p.enabled)
        .map(|p| {
            format!(
                "<li><a id=\"federation-{id}\" href=\"/federation/{href}/start?next={next}\">\
                 Sign in with {name}</a></li>",
                id = html::esc(&p.public_id),
                href = html::esc(&form_encode(&p.public_id)),
                name = html::esc(&p.name),
            )
        })
        .collect();
    if links.is_empty() {
        String::new()
    } else {
        format!("<ul id=\"federations\">{links}</ul>")
    }
}
