//! `POST /token` (authorization code, refresh token, device code),
//! `POST /revoke_token` (RFC 7009) and `POST /introspect` (RFC 7662).

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;
use tracker_domain::{Scopes, TokenHash, TokenKind};
use tracker_store::{
    AppRecord, DeviceStatus, GrantRecord, NewGrant, NewRefreshToken, NewToken, Spent,
};

use super::session::same;
use super::{audit, mint, no_store, prefix, s256, secs, ClientAddr, FormParams, OAuthError};
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        let mut r = (StatusCode::OK, axum::Json(self)).into_response();
        no_store(&mut r);
        r
    }
}

/// Creates a grant and issues its first access token (and refresh token).
pub async fn issue_access(
    state: &AppState,
    app: &AppRecord,
    uid: i64,
    scopes: Scopes,
    flow: &str,
    with_refresh: bool,
    addr: &ClientAddr,
) -> Result<TokenResponse, OAuthError> {
    let grant = state
        .store
        .create_grant(&NewGrant {
            app_id: app.id,
            uid,
            scopes: scopes.clone(),
            flow: flow.to_owned(),
            created_at: state.clock.now(),
        })
        .await?;
    issue_in_grant(
        state,
        app,
        &grant,
        scopes,
        with_refresh,
        addr,
        "token.issued",
    )
    .await
}

async fn issue_in_grant(
    state: &AppState,
    app: &AppRecord,
    grant: &GrantRecord,
    scopes: Scopes,
    with_refresh: bool,
    addr: &ClientAddr,
    action: &str,
) -> Result<TokenResponse, OAuthError> {
    let cfg = &state.config.oauth;
    let now = state.clock.now();
    let access = TokenKind::OAuth.mint();
    let record = state
        .store
        .insert_grant_token(
            &NewToken {
                kind: TokenKind::OAuth,
                hash: TokenHash::of(&access),
                uid: grant.uid,
                scopes: scopes.clone(),
                parent_id: None,
                description: format!("{} ({})", app.name, grant.flow),
                created_at: now,
                expires_at: Some(now + secs(cfg.access_token_lifetime_secs)),
            },
            grant.id,
        )
        .await?;
    let refresh_token = if with_refresh {
        let refresh = mint(prefix::REFRESH);
        state
            .store
            .insert_refresh_token(&NewRefreshToken {
                hash: TokenHash::of(&refresh),
                grant_id: grant.id,
                access_token_id: record.id,
                scopes: scopes.clone(),
                created_at: now,
                expires_at: Some(now + secs(cfg.refresh_token_lifetime_secs)),
            })
            .await?;
        Some(refresh)
    } else {
        None
    };
    audit(
        state,
        None,
        Some(grant.uid),
        action,
        format!("token {}", record.id),
        format!(
            "client {} grant {} flow {} scopes {}",
            app.client_id,
            grant.id,
            grant.flow,
            scopes.to_list()
        ),
        addr,
    )
    .await;
    Ok(TokenResponse {
        access_token: access,
        token_type: "bearer",
        expires_in: cfg.access_token_lifetime_secs as i64,
        refresh_token,
        scope: scopes.to_list(),
    })
}

/// Client authentication (RFC 6749 §2.3): HTTP Basic or `client_id` and
/// `client_secret` in the body, never both. Public clients send their
/// `client_id` only.
pub async fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    form: &FormParams,
) -> Result<AppRecord, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
        });
    let (client_id, secret, via_basic) = match basic {
        Some(b64) => {
            if form.get("client_secret").is_some() {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method, not Basic and client_secret both",
                ));
            }
            let decoded = STANDARD
                .decode(b64)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| bad_client(true, "malformed Basic credentials"))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| bad_client(true, "malformed Basic credentials"))?;
            // RFC 6749 §2.3.1: both parts are form-urlencoded first.
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            if let Some(body_id) = form.get("client_id") {
                if body_id != decode(id) {
                    return Err(bad_client(
                        true,
                        "client_id differs from the Basic credentials",
                    ));
                }
            }
            (decode(id), Some(decode(secret)), true)
        }
        None => (
            form.get("client_id")
                .ok_or_else(|| OAuthError::new("invalid_client", "client_id is required"))?
                .to_owned(),
            form.get("client_secret").map(str::to_owned),
            false,
        ),
    };
    let app = state
        .store
        .app_by_client_id(&client_id)
        .await?
        .ok_or_else(|| bad_client(via_basic, "unknown client"))?;
    match (&app.secret_hash, secret) {
        (Some(stored), Some(given)) => {
            if !same(&stored.to_hex(), &TokenHash::of(&given).to_hex()) {
                return Err(bad_client(via_basic, "wrong client secret"));
            }
        }
        (Some(_), None) => {
            return Err(bad_client(
                via_basic,
                "this client is confidential: authenticate with its client_secret",
            ))
        }
        (None, Some(_)) => {
            return Err(bad_client(
                via_basic,
                "this client is public and has no secret",
            ))
        }
        (None, None) => {}
    }
    Ok(app)
}

