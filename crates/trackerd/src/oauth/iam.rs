//! Service accounts and authorized keys (Yandex Cloud's model), the JWT
//! exchange at `POST /iam/v1/tokens`, and the audit trail API.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::SecondsFormat;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use tracker_api::CreateIamTokenResponse;
use tracker_domain::{TokenHash, TokenKind};
use tracker_store::{NewServiceAccount, NewServiceAccountKey, NewToken, ServiceAccount};

use super::{audit, ClientAddr};
use crate::app::{base_url, json, ApiJson, ApiQuery, AppState};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::ops::cloud_style_id;
use crate::paging::{Page, PageParams};

fn require_admin(p: &Principal) -> ApiResult<()> {
    if p.org_admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Only organization administrators manage service accounts and read the audit trail"
                .into(),
        ))
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub uid: i64,
    pub created_at: String,
}

fn sa_view(sa: &ServiceAccount) -> ServiceAccountView {
    ServiceAccountView {
        id: sa.sa_id.clone(),
        name: sa.name.clone(),
        description: sa.description.clone(),
        scopes: sa.scopes.to_list().split(' ').map(str::to_owned).collect(),
        uid: sa.uid,
        created_at: sa.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateServiceAccount {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Organization admin rights for the account.
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
}

pub async fn create_service_account(
    State(state): State<AppState>,
    principal: Principal,
    addr: ClientAddr,
    ApiJson(body): ApiJson<CreateServiceAccount>,
) -> ApiResult<Response> {
    require_admin(&principal)?;
    let sa = new_service_account(&state, principal.org.id, body).await?;
    audit(
        &state,
        Some(principal.org.id),
        Some(principal.user.uid),
        "service_account.created",
        &sa.sa_id,
        &sa.name,
        &addr,
    )
    .await;
    Ok(json(StatusCode::CREATED, &sa_view(&sa)))
}

pub async fn new_service_account(
    state: &AppState,
    org: i64,
    body: CreateServiceAccount,
) -> ApiResult<ServiceAccount> {
    let name = body.name.trim();
    let valid = (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.as_bytes()[0].is_ascii_lowercase();
    if !valid {
        return Err(ApiError::field(
            "name",
            "3 to 63 lowercase letters, digits and '-', starting with a letter",
        ));
    }
    let scopes = super::apps::check_scopes(body.scopes.as_deref())?;
    Ok(state
        .store
        .create_service_account(&NewServiceAccount {
            org,
            sa_id: cloud_style_id("aje"),
            name: name.to_owned(),
            description: body.description,
            admin: body.admin,
            scopes,
            created_at: state.clock.now(),
        })
        .await?)
}

pub async fn list_service_accounts(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Response> {
    require_admin(&principal)?;
    let list = state.store.list_service_accounts(principal.org.id).await?;
    let views: Vec<_> = list.iter().map(sa_view).collect();
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "serviceAccounts": views }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateKey {
    pub service_account_id: String,
    #[serde(default)]
    pub description: String,
    /// A PEM public key (SPKI) made by the caller; without one the server
    /// makes the pair and returns the private key once.
    #[serde(default)]
    pub public_key: Option<String>,
}

/// The authorized key file, as `yc iam key create --output key.json` writes
/// it; `private_key` only when the server made the pair.
#[derive(Debug, Serialize)]
pub struct KeyFile {
    pub id: String,
    pub service_account_id: String,
    pub created_at: String,
    pub key_algorithm: &'static str,
    pub public_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
}

async fn service_account_in_org(
    state: &AppState,
    org: i64,
    sa_id: &str,
) -> ApiResult<ServiceAccount> {
    state
        .store
        .service_account_by_id(sa_id)
        .await?
        .filter(|sa| sa.org == org)
        .ok_or_else(|| ApiError::NotFound("Service account not found".into()))
}

/// Makes an RSA-2048 pair: (private PKCS#8 PEM, public SPKI PEM).
pub async fn generate_key_pair() -> anyhow::Result<(String, String)> {
    tokio::task::spawn_blocking(|| {
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)?;
        let public = private.to_public_key().to_public_key_pem(LineEnding::LF)?;
        let private = private.to_pkcs8_pem(LineEnding::LF)?.to_string();
        Ok((private, public))
    })
    .await?
}

pub async fn new_key(
    state: &AppState,
    sa: &ServiceAccount,
    description: String,
    public_key: Option<String>,
) -> ApiResult<KeyFile> {
    let (private, public) = match public_key {
        Some(pem) => {
            let key = rsa::RsaPublicKey::from_public_key_pem(pem.trim())
                .map_err(|_| ApiError::field("publicKey", "not a PEM RSA public key (SPKI)"))?;
            if key.size() < 256 {
                return Err(ApiError::field(
                    "publicKey",
                    "RSA keys must have 2048 bits or more",
                ));
            }
            (None, pem.trim().to_owned() + "\n")
        }
        None => {
            let (private, public) = generate_key_pair().await.map_err(ApiError::internal)?;
            (Some(private), public)
        }
    };
    let key = state
        .store
        .insert_service_account_key(&NewServiceAccountKey {
            id: cloud_style_id("aje"),
            sa_uid: sa.uid,
            public_key_pem: public.clone(),
            description,
            created_at: state.clock.now(),
        })
        .await?;
    Ok(KeyFile {
        id: key.id,
        service_account_id: sa.sa_id.clone(),
        created_at: key.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        key_algorithm: "RSA_2048",
        public_key: public,
        private_key: private,
    })
}

pub async fn create_key(
    State(state): State<AppState>,
    principal: Principal,
    addr: ClientAddr,
    ApiJson(body): ApiJson<CreateKey>,
) -> ApiResult<Response> {
    require_admin(&principal)?;
    let sa = service_account_in_org(&state, principal.org.id, &body.service_account_id).await?;
    let file = new_key(&state, &sa, body.description, body.public_key).await?;
    audit(
        &state,
        Some(principal.org.id),
        Some(principal.user.uid),
        "key.created",
        &file.id,
        format!("service account {}", sa.sa_id),
        &addr,
    )
    .await;
    let mut r = json(StatusCode::CREATED, &file);
    super::no_store(&mut r);
    Ok(r)
}

#[derive(Debug, Deserialize)]
pub struct KeyQuery {
    #[serde(rename = "serviceAccountId")]
    service_account_id: String,
}

pub async fn list_keys(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<KeyQuery>,
) -> ApiResult<Response> {
    require_admin(&principal)?;
    let sa = service_account_in_org(&state, principal.org.id, &q.service_account_id).await?;
    let keys: Vec<KeyFile> = state
        .store
        .list_service_account_keys(sa.uid)
        .await?
        .into_iter()
        .map(|k| KeyFile {
            id: k.id,
            service_account_id: sa.sa_id.clone(),
            created_at: k.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            key_algorithm: "RSA_2048",
            public_key: k.public_key_pem,
            private_key: None,
        })
        .collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "keys": keys })))
}

