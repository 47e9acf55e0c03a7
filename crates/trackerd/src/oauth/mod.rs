//! trackerd as an OAuth 2.0 authorization server, at the paths Yandex OAuth
//! uses (`/authorize`, `/token`, `/device/code`, `/revoke_token`), plus RFC
//! 8414 metadata, RFC 7662 introspection, the sign-in, consent, device and
//! account pages, service accounts with authorized keys, and the audit trail.
//! See docs/auth.md.

pub mod account;
pub mod apps;
pub mod audit_trail;
pub mod authorize;
pub mod device;
pub mod federation;
pub mod html;
pub mod iam_token;
pub mod service_accounts;
mod session;
pub mod token;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracker_domain::{Scope, Scopes};
use tracker_store::NewAuditEvent;

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::state::AppState;

/// Lifetimes and sign-in limits (`[oauth]` in the configuration file,
/// `TRACKERD_OAUTH__…` in the environment).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthConfig {
    /// Access tokens issued to applications. Yandex OAuth's default is a year.
    pub access_token_lifetime_secs: u64,
    pub refresh_token_lifetime_secs: u64,
    pub code_lifetime_secs: u64,
    pub device_code_lifetime_secs: u64,
    /// The minimum polling interval a device is told to keep.
    pub device_poll_interval_secs: u64,
    /// Browser sessions after signing in.
    pub session_lifetime_secs: u64,
    /// Failed sign-ins within `signin_window_secs` that lock an account…
    pub signin_max_failures_per_account: i64,
    /// …and a source address.
    pub signin_max_failures_per_address: i64,
    pub signin_window_secs: u64,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        Self {
            access_token_lifetime_secs: 365 * 24 * 3600,
            refresh_token_lifetime_secs: 2 * 365 * 24 * 3600,
            code_lifetime_secs: 600,
            device_code_lifetime_secs: 600,
            device_poll_interval_secs: 5,
            session_lifetime_secs: 12 * 3600,
            signin_max_failures_per_account: 5,
            signin_max_failures_per_address: 20,
            signin_window_secs: 15 * 60,
        }
    }
}

impl OAuthConfig {
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            (
                "access_token_lifetime_secs",
                self.access_token_lifetime_secs,
            ),
            (
                "refresh_token_lifetime_secs",
                self.refresh_token_lifetime_secs,
            ),
            ("code_lifetime_secs", self.code_lifetime_secs),
            ("device_code_lifetime_secs", self.device_code_lifetime_secs),
            ("device_poll_interval_secs", self.device_poll_interval_secs),
            ("session_lifetime_secs", self.session_lifetime_secs),
            ("signin_window_secs", self.signin_window_secs),
        ] {
            // Beyond ~100 years chrono's arithmetic is not worth the risk.
            if v == 0 || v > 100 * 365 * 24 * 3600 {
                return Err(format!("oauth.{name} must be between 1 and 3153600000"));
            }
        }
        if self.signin_max_failures_per_account < 1 || self.signin_max_failures_per_address < 1 {
            return Err("oauth.signin_max_failures_* must be 1 or more".into());
        }
        Ok(())
    }
}

pub(crate) fn secs(s: u64) -> chrono::Duration {
    chrono::Duration::seconds(s as i64)
}

/// Service accounts and the audit trail are the administrators' alone.
pub(crate) fn require_org_admin(p: &Principal) -> ApiResult<()> {
    p.require_org_admin(
        "Only organization administrators manage service accounts and read the audit trail",
    )
}

/// A fresh secret: `prefix` and 256 random bits, URL-safe.
pub(crate) fn mint(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Prefixes of the secrets the authorization server mints, so a leaked one
/// can be recognised (access tokens are `y0_`, IAM tokens `t1.`).
pub(crate) mod prefix {
    pub const CLIENT_SECRET: &str = "cs_";
    pub const CODE: &str = "ac_";
    pub const REFRESH: &str = "y1_";
    pub const DEVICE_CODE: &str = "dc_";
    pub const SESSION: &str = "ws_";
    pub const CSRF: &str = "cf_";
}

/// A client id: 32 hex digits, like Yandex OAuth's. Not a secret.
pub(crate) fn new_client_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The PKCE S256 transform (RFC 7636 §4.2).
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// What the consent pages say each scope allows: Tracker's own, then the
/// other Yandex scopes, which trackerd records and which allow nothing here.
pub(crate) fn scope_labels(s: &Scopes) -> Vec<String> {
    s.to_list()
        .split(' ')
        .filter(|n| !n.is_empty())
        .map(|n| match n.parse::<Scope>() {
            Ok(tracker) => scope_label(tracker).to_owned(),
            Err(_) => format!("{n} (another Yandex service's scope: no access to Tracker)"),
        })
        .collect()
}

pub(crate) fn scope_label(s: Scope) -> &'static str {
    match s {
        Scope::Read => "Read issues, queues and users in Tracker (tracker:read)",
        Scope::Write => "Create and change issues and queues in Tracker (tracker:write)",
    }
}

/// The source address of the request, for the audit trail and the
/// per-address sign-in lock. Behind a proxy this is the proxy.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "unknown".into()),
        ))
    }
}

