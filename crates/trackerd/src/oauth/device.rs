//! The device authorization grant (RFC 8628): `POST /device/code` and the
//! page where a signed-in user enters the code.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use tracker_domain::{Scopes, TokenHash};
use tracker_store::{AppRecord, DeviceRecord, DeviceStatus, NewDeviceCode};

use super::html::PageError;
use super::html::{self, esc, hidden};
use super::session::{FormPage, MaybeSession, Session, SignedInForm};
use super::token::authenticate_client;
use super::{
    audit, mint, no_store, prefix, scope_labels, secs, ClientAddr, FormParams, OAuthError,
};
use crate::extract::base_url;
use crate::state::AppState;

/// Consonants only: no vowels (no words), no look-alikes (RFC 8628 §6.1).
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

fn new_user_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let c: String = (0..8)
        .map(|_| USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &c[..4], &c[4..])
}

/// Users type codes in any case, with or without the dash.
pub fn normalize_user_code(s: &str) -> Option<String> {
    let c: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (c.len() == 8 && c.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)))
        .then(|| format!("{}-{}", &c[..4], &c[4..]))
}

pub async fn device_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<FormParams, OAuthError>,
) -> Result<Response, OAuthError> {
    let form = form?;
    // Yandex OAuth asks for the client_id alone here; a confidential client
    // proves itself when it polls. A client that sends its secret is
    // checked now.
    let app = if form.get("client_secret").is_some() || headers.contains_key("authorization") {
        authenticate_client(&state, &headers, &form).await?
    } else {
        let id = form
            .get("client_id")
            .ok_or_else(|| OAuthError::new("invalid_client", "client_id is required"))?;
        state
            .store
            .app_by_client_id(id)
            .await?
            .ok_or_else(|| OAuthError::new("invalid_client", "unknown client"))?
    };
    let scopes = match form.get("scope") {
        None => app.scopes.clone(),
        Some(s) => match Scopes::parse(s) {
            Ok(s) if s.is_empty() => app.scopes.clone(),
            Ok(s) if s.within(&app.scopes) => s,
            _ => {
                return Err(OAuthError::new(
                    "invalid_scope",
                    format!("the application may ask for {} only", app.scopes.to_list()),
                ))
            }
        },
    };
    let cfg = &state.config.oauth;
    let now = state.clock.now();
    let device_code = mint(prefix::DEVICE_CODE);
    let user_code = new_user_code();
    state
        .store
        .insert_device_code(&NewDeviceCode {
            device_hash: TokenHash::of(&device_code),
            user_code_hash: TokenHash::of(&user_code),
            app_id: app.id,
            scopes,
            interval_secs: cfg.device_poll_interval_secs as i64,
            created_at: now,
            expires_at: now + secs(cfg.device_code_lifetime_secs),
        })
        .await?;
    let uri = format!("{}/device", base_url(&state.config, &headers));
    let complete = format!("{uri}?user_code={user_code}");
    let mut r = (
        StatusCode::OK,
        axum::Json(serde_json::json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": uri,
            // Yandex OAuth's name for the same thing.
            "verification_url": uri,
            "verification_uri_complete": complete,
            "interval": cfg.device_poll_interval_secs,
            "expires_in": cfg.device_code_lifetime_secs,
        })),
    )
        .into_response();
    no_store(&mut r);
    Ok(r)
}

fn entry_form(error: Option<&str>, value: &str) -> String {
    let err = html::form_error(error);
    format!(
        "{err}<form method=\"get\" action=\"/device\">\
         <label for=\"user_code\">Code shown on your device</label>\
         <input type=\"text\" id=\"user_code\" name=\"user_code\" value=\"{}\" \
         autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" required autofocus>\
         <button type=\"submit\" id=\"continue\">Continue</button></form>",
        esc(value)
    )
}

/// Looks up a pending, unexpired request by the code the user typed.
async fn pending(
    state: &AppState,
    typed: &str,
) -> Result<Result<(String, DeviceRecord, AppRecord), &'static str>, PageError> {
    let Some(code) = normalize_user_code(typed) else {
        return Ok(Err("That is not a valid code. It looks like BCDF-GHJK."));
    };
    let Some(rec) = state
        .store
        .device_by_user_code(&TokenHash::of(&code))
        .await?
    else {
        return Ok(Err("No device is waiting for this code."));
    };
    if rec.expires_at <= state.clock.now() {
        return Ok(Err("This code has expired. Start again on your device."));
    }
    if rec.status != DeviceStatus::Pending {
        return Ok(Err("This code was already used."));
    }
    Ok(match state.store.app_by_id(rec.app_id).await? {
        Some(app) => Ok((code, rec, app)),
        None => Err("No device is waiting for this code."),
    })
}