fn bad_client(basic: bool, d: &str) -> OAuthError {
    let mut e = OAuthError::new("invalid_client", d);
    e.basic = basic;
    e
}

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    addr: ClientAddr,
    form: Result<FormParams, OAuthError>,
) -> Result<TokenResponse, OAuthError> {
    let form = form?;
    let grant_type = form.required("grant_type")?.to_owned();
    let known = [
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
        "device_code",
    ];
    if !known.contains(&grant_type.as_str()) {
        return Err(OAuthError::new(
            "unsupported_grant_type",
            format!("grant_type {grant_type} is not supported"),
        ));
    }
    let app = authenticate_client(&state, &headers, &form).await?;
    match grant_type.as_str() {
        "authorization_code" => authorization_code(&state, &app, &form, &addr).await,
        "refresh_token" => refresh(&state, &app, &form, &addr).await,
        // Yandex OAuth's form: `grant_type=device_code` with `code=`.
        "device_code" => {
            let code = form
                .get("code")
                .or_else(|| form.get("device_code"))
                .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
            device(&state, &app, code, &addr).await
        }
        _ => {
            let code = form.required("device_code")?;
            device(&state, &app, code, &addr).await
        }
    }
}

async fn authorization_code(
    state: &AppState,
    app: &AppRecord,
    form: &FormParams,
    addr: &ClientAddr,
) -> Result<TokenResponse, OAuthError> {
    let code = form.required("code")?;
    let now = state.clock.now();
    let record = match state
        .store
        .spend_auth_code(&TokenHash::of(code), now)
        .await?
    {
        Spent::Fresh(r) => r,
        Spent::Replayed(r) => {
            // RFC 6749 §4.1.2: a code used twice revokes what it gave.
            if let Some(grant) = r.grant_id {
                state.store.revoke_grant(grant, now).await?;
                state.auth.invalidate_all();
            }
            let why = format!("authorization code replayed by client {}", app.client_id);
            grant_revoked(state, r.uid, r.grant_id.unwrap_or_default(), why, addr).await;
            return Err(OAuthError::invalid_grant(
                "the authorization code was already used; tokens issued from it are revoked",
            ));
        }
        Spent::Unknown => return Err(OAuthError::invalid_grant("unknown authorization code")),
    };
    if record.app_id != app.id {
        return Err(OAuthError::invalid_grant(
            "the authorization code was issued to another client",
        ));
    }
    if record.expires_at <= now {
        return Err(OAuthError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    match (&record.redirect_uri, form.get("redirect_uri")) {
        (Some(expected), Some(given)) if expected == given => {}
        (Some(_), _) => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri must be the one used in the authorization request",
            ))
        }
        (None, Some(given)) if !app.redirect_uris.iter().any(|u| u == given) => {
            return Err(OAuthError::invalid_grant("redirect_uri is not registered"))
        }
        (None, _) => {}
    }
    match (&record.code_challenge, form.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            if !well_formed || !same(&s256(verifier), challenge) {
                return Err(OAuthError::invalid_grant("PKCE verification failed"));
            }
        }
        (Some(_), None) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier is required: the authorization request used PKCE",
            ))
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier sent, but the authorization request had no code_challenge",
            ))
        }
        (None, None) => {}
    }
    let grant = state
        .store
        .create_grant(&NewGrant {
            app_id: app.id,
            uid: record.uid,
            scopes: record.scopes.clone(),
            flow: "authorization_code".into(),
            created_at: now,
        })
        .await?;
    state.store.set_auth_code_grant(record.id, grant.id).await?;
    issue_in_grant(
        state,
        app,
        &grant,
        record.scopes,
        true,
        addr,
        "token.issued",
    )
    .await
}