pub async fn delete_key(
    State(state): State<AppState>,
    principal: Principal,
    addr: ClientAddr,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    require_admin(&principal)?;
    let key = state
        .store
        .service_account_key(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound("Key not found".into()))?;
    let sa = state
        .store
        .list_service_accounts(principal.org.id)
        .await?
        .into_iter()
        .find(|sa| sa.uid == key.sa_uid)
        .ok_or_else(|| ApiError::NotFound("Key not found".into()))?;
    state.store.delete_service_account_key(&id).await?;
    audit(
        &state,
        Some(principal.org.id),
        Some(principal.user.uid),
        "key.deleted",
        &id,
        format!("service account {}", sa.sa_id),
        &addr,
    )
    .await;
    Ok(StatusCode::NO_CONTENT.into_response())
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditView {
    pub id: i64,
    pub at: String,
    pub action: String,
    pub uid: Option<i64>,
    pub login: Option<String>,
    pub target: String,
    pub detail: String,
    pub ip: String,
}

/// Audit events of the caller's organization, newest first, paged like
/// Tracker lists.
pub async fn audit_list(
    State(state): State<AppState>,
    principal: Principal,
    uri: OriginalUri,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<PageParams>,
) -> ApiResult<Response> {
    require_admin(&principal)?;
    let page = Page::from_params(&params)?;
    let (events, total) = state
        .store
        .list_audit_events(principal.org.id, page.offset(), page.size)
        .await?;
    let mut views = Vec::with_capacity(events.len());
    for e in events {
        let login = match e.uid {
            Some(uid) => state.store.user_by_uid(uid).await?.map(|u| u.login),
            None => None,
        };
        views.push(AuditView {
            id: e.id,
            at: e.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            action: e.action,
            uid: e.uid,
            login,
            target: e.target,
            detail: e.detail,
            ip: e.ip,
        });
    }
    let url = format!("{}{}", base_url(&state.config, &headers), uri.0.path());
    let mut r = json(StatusCode::OK, &views);
    r.headers_mut()
        .extend(page.headers(total, &url, uri.0.query()));
    Ok(r)
}