/// The form that decides on a device.
pub struct DevicePage;

impl FormPage for DevicePage {
    const BACK_TO: &'static str = "/device";
    const EXPIRED: &'static str = "Enter the code again.";
}

#[derive(serde::Deserialize)]
pub struct DeviceQuery {
    user_code: Option<String>,
    federation: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    uri: OriginalUri,
    crate::extract::ApiQuery(q): crate::extract::ApiQuery<DeviceQuery>,
) -> Result<Response, PageError> {
    let Some(session) = session else {
        let back = uri
            .0
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/device".into());
        // A CLI that knows its user signs in through an identity provider
        // (`tracker login --federation ID`) skips the sign-in page.
        if let Some(id) = q.federation.as_deref().filter(|f| !f.is_empty()) {
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            return Ok(super::session::see_other(&format!(
                "/federation/{}/start?next={}",
                enc(id),
                enc(&back)
            )));
        }
        return Err(PageError::SignIn(back));
    };
    let title = "Connect a device";
    let Some(typed) = q.user_code.filter(|c| !c.trim().is_empty()) else {
        return Ok(html::page(StatusCode::OK, title, &entry_form(None, "")));
    };
    Ok(match pending(&state, &typed).await? {
        Err(msg) => html::page(
            StatusCode::BAD_REQUEST,
            title,
            &entry_form(Some(msg), &typed),
        ),
        Ok((code, rec, app)) => consent(&session, &code, &rec, &app),
    })
}

fn consent(session: &Session, code: &str, rec: &DeviceRecord, app: &AppRecord) -> Response {
    let scopes: String = scope_labels(&rec.scopes)
        .into_iter()
        .map(|s| format!("<li>{}</li>", esc(&s)))
        .collect();
    let body = format!(
        "<p>You are signed in as <strong>{user}</strong> ({login}).</p>\
         <p>The device showing code <strong id=\"code\">{code}</strong> wants to act as \
         <strong id=\"app-name\">{app}</strong> with access to your Tracker account:</p>\
         <ul id=\"scopes\">{scopes}</ul>\
         <p>Allow it only if you started this on a device you trust.</p>\
         <form method=\"post\" action=\"/device\">{}{}\
         <button type=\"submit\" name=\"decision\" value=\"allow\" id=\"allow\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Deny</button></form>",
        hidden("csrf", &session.csrf),
        hidden("user_code", code),
        user = esc(&session.user.display()),
        login = esc(&session.user.login),
        code = esc(code),
        app = esc(&app.name),
    );
    html::page(
        StatusCode::OK,
        &format!("Allow {} on your device?", app.name),
        &body,
    )
}

pub async fn decide(
    State(state): State<AppState>,
    addr: ClientAddr,
    SignedInForm { session, form, .. }: SignedInForm<DevicePage>,
) -> Result<Response, PageError> {
    let title = "Connect a device";
    let typed = form.get("user_code").unwrap_or("").to_owned();
    let (_, rec, app) = match pending(&state, &typed).await? {
        Err(msg) => {
            return Ok(html::page(
                StatusCode::BAD_REQUEST,
                title,
                &entry_form(Some(msg), &typed),
            ))
        }
        Ok(found) => found,
    };
    let allow = form.get("decision") == Some("allow");
    if !state
        .store
        .decide_device(rec.id, session.user.uid, allow)
        .await?
    {
        return Ok(html::page(
            StatusCode::BAD_REQUEST,
            title,
            &entry_form(Some("This code was already used."), &typed),
        ));
    }
    if allow {
        let now = state.clock.now();
        super::authorize::widen_consent(&state, session.user.uid, app.id, &rec.scopes, now).await?;
    }
    audit(
        &state,
        None,
        Some(session.user.uid),
        if allow {
            "consent.granted"
        } else {
            "consent.denied"
        },
        &app.client_id,
        format!("device flow, scopes {}", rec.scopes.to_list()),
        &addr,
    )
    .await;
    Ok(if allow {
        html::page(
            StatusCode::OK,
            "Device connected",
            &format!(
                "<p id=\"done\" role=\"status\">{} can now use your account. \
                 Return to your device.</p><p><a href=\"/my\">Your tokens and apps</a></p>",
                esc(&app.name)
            ),
        )
    } else {
        html::page(
            StatusCode::OK,
            "Access denied",
            "<p id=\"done\" role=\"status\">The device was not given access.</p>",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_eight_consonants_and_read_back_in_any_case() {
        let c = new_user_code();
        assert_eq!(c.len(), 9);
        assert_eq!(
            normalize_user_code(&c.to_lowercase().replace('-', " ")),
            Some(c)
        );
        assert_eq!(normalize_user_code("AEIO-UBCD"), None);
        assert_eq!(normalize_user_code("BCDF"), None);
    }
}
