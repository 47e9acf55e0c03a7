//! `POST /iam/v1/tokens`: exchanges an OAuth token for a short-lived IAM token.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::SecondsFormat;
use tracker_api::{CreateIamTokenRequest, CreateIamTokenResponse};
use tracker_domain::{Credential, TokenHash, TokenKind};
use tracker_store::NewToken;

use crate::app::{json, ApiJson, AppState};
use crate::auth::authenticate;
use crate::error::{ApiError, ApiResult};

pub async fn create_token(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    addr: crate::oauth::ClientAddr,
    ApiJson(body): ApiJson<CreateIamTokenRequest>,
) -> ApiResult<Response> {
    let oauth = match (body.yandex_passport_oauth_token, body.jwt) {
        (Some(t), None) if !t.trim().is_empty() => t,
        (None, Some(jwt)) => {
            return crate::oauth::iam::exchange_jwt(&state, &headers, &addr, &jwt).await
        }
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
    let expires_at = match parent.token.expires_at {
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
            scopes: parent.token.scopes,
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
