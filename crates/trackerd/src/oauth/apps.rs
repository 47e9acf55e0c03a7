//! The applications registry (`/oauth/v1/apps`) and the RFC 8414 metadata.
//!
//! Applications belong to the organization of the request. A member
//! registers and manages their own; an organization admin manages all of the
//! organization's.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tracker_domain::{Scopes, TokenHash};
use tracker_store::{AppRecord, AppUpdate, Store};

use super::{audit_by, mint, new_client_id, prefix, ClientAddr};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{base_url, json, Api, ApiJson};
use crate::state::AppState;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppView {
    pub client_id: String,
    /// Present only in the answer that created it or rotated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub owner: i64,
    pub created_at: String,
}

pub fn view(app: &AppRecord, secret: Option<String>) -> AppView {
    AppView {
        client_id: app.client_id.clone(),
        client_secret: secret,
        name: app.name.clone(),
        kind: if app.confidential {
            "confidential"
        } else {
            "public"
        },
        redirect_uris: app.redirect_uris.clone(),
        scopes: app
            .scopes
            .to_list()
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        owner: app.owner_uid,
        created_at: tracker_api::time::format(&app.created_at),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateApp {
    pub name: String,
    /// May be empty for a public client that only uses the device flow.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// A chosen client id (organization admins only), for well-known
    /// clients such as the `tracker` CLI's `tracker-cli`; random otherwise.
    pub client_id: Option<String>,
    /// A chosen client secret (organization admins only): a client that
    /// ships with its id and secret built in (as CLIs do) can then stand in
    /// for a real application unchanged. Random otherwise.
    pub client_secret: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub scopes: Option<Vec<String>>,
}

#[derive(Default, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[serde(default)]
pub struct UpdateApp {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    /// Issues a new client secret (shown once); the old one stops working.
    pub rotate_secret: bool,
}

/// Redirect URIs are compared exactly; they must be absolute and carry no
/// fragment (RFC 6749 §3.1.2).
pub fn check_redirect_uris(uris: &[String]) -> Result<Vec<String>, ApiError> {
    if uris.is_empty() {
        return Err(ApiError::field(
            "redirectUris",
            "at least one redirect URI is required",
        ));
    }
    let mut out = Vec::new();
    for u in uris {
        let u = u.trim();
        let parsed = url::Url::parse(u).map_err(|_| {
            ApiError::field("redirectUris", format!("{u:?} is not an absolute URI"))
        })?;
        if parsed.fragment().is_some() || u.contains('\n') {
            return Err(ApiError::field(
                "redirectUris",
                format!("{u:?} must not have a fragment"),
            ));
        }
        if matches!(parsed.scheme(), "javascript" | "data" | "vbscript" | "file") {
            return Err(ApiError::field(
                "redirectUris",
                format!("the {} scheme is not allowed", parsed.scheme()),
            ));
        }
        if !out.iter().any(|o: &String| o == u) {
            out.push(u.to_owned());
        }
    }
    Ok(out)
}

pub fn check_scopes(list: Option<&[String]>) -> Result<Scopes, ApiError> {
    match list {
        None => Ok(Scopes::READ_WRITE),
        Some(l) => {
            let s = Scopes::parse(&l.join(" "))
                .map_err(|e| ApiError::field("scopes", e.to_string()))?;
            if s.is_empty() {
                return Err(ApiError::field("scopes", "at least one scope is required"));
            }
            Ok(s)
        }
    }
}

pub fn check_name(name: &str) -> Result<String, ApiError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 {
        return Err(ApiError::field(
            "name",
            "the name must have 1 to 100 characters",
        ));
    }
    Ok(n.to_owned())
}

/// Registers an application; the secret is returned once.
pub async fn register(
    store: &dyn Store,
    now: chrono::DateTime<chrono::Utc>,
    org: i64,
    owner: i64,
    body: CreateApp,
) -> ApiResult<(AppRecord, Option<String>)> {
    let name = check_name(&body.name)?;
    let scopes = check_scopes(body.scopes.as_deref())?;
    let confidential = match body.kind.as_deref() {
        None | Some("confidential") => true,
        Some("public") => false,
        Some(other) => {
            return Err(ApiError::field(
                "type",
                format!("type must be confidential or public, not {other:?}"),
            ))
        }
    };
    let redirect_uris = if body.redirect_uris.is_empty() && !confidential {
        Vec::new()
    } else {
        check_redirect_uris(&body.redirect_uris)?
    };
    let client_id = match body.client_id {
        None => new_client_id(),
        Some(id) => {
            let ok = (3..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !ok {
                return Err(ApiError::field(
                    "clientId",
                    "3 to 64 letters, digits, '-', '_' and '.'",
                ));
            }
            if store.app_by_client_id(&id).await?.is_some() {
                return Err(ApiError::Conflict(format!(
                    "An application with client id {id} already exists"
                )));
            }
            id
        }
    };
    let secret = match (confidential, body.client_secret) {
        (false, Some(_)) => {
            return Err(ApiError::field(
                "clientSecret",
                "a public client has no secret",
            ))
        }
        (false, None) => None,
        (true, None) => Some(mint(prefix::CLIENT_SECRET)),
        (true, Some(chosen)) => {
            // Like a real application's: long enough not to be guessed, and
            // plain printable ASCII, as it travels in forms and Basic auth.
            let ok =
                (16..=256).contains(&chosen.len()) && chosen.bytes().all(|b| b.is_ascii_graphic());
            if !ok {
                return Err(ApiError::field(
                    "clientSecret",
                    "16 to 256 printable ASCII characters without spaces",
                ));
            }
            Some(chosen)
        }
    };
    let app = store
        .create_app(&AppRecord {
            id: 0,
            client_id,
            secret_hash: secret.as_deref().map(TokenHash::of),
            name,
            org,
            owner_uid: owner,
            redirect_uris,
            confidential,
            scopes,
            created_at: now,
        })
        .await?;
    Ok((app, secret))
}

pub async fn create(
    cx: Api,
    addr: ClientAddr,
    ApiJson(body): ApiJson<CreateApp>,
) -> ApiResult<Response> {
    if (body.client_id.is_some() || body.client_secret.is_some()) && !cx.principal.org_admin {
        return Err(ApiError::Forbidden(
            "Only organization administrators choose client ids and secrets".into(),
        ));
    }
    let (app, secret) = register(
        cx.store.as_ref(),
        cx.clock.now(),
        cx.principal.org.id,
        cx.principal.user.uid,
        body,
    )
    .await?;
    audit_by(&cx, "app.created", &app.client_id, &app.name, &addr).await;
    let mut r = json(StatusCode::CREATED, &view(&app, secret));
    super::no_store(&mut r);
    Ok(r)
}

pub async fn list(cx: Api) -> ApiResult<Response> {
    let owner = (!cx.principal.org_admin).then_some(cx.principal.user.uid);
    let apps = cx.store.list_apps(cx.principal.org.id, owner).await?;
    let views: Vec<AppView> = apps.iter().map(|a| view(a, None)).collect();
    Ok(json(StatusCode::OK, &views))
}

/// The application, if the caller may manage it; otherwise `404` (its
/// existence is not the caller's business).
async fn manageable(
    state: &AppState,
    principal: &Principal,
    client_id: &str,
) -> ApiResult<AppRecord> {
    state
        .store
        .app_by_client_id(client_id)
        .await?
        .filter(|a| {
            a.org == principal.org.id && (principal.org_admin || a.owner_uid == principal.user.uid)
        })
        .ok_or_else(|| ApiError::NotFound("Application not found".into()))
}

pub async fn get(cx: Api, Path(client_id): Path<String>) -> ApiResult<Response> {
    let app = manageable(&cx.state, &cx.principal, &client_id).await?;
    Ok(json(StatusCode::OK, &view(&app, None)))
}

pub async fn update(
    cx: Api,
    addr: ClientAddr,
    Path(client_id): Path<String>,
    ApiJson(body): ApiJson<UpdateApp>,
) -> ApiResult<Response> {
    let app = manageable(&cx.state, &cx.principal, &client_id).await?;
    if body.rotate_secret && !app.confidential {
        return Err(ApiError::field(
            "rotateSecret",
            "a public client has no secret",
        ));
    }
    let secret = body.rotate_secret.then(|| mint(prefix::CLIENT_SECRET));
    let update = AppUpdate {
        name: body.name.as_deref().map(check_name).transpose()?,
        redirect_uris: body
            .redirect_uris
            .as_deref()
            .map(check_redirect_uris)
            .transpose()?,
        scopes: body
            .scopes
            .as_deref()
            .map(|s| check_scopes(Some(s)))
            .transpose()?,
        secret_hash: secret.as_deref().map(TokenHash::of),
    };
    let app = cx.store.update_app(app.id, &update).await?;
    audit_by(
        &cx,
        "app.updated",
        &app.client_id,
        if secret.is_some() {
            "secret rotated"
        } else {
            ""
        },
        &addr,
    )
    .await;
    let mut r = json(StatusCode::OK, &view(&app, secret));
    super::no_store(&mut r);
    Ok(r)
}

pub async fn delete(
    cx: Api,
    addr: ClientAddr,
    Path(client_id): Path<String>,
) -> ApiResult<Response> {
    let app = manageable(&cx.state, &cx.principal, &client_id).await?;
    cx.store.delete_app(app.id).await?;
    cx.auth.invalidate_all();
    audit_by(&cx, "app.deleted", &app.client_id, &app.name, &addr).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// RFC 8414 authorization server metadata.
pub async fn metadata(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Json<serde_json::Value> {
    let base = base_url(&state.config, &headers);
    Json(serde_json::json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "device_authorization_endpoint": format!("{base}/device/code"),
        "revocation_endpoint": format!("{base}/revoke_token"),
        "introspection_endpoint": format!("{base}/introspect"),
        "scopes_supported": ["tracker:read", "tracker:write"],
        "response_types_supported": ["code", "token"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": [
            "authorization_code",
            "implicit",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code"
        ],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "service_documentation": format!("{base}/my"),
    }))
}