/// One entry of the audit trail. A failure to write it is logged, not
/// answered: the action itself already happened.
pub(crate) async fn audit(
    state: &AppState,
    org: Option<i64>,
    uid: Option<i64>,
    action: &str,
    target: impl Into<String>,
    detail: impl Into<String>,
    ip: &ClientAddr,
) {
    let event = NewAuditEvent {
        at: state.clock.now(),
        org,
        uid,
        action: action.to_owned(),
        target: target.into(),
        detail: detail.into(),
        ip: ip.0.clone(),
    };
    if let Err(e) = state.store.insert_audit_event(&event).await {
        tracing::error!(error = %e, action, "could not write an audit event");
    }
}

/// [`audit`] of what a user did to their own account on the sign-in pages:
/// no organization, and the login is the target.
pub(crate) async fn audit_user(
    state: &AppState,
    user: &tracker_store::User,
    action: &str,
    detail: &str,
    ip: &ClientAddr,
) {
    audit(state, None, Some(user.uid), action, &user.login, detail, ip).await
}

/// [`audit`] of an action the API's caller took: its organization and
/// account are the entry's.
pub(crate) async fn audit_by(
    cx: &crate::extract::Api,
    action: &str,
    target: impl Into<String>,
    detail: impl Into<String>,
    ip: &ClientAddr,
) {
    let (org, uid) = (cx.principal.org.id, cx.principal.user.uid);
    audit(&cx.state, Some(org), Some(uid), action, target, detail, ip).await
}

/// An RFC 6749 §5.2 error answer (also used by RFC 7009, 7662 and 8628).
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    /// The client tried HTTP Basic: `401` carries a Basic challenge.
    pub basic: bool,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        let status = match error {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        Self {
            status,
            error,
            description: description.into(),
            basic: false,
        }
    }

    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new("invalid_request", d)
    }

    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new("invalid_grant", d)
    }

    pub fn server(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error in the authorization server");
        Self::new("server_error", "internal error")
    }
}

impl From<tracker_store::StoreError> for OAuthError {
    fn from(e: tracker_store::StoreError) -> Self {
        OAuthError::server(e)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": self.error,
            "error_description": self.description,
        });
        let mut r = (self.status, axum::Json(body)).into_response();
        no_store(&mut r);
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = if self.basic {
                r#"Basic realm="trackerd""#
            } else {
                r#"Bearer realm="trackerd""#
            };
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        r
    }
}

/// Answers that carry secrets must not be cached (RFC 6749 §5.1).
pub(crate) fn no_store(r: &mut Response) {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// An `application/x-www-form-urlencoded` body as name/value pairs. RFC 6749
/// §3.1: parameters must not repeat. At most `limits.form_params` of them
/// (every form of the authorization server has fewer than twenty).

#[derive(Debug, Default)]
pub struct FormParams(pub Vec<(String, String)>);

impl FormParams {
    pub fn parse(body: &[u8], max: usize) -> Result<Self, OAuthError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        // A set, not a scan of the pairs so far: with a scan, 230 000
        // parameters took a worker 50 s before any credential was looked at.
        let mut seen = std::collections::HashSet::new();
        for (k, v) in url::form_urlencoded::parse(body) {
            if pairs.len() == max {
                return Err(OAuthError::invalid_request(format!(
                    "more than {max} parameters (limits.form_params)"
                )));
            }
            if k.contains('\0') || v.contains('\0') {
                return Err(OAuthError::invalid_request(
                    "parameters must not contain NUL characters",
                ));
            }
            if !seen.insert(k.clone().into_owned()) {
                return Err(OAuthError::invalid_request(format!(
                    "the parameter {k} is repeated"
                )));
            }
            pairs.push((k.into_owned(), v.into_owned()));
        }
        Ok(Self(pairs))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A parameter the request must carry: `invalid_request` without it.
    pub fn required(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
    }
}

impl axum::extract::FromRequest<AppState> for FormParams {
    type Rejection = OAuthError;

    async fn from_request(
        req: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, OAuthError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| OAuthError::invalid_request(format!("unreadable body: {e}")))?;
        FormParams::parse(&bytes, state.config.limits.form_params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_settings_come_from_an_oauth_table_and_zero_lifetimes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("trackerd.toml");
        std::fs::write(&file, "[oauth]\ncode_lifetime_secs = 120\n").unwrap();
        let c = crate::Config::load(Some(&file), &Default::default()).unwrap();
        assert_eq!(c.oauth.code_lifetime_secs, 120);
        assert_eq!(c.oauth.device_poll_interval_secs, 5);
        std::fs::write(&file, "[oauth]\ncode_lifetime_secs = 0\n").unwrap();
        assert!(crate::Config::load(Some(&file), &Default::default()).is_err());
        std::fs::write(&file, "[oauth]\ncode_lifetime = 1\n").unwrap();
        assert!(crate::Config::load(Some(&file), &Default::default()).is_err());
    }

    #[test]
    fn s256_matches_the_rfc_7636_example() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn write_is_not_within_read_but_read_is_within_write() {
        assert!(Scopes::READ_ONLY.within(&Scopes::READ_WRITE));
        assert!(!Scopes::READ_WRITE.within(&Scopes::READ_ONLY));
    }

    #[test]
    fn repeated_form_parameters_are_refused() {
        assert!(FormParams::parse(b"a=1&b=2", 100).is_ok());
        assert!(FormParams::parse(b"a=1&a=2", 100).is_err());
    }

    #[test]
    fn minted_secrets_carry_their_prefix_and_differ() {
        let a = mint(prefix::REFRESH);
        assert!(a.starts_with("y1_"));
        assert_ne!(a, mint(prefix::REFRESH));
        assert_eq!(new_client_id().len(), 32);
    }
}
