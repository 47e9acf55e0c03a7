//! Service accounts and their authorized keys (Yandex Cloud's model):
//! `/iam/v1/serviceAccounts` and `/iam/v1/keys`.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::SecondsFormat;
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use tracker_store::{NewServiceAccount, NewServiceAccountKey, ServiceAccount};

use super::{audit_by, require_org_admin as require_admin, ClientAddr};
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiJson, ApiQuery};
use crate::ids::cloud_style_id;
use crate::state::AppState;

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
    pub scopes: Option<Vec<String>>,
}

pub async fn create_service_account(
    cx: Api,
    addr: ClientAddr,
    ApiJson(body): ApiJson<CreateServiceAccount>,
) -> ApiResult<Response> {
    require_admin(&cx.principal)?;
    let sa = new_service_account(&cx.state, cx.principal.org.id, body).await?;
    audit_by(&cx, "service_account.created", &sa.sa_id, &sa.name, &addr).await;
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

pub async fn list_service_accounts(cx: Api) -> ApiResult<Response> {
    require_admin(&cx.principal)?;
    let list = cx.store.list_service_accounts(cx.principal.org.id).await?;
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
    cx: Api,
    addr: ClientAddr,
    ApiJson(body): ApiJson<CreateKey>,
) -> ApiResult<Response> {
    require_admin(&cx.principal)?;
    let sa =
        service_account_in_org(&cx.state, cx.principal.org.id, &body.service_account_id).await?;
    let file = new_key(&cx.state, &sa, body.description, body.public_key).await?;
    audit_by(
        &cx,
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

pub async fn list_keys(cx: Api, ApiQuery(q): ApiQuery<KeyQuery>) -> ApiResult<Response> {
    require_admin(&cx.principal)?;
    let sa = service_account_in_org(&cx.state, cx.principal.org.id, &q.service_account_id).await?;
    let keys: Vec<KeyFile> = cx
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

pub async fn delete_key(cx: Api, addr: ClientAddr, Path(id): Path<String>) -> ApiResult<Response> {
    require_admin(&cx.principal)?;
    let key = cx
        .store
        .service_account_key(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound("Key not found".into()))?;
    let sa = cx
        .store
        .list_service_accounts(cx.principal.org.id)
        .await?
        .into_iter()
        .find(|sa| sa.uid == key.sa_uid)
        .ok_or_else(|| ApiError::NotFound("Key not found".into()))?;
    cx.store.delete_service_account_key(&id).await?;
    audit_by(
        &cx,
        "key.deleted",
        &id,
        format!("service account {}", sa.sa_id),
        &addr,
    )
    .await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