async fn refresh(
    state: &AppState,
    app: &AppRecord,
    form: &FormParams,
    addr: &ClientAddr,
) -> Result<TokenResponse, OAuthError> {
    let token = form.required("refresh_token")?;
    let now = state.clock.now();
    let hash = TokenHash::of(token);
    // Checked before spending: another client's token must stay usable by
    // its owner.
    let Some(peek) = state.store.refresh_token_by_hash(&hash).await? else {
        return Err(OAuthError::invalid_grant("unknown refresh token"));
    };
    let grant = state
        .store
        .grant_by_id(peek.grant_id)
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("unknown refresh token"))?;
    if grant.app_id != app.id {
        return Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    if grant.revoked_at.is_some() {
        return Err(OAuthError::invalid_grant(
            "the refresh token has been revoked",
        ));
    }
    if peek.expires_at.is_some_and(|e| e <= now) {
        return Err(OAuthError::invalid_grant("the refresh token has expired"));
    }
    // Checked before spending, so a refused request costs the client nothing.
    let scopes = match form.get("scope") {
        None => peek.scopes,
        Some(s) => match Scopes::parse(s) {
            Ok(s) if !s.is_empty() && s.within(&peek.scopes) => s,
            _ => {
                return Err(OAuthError::new(
                    "invalid_scope",
                    "a refresh may only narrow the granted scopes",
                ))
            }
        },
    };
    // A federated account lives at its identity provider: a disabled
    // provider, or an account the provider no longer knows, ends it here.
    match super::federation::still_allowed(state, grant.uid).await {
        Ok(true) => {}
        Ok(false) => {
            let why = "the identity provider no longer signs this account in";
            grant_revoked(state, grant.uid, grant.id, why, addr).await;
            return Err(OAuthError::invalid_grant(
                "the account's identity provider no longer signs it in",
            ));
        }
        Err(e) => return Err(OAuthError::server(e)),
    }
    let record = match state.store.spend_refresh_token(&hash, now).await? {
        Spent::Fresh(r) => r,
        Spent::Replayed(_) => {
            // Rotation makes every refresh token single-use; a second use
            // means it leaked. The whole family goes.
            state.store.revoke_grant(grant.id, now).await?;
            state.auth.invalidate_all();
            let why = format!("refresh token replayed by client {}", app.client_id);
            grant_revoked(state, grant.uid, grant.id, why, addr).await;
            return Err(OAuthError::invalid_grant(
                "the refresh token was already used; every token of this grant is revoked",
            ));
        }
        Spent::Unknown => return Err(OAuthError::invalid_grant("unknown refresh token")),
    };
    debug_assert_eq!(record.grant_id, grant.id);
    issue_in_grant(state, app, &grant, scopes, true, addr, "token.refreshed").await
}

async fn device(
    state: &AppState,
    app: &AppRecord,
    code: &str,
    addr: &ClientAddr,
) -> Result<TokenResponse, OAuthError> {
    let now = state.clock.now();
    let Some(found) = state.store.device_by_hash(&TokenHash::of(code)).await? else {
        return Err(OAuthError::invalid_grant("unknown device code"));
    };
    if found.app_id != app.id {
        return Err(OAuthError::invalid_grant(
            "the device code was issued to another client",
        ));
    }
    if found.expires_at <= now {
        return Err(OAuthError::new(
            "expired_token",
            "the device code has expired; start again",
        ));
    }
    let (previous, rec) = state.store.poll_device(found.id, now).await?;
    match rec.status {
        DeviceStatus::Pending => {
            let too_soon =
                previous.is_some_and(|p| now - p < chrono::Duration::seconds(rec.interval_secs));
            if too_soon {
                // RFC 8628 §3.5: the interval grows by 5 seconds.
                state.store.widen_device_interval(rec.id, 5).await?;
                return Err(OAuthError::new(
                    "slow_down",
                    format!("poll at most every {} seconds", rec.interval_secs + 5),
                ));
            }
            Err(OAuthError::new(
                "authorization_pending",
                "the user has not yet entered the code",
            ))
        }
        DeviceStatus::Denied => Err(OAuthError::new("access_denied", "the user denied access")),
        DeviceStatus::Done => Err(OAuthError::invalid_grant(
            "the device code was already used",
        )),
        DeviceStatus::Approved => {
            if !state.store.finish_device(rec.id).await? {
                return Err(OAuthError::invalid_grant(
                    "the device code was already used",
                ));
            }
            let uid = rec
                .uid
                .ok_or_else(|| OAuthError::server("an approved device code has no account"))?;
            issue_access(state, app, uid, rec.scopes, "device_code", true, addr).await
        }
    }
}

/// What a presented token turns out to be, if it is the caller's.
enum Found {
    Access {
        token: tracker_store::TokenRecord,
        grant: GrantRecord,
    },
    Refresh {
        record: tracker_store::RefreshRecord,
        grant: GrantRecord,
    },
    Nothing,
    /// It exists but belongs to another client (or to none).
    Foreign,
}

