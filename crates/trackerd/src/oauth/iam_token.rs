//! `POST /iam/v1/tokens`: a short-lived IAM token in exchange for an OAuth
//! token, or for a JWT signed with a service account's authorized key.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::SecondsFormat;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tracker_api::{CreateIamTokenRequest, CreateIamTokenResponse};
use tracker_domain::{Credential, TokenHash, TokenKind};
use tracker_store::NewToken;

use super::{audit, ClientAddr};

use crate::auth::authenticate;
use crate::error::{ApiError, ApiResult};
use crate::extract::{base_url, json, ApiJson};
use crate::state::AppState;

pub async fn create_token(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    addr: ClientAddr,
    ApiJson(body): ApiJson<CreateIamTokenRequest>,
) -> ApiResult<Response> {
    let oauth = match (body.yandex_passport_oauth_token, body.jwt) {
        (Some(t), None) if !t.trim().is_empty() => t,
        (None, Some(jwt)) => return exchange_jwt(&state, &headers, &addr, &jwt).await,
        _ => {
            return Err(ApiError::BadRequest(
                "The body must carry exactly one of yandexPassportOauthToken or jwt".into(),
            ))
        }
    };
    let parent = authenticate(&state, &Credential::OAuth(oauth)).await?;

    let now = state.clock.now();
    let lifetime = chrono::Duration::seconds(state.config.iam_token_lifetime_secs as i64);
    // An IAM token never outlives the token it came from.
    let expires_at = match parent.token.minted.expires_at {
        Some(parent_expiry) => (now + lifetime).min(parent_expiry),
        None => now + lifetime,
    };
    let secret = TokenKind::Iam.mint();
    state
        .store
        .insert_token(&NewToken {
            kind: TokenKind::Iam,
            hash: TokenHash::of(&secret),
            uid: parent.user.uid,
            scopes: parent.token.minted.scopes.clone(),
            parent_id: Some(parent.token.id),
            description: "IAM token".into(),
            created_at: now,
            expires_at: Some(expires_at),
        })
        .await?;
    tracing::info!(
        uid = parent.user.uid,
        parent = parent.token.id,
        "issued an IAM token"
    );
    Ok(json(
        StatusCode::OK,
        &CreateIamTokenResponse {
            iam_token: secret,
            expires_at: expires_at.to_rfc3339_opts(SecondsFormat::Nanos, true),
        },
    ))
}

#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    iat: i64,
    exp: i64,
}

fn unauthorized(msg: &str) -> ApiError {
    ApiError::Unauthorized(format!("Invalid JWT: {msg}"))
}

/// The audience a JWT must name: this server's IAM token URL.
pub fn iam_audience(state: &AppState, headers: &HeaderMap) -> String {
    format!("{}/iam/v1/tokens", base_url(&state.config, headers))
}

/// `POST /iam/v1/tokens` with `{"jwt": …}`: a service account's signed
/// request (PS256, `kid` = key id, `iss` = service account id, `aud` = this
/// server's IAM URL, at most an hour between `iat` and `exp`).
pub async fn exchange_jwt(
    state: &AppState,
    headers: &HeaderMap,
    addr: &ClientAddr,
    jwt: &str,
) -> ApiResult<Response> {
    let header = jsonwebtoken::decode_header(jwt).map_err(|_| unauthorized("malformed"))?;
    if header.alg != Algorithm::PS256 {
        return Err(unauthorized("the algorithm must be PS256"));
    }
    let kid = header.kid.ok_or_else(|| unauthorized("kid is missing"))?;
    let key = state
        .store
        .service_account_key(&kid)
        .await?
        .ok_or_else(|| unauthorized("unknown key"))?;
    let sa = state
        .store
        .service_account_by_uid(key.sa_uid)
        .await?
        .ok_or_else(|| unauthorized("unknown key"))?;
    let decoding = DecodingKey::from_rsa_pem(key.public_key_pem.as_bytes())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("stored key {kid} unreadable: {e}")))?;
    let mut validation = Validation::new(Algorithm::PS256);
    // Time is checked below against the server's clock.
    validation.validate_exp = false;
    validation.required_spec_claims = ["iss", "aud", "exp"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    validation.set_audience(&[iam_audience(state, headers)]);
    validation.set_issuer(&[sa.sa_id.as_str()]);
    let data = jsonwebtoken::decode::<Claims>(jwt, &decoding, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        unauthorized(match e.kind() {
            ErrorKind::InvalidSignature => "bad signature",
            ErrorKind::InvalidAudience => "aud must be this server's /iam/v1/tokens URL",
            ErrorKind::InvalidIssuer => "iss must be the key's service account id",
            ErrorKind::MissingRequiredClaim(_) => "iss, aud, iat and exp are required",
            _ => "malformed",
        })
    })?;
    let claims = data.claims;
    debug_assert_eq!(claims.iss, sa.sa_id);
    let now = state.clock.now().timestamp();
    if claims.exp <= now {
        return Err(unauthorized("expired"));
    }
    if claims.iat > now + 60 {
        return Err(unauthorized("issued in the future"));
    }
    if claims.exp - claims.iat > 3600 || claims.exp <= claims.iat {
        return Err(unauthorized("exp - iat must be at most one hour"));
    }
    let user = state
        .store
        .user_by_uid(sa.uid)
        .await?
        .filter(|u| !u.dismissed)
        .ok_or_else(|| unauthorized("the service account is disabled"))?;

    let now = state.clock.now();
    let expires_at = now + chrono::Duration::seconds(state.config.iam_token_lifetime_secs as i64);
    let secret = TokenKind::Iam.mint();
    let token = state
        .store
        .insert_token(&NewToken {
            kind: TokenKind::Iam,
            hash: TokenHash::of(&secret),
            uid: user.uid,
            scopes: sa.scopes,
            parent_id: None,
            description: format!("IAM token from key {kid}"),
            created_at: now,
            expires_at: Some(expires_at),
        })
        .await?;
    audit(
        state,
        Some(sa.org),
        Some(sa.uid),
        "token.issued",
        format!("token {}", token.id),
        format!("IAM token for service account {} from key {kid}", sa.sa_id),
        addr,
    )
    .await;
    Ok(json(
        StatusCode::OK,
        &CreateIamTokenResponse {
            iam_token: secret,
            expires_at: expires_at.to_rfc3339_opts(SecondsFormat::Nanos, true),
        },
    ))
}