async fn find_token(
    state: &AppState,
    app: &AppRecord,
    token: &str,
    hint: Option<&str>,
) -> Result<Found, OAuthError> {
    let hash = TokenHash::of(token);
    let refresh_first = hint == Some("refresh_token");
    let access = || async {
        Ok::<_, OAuthError>(match state.store.token_by_hash(&hash).await? {
            Some(t) => match state.store.grant_of_token(t.id).await? {
                Some(g) if g.app_id == app.id => Some(Found::Access { token: t, grant: g }),
                _ => Some(Found::Foreign),
            },
            None => None,
        })
    };
    let refresh = || async {
        Ok::<_, OAuthError>(match state.store.refresh_token_by_hash(&hash).await? {
            Some(r) => match state.store.grant_by_id(r.grant_id).await? {
                Some(g) if g.app_id == app.id => Some(Found::Refresh {
                    record: r,
                    grant: g,
                }),
                _ => Some(Found::Foreign),
            },
            None => None,
        })
    };
    let found = if refresh_first {
        match refresh().await? {
            Some(f) => Some(f),
            None => access().await?,
        }
    } else {
        match access().await? {
            Some(f) => Some(f),
            None => refresh().await?,
        }
    };
    Ok(found.unwrap_or(Found::Nothing))
}

/// RFC 7009. Yandex OAuth's form sends `access_token=` instead of `token=`.
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    addr: ClientAddr,
    form: Result<FormParams, OAuthError>,
) -> Result<Response, OAuthError> {
    let form = form?;
    let app = authenticate_client(&state, &headers, &form).await?;
    let token = form
        .get("token")
        .or_else(|| form.get("access_token"))
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let now = state.clock.now();
    // What was revoked, for the audit log: whose, which, and how.
    let revoked = match find_token(&state, &app, token, form.get("token_type_hint")).await? {
        Found::Access { token, grant } => {
            state.store.revoke_token(token.id, now).await?;
            Some((grant.uid, format!("token {}", token.id), "revoked"))
        }
        Found::Refresh { grant, .. } => {
            // RFC 7009 §2.1: revoking a refresh token revokes its grant.
            state.store.revoke_grant(grant.id, now).await?;
            Some((
                grant.uid,
                format!("grant {}", grant.id),
                "refresh token revoked",
            ))
        }
        Found::Foreign => {
            return Err(OAuthError::new(
                "unauthorized_client",
                "the token was not issued to this client",
            ))
        }
        // RFC 7009 §2.2: an unknown token is not an error.
        Found::Nothing => None,
    };
    if let Some((uid, target, how)) = revoked {
        state.auth.invalidate_all();
        let detail = format!("{how} by client {}", app.client_id);
        audit(
            &state,
            None,
            Some(uid),
            "token.revoked",
            target,
            detail,
            &addr,
        )
        .await;
    }
    let mut r = (
        StatusCode::OK,
        axum::Json(serde_json::json!({"status": "ok"})),
    )
        .into_response();
    no_store(&mut r);
    Ok(r)
}

/// Logs the end of a grant (`token.revoked` of `grant N`); `why` says how.
async fn grant_revoked(
    state: &AppState,
    uid: i64,
    grant: i64,
    why: impl Into<String>,
    addr: &ClientAddr,
) {
    audit(
        state,
        None,
        Some(uid),
        "token.revoked",
        format!("grant {grant}"),
        why,
        addr,
    )
    .await;
}

/// RFC 7662, answering only about the calling client's tokens.
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<FormParams, OAuthError>,
) -> Result<Response, OAuthError> {
    let form = form?;
    let app = authenticate_client(&state, &headers, &form).await?;
    let token = form.required("token")?;
    let now = state.clock.now();
    // A live token's owner, scopes, kind and times; anything else is inactive.
    let live = match find_token(&state, &app, token, form.get("token_type_hint")).await? {
        Found::Access { token: t, grant } if t.is_live(now) && grant.revoked_at.is_none() => {
            let t = t.minted;
            Some((t.uid, t.scopes, "access_token", t.created_at, t.expires_at))
        }
        Found::Refresh { record: r, grant }
            if grant.revoked_at.is_none()
                && r.used_at.is_none()
                && r.expires_at.is_none_or(|e| e > now) =>
        {
            Some((
                grant.uid,
                r.scopes,
                "refresh_token",
                r.created_at,
                r.expires_at,
            ))
        }
        _ => None,
    };
    let body = match live {
        Some((uid, scopes, token_type, created_at, expires_at)) => {
            let user = state.store.user_by_uid(uid).await?;
            serde_json::json!({
                "active": true,
                "scope": scopes.to_list(),
                "client_id": app.client_id,
                "username": user.map(|u| u.login),
                "sub": uid.to_string(),
                "token_type": token_type,
                "iat": created_at.timestamp(),
                "exp": expires_at.map(|e| e.timestamp()),
            })
        }
        None => serde_json::json!({ "active": false }),
    };
    let mut r = (StatusCode::OK, axum::Json(body)).into_response();
    no_store(&mut r);
    Ok(r)
}
