//! `GET /authorize` (authorization code with PKCE, and implicit), the consent
//! page and its `POST /authorize`, and the sign-in and password pages.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tracker_domain::{Scopes, TokenHash};
use tracker_store::{AppRecord, ConsentRecord, NewAuthCode, User};

use super::html::PageError;
use super::html::{self, esc, hidden};
use super::session::{
    cookie, issue_signin_token, same, see_other, set_cookie, signin_token_valid, FormPage,
    MaybeSession, Session, SignedInForm, CSRF_COOKIE, SESSION_COOKIE,
};
use super::token::issue_access;
use super::{
    audit, audit_user, mint, prefix, scope_labels, secs, ClientAddr, FormParams, OAuthError,
};
use crate::passwords;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    Code,
    Token,
}

/// A checked authorization request.
#[derive(Debug, Clone)]
pub struct AuthzRequest {
    pub app: AppRecord,
    pub response_type: ResponseType,
    pub redirect_uri: String,
    /// Whether the request named the redirect URI (it must then be repeated
    /// at the token endpoint).
    pub redirect_given: bool,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
}

/// A failed authorization request: shown to the user when the client or
/// redirect URI cannot be trusted (RFC 6749 §4.1.2.1), otherwise sent back
/// to the client's registered redirect URI.
pub enum AuthzError {
    Page(String),
    Redirect {
        redirect_uri: String,
        fragment: bool,
        error: &'static str,
        description: String,
        state: Option<String>,
    },
}

impl AuthzError {
    fn into_response(self, status_for_redirect: StatusCode) -> Response {
        match self {
            AuthzError::Page(msg) => html::error_page(
                StatusCode::BAD_REQUEST,
                "This sign-in link does not work",
                &msg,
            ),
            AuthzError::Redirect {
                redirect_uri,
                fragment,
                error,
                description,
                state,
            } => {
                let mut params = vec![("error", error.to_owned())];
                params.push(("error_description", description));
                if let Some(s) = state {
                    params.push(("state", s));
                }
                redirect_with(&redirect_uri, fragment, &params, status_for_redirect)
            }
        }
    }
}

/// Sends the browser to `uri` with `params` in its query or fragment.
pub fn redirect_with(
    uri: &str,
    fragment: bool,
    params: &[(&str, String)],
    status: StatusCode,
) -> Response {
    let location = match url::Url::parse(uri) {
        Ok(mut u) => {
            if fragment {
                let f: String = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
                    .finish();
                u.set_fragment(Some(&f));
            } else {
                u.query_pairs_mut()
                    .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
            }
            u.to_string()
        }
        // Registered URIs are checked to parse; this is unreachable in
        // practice, and never worth a redirect to something unchecked.
        Err(_) => {
            return html::error_page(
                StatusCode::BAD_REQUEST,
                "Broken redirect address",
                "The application's redirect address is not a valid URL.",
            )
        }
    };
    let mut r = see_other(&location);
    *r.status_mut() = status;
    r
}

fn param<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

pub async fn check_request(
    state: &AppState,
    p: &[(String, String)],
) -> Result<AuthzRequest, AuthzError> {
    // The client and the redirect URI first: until both are known good,
    // nothing may be sent anywhere.
    let Some(client_id) = param(p, "client_id") else {
        return Err(AuthzError::Page(
            "The request names no application (client_id is missing).".into(),
        ));
    };
    let app = match state.store.app_by_client_id(client_id).await {
        Ok(Some(app)) => app,
        Ok(None) => {
            return Err(AuthzError::Page(
                "No application is registered with this client_id.".into(),
            ))
        }
        Err(e) => {
            tracing::error!(error = %e, "looking up an application");
            return Err(AuthzError::Page(
                "The server could not check the application. Try again later.".into(),
            ));
        }
    };
    let (redirect_uri, redirect_given) = match param(p, "redirect_uri") {
        Some(uri) if app.redirect_uris.iter().any(|r| r == uri) => (uri.to_owned(), true),
        Some(_) => {
            return Err(AuthzError::Page(format!(
                "The redirect address is not one registered for {}.",
                app.name
            )))
        }
        None if app.redirect_uris.len() == 1 => (app.redirect_uris[0].clone(), false),
        None if app.redirect_uris.is_empty() => {
            return Err(AuthzError::Page(format!(
                "{} has no redirect address: it signs in with the device flow only.",
                app.name
            )))
        }
        None => {
            return Err(AuthzError::Page(
                "The request must name a redirect_uri: the application has several.".into(),
            ))
        }
    };
    let st = param(p, "state").map(str::to_owned);
    let response_type = match param(p, "response_type") {
        Some("code") => ResponseType::Code,
        Some("token") => ResponseType::Token,
        other => {
            return Err(AuthzError::Redirect {
                redirect_uri,
                fragment: other == Some("token"),
                error: if other.is_none() {
                    "invalid_request"
                } else {
                    "unsupported_response_type"
                },
                description: match other {
                    None => "response_type is required".into(),
                    Some(o) => format!("response_type {o} is not supported; use code or token"),
                },
                state: st,
            })
        }
    };
    let fail = |error: &'static str, description: String| AuthzError::Redirect {
        redirect_uri: redirect_uri.clone(),
        fragment: response_type == ResponseType::Token,
        error,
        description,
        state: st.clone(),
    };
    let scopes = match param(p, "scope") {
        None => app.scopes.clone(),
        Some(s) => match Scopes::parse(s) {
            Ok(s) if s.is_empty() => app.scopes.clone(),
            Ok(s) if s.within(&app.scopes) => s,
            Ok(s) => {
                return Err(fail(
                    "invalid_scope",
                    format!(
                        "the application may ask for {} only, not {}",
                        app.scopes.to_list(),
                        s.to_list()
                    ),
                ))
            }
            Err(e) => return Err(fail("invalid_scope", e.to_string())),
        },
    };
    let code_challenge =
        match (
            response_type,
            param(p, "code_challenge"),
            param(p, "code_challenge_method"),
        ) {
            (ResponseType::Token, _, _) => None,
            (_, Some(_), Some(m)) if m != "S256" => {
                return Err(fail(
                    "invalid_request",
                    "only the S256 code_challenge_method is supported".into(),
                ))
            }
            // RFC 7636 §4.3: a challenge without a method means `plain`.
            (_, Some(_), None) => {
                return Err(fail(
                    "invalid_request",
                    "code_challenge_method must be S256".into(),
                ))
            }
            (_, Some(c), Some(_)) => {
                let ok = c.len() == 43
                    && c.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !ok {
                    return Err(fail(
                        "invalid_request",
                        "code_challenge must be the base64url SHA-256 of the verifier".into(),
                    ));
                }
                Some(c.to_owned())
            }
            (_, None, Some(_)) => {
                return Err(fail(
                    "invalid_request",
                    "code_challenge_method without code_challenge".into(),
                ))
            }
            (_, None, None) if !app.confidential => return Err(fail(
                "invalid_request",
                "public clients must use PKCE: send code_challenge and code_challenge_method=S256"
                    .into(),
            )),
            (_, None, None) => None,
        };
    Ok(AuthzRequest {
        app,
        response_type,
        redirect_uri,
        redirect_given,
        scopes,
        state: st,
        code_challenge,
    })
}

fn query_pairs(uri: &OriginalUri) -> Vec<(String, String)> {
    url::form_urlencoded::parse(uri.0.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Where the sign-in page returns to, and what must be true first.
async fn require_ready_user(
    state: &AppState,
    session: Option<Session>,
    back_to: &str,
) -> Result<Session, PageError> {
    let s = session.ok_or_else(|| PageError::SignIn(back_to.to_owned()))?;
    if state.store.must_change_password(s.user.uid).await? {
        return Err(PageError::Detour(format!(
            "/password?next={}",
            url::form_urlencoded::byte_serialize(back_to.as_bytes()).collect::<String>()
        )));
    }
    Ok(s)
}

pub async fn authorize_get(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    uri: OriginalUri,
    addr: ClientAddr,
) -> Result<Response, PageError> {
    let params = query_pairs(&uri);
    let req = match check_request(&state, &params).await {
        Ok(r) => r,
        Err(e) => return Ok(e.into_response(StatusCode::FOUND)),
    };
    let back = uri
        .0
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/authorize".into());
    let session = require_ready_user(&state, session, &back).await?;
    // A remembered consent that covers the request needs no second click
    // (Yandex's `force_confirm` asks for the page anyway).
    let remembered = state
        .store
        .consent(session.user.uid, req.app.id)
        .await
        .map_err(server_error)?;
    let force = param(&params, "force_confirm").is_some_and(|v| v != "0" && v != "false");
    if !force && remembered.is_some_and(|c| req.scopes.within(&c.scopes)) {
        return complete(&state, &session.user, &req, &addr, StatusCode::FOUND).await;
    }
    Ok(consent_page(&session, &req))
}

fn consent_page(session: &Session, req: &AuthzRequest) -> Response {
    let scopes: String = scope_labels(&req.scopes)
        .into_iter()
        .map(|s| format!("<li>{}</li>", esc(&s)))
        .collect();
    let mut fields = String::new();
    fields.push_str(&hidden("csrf", &session.csrf));
    fields.push_str(&hidden("client_id", &req.app.client_id));
    fields.push_str(&hidden(
        "response_type",
        match req.response_type {
            ResponseType::Code => "code",
            ResponseType::Token => "token",
        },
    ));
    if req.redirect_given {
        fields.push_str(&hidden("redirect_uri", &req.redirect_uri));
    }
    fields.push_str(&hidden("scope", &req.scopes.to_list()));
    if let Some(s) = &req.state {
        fields.push_str(&hidden("state", s));
    }
    if let Some(c) = &req.code_challenge {
        fields.push_str(&hidden("code_challenge", c));
        fields.push_str(&hidden("code_challenge_method", "S256"));
    }
    let host = url::Url::parse(&req.redirect_uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| req.redirect_uri.clone());
    let body = format!(
        "<p>You are signed in as <strong>{user}</strong> ({login}).</p>\
         <p><strong id=\"app-name\">{app}</strong> asks for access to your Tracker account:</p>\
         <ul id=\"scopes\">{scopes}</ul>\
         <p>After you decide, you will be sent to <strong>{host}</strong>.</p>\
         <form method=\"post\" action=\"/authorize\">{fields}\
         <button type=\"submit\" name=\"decision\" value=\"allow\" id=\"allow\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Deny</button>\
         </form><p>You can withdraw access at any time on <a href=\"/my\">your tokens and apps</a> page.</p>",
        user = esc(&session.user.display()),
        login = esc(&session.user.login),
        app = esc(&req.app.name),
        host = esc(&host),
    );
    html::page(
        StatusCode::OK,
        &format!("Allow {} to use your account?", req.app.name),
        &body,
    )
}

/// The consent form. It was reached through an application's link, so a
/// browser that lost its session starts again there rather than signing in.
pub struct ConsentPage;

impl FormPage for ConsentPage {
    const BACK_TO: &'static str = "/authorize";
    const EXPIRED: &'static str =
        "This form was not issued to this browser session. Start again from the application.";

    fn signed_out() -> PageError {
        PageError::refused(
            StatusCode::UNAUTHORIZED,
            "Signed out",
            "Your session has ended. Start again from the application.",
        )
    }

    fn unreadable(_: OAuthError) -> Option<PageError> {
        Some(PageError::refused(
            StatusCode::BAD_REQUEST,
            "Bad form",
            "The form could not be read.",
        ))
    }
}

pub async fn authorize_post(
    State(state): State<AppState>,
    addr: ClientAddr,
    SignedInForm { session, form, .. }: SignedInForm<ConsentPage>,
) -> Result<Response, PageError> {
    let req = match check_request(&state, &form.0).await {
        Ok(r) => r,
        Err(e) => return Ok(e.into_response(StatusCode::SEE_OTHER)),
    };
    if form.get("decision") != Some("allow") {
        consent_audit(&state, &session.user, &req, "consent.denied", &addr).await;
        return Ok(AuthzError::Redirect {
            redirect_uri: req.redirect_uri,
            fragment: req.response_type == ResponseType::Token,
            error: "access_denied",
            description: "the user denied access".into(),
            state: req.state,
        }
        .into_response(StatusCode::SEE_OTHER));
    }
    let now = state.clock.now();
    widen_consent(&state, session.user.uid, req.app.id, &req.scopes, now)
        .await
        .map_err(server_error)?;
    consent_audit(&state, &session.user, &req, "consent.granted", &addr).await;
    complete(&state, &session.user, &req, &addr, StatusCode::SEE_OTHER).await
}

/// Logs a user's decision on a request: the application and the scopes asked.
async fn consent_audit(
    state: &AppState,
    user: &User,
    req: &AuthzRequest,
    action: &str,
    addr: &ClientAddr,
) {
    let (app, scopes) = (&req.app.client_id, req.scopes.to_list());
    audit(state, None, Some(user.uid), action, app, scopes, addr).await;
}

/// Answers an allowed request: a code, or (implicit) an access token.
async fn complete(
    state: &AppState,
    user: &User,
    req: &AuthzRequest,
    addr: &ClientAddr,
    status: StatusCode,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let mut params: Vec<(&str, String)> = Vec::new();
    match req.response_type {
        ResponseType::Code => {
            let code = mint(prefix::CODE);
            let stored = state
                .store
                .insert_auth_code(&NewAuthCode {
                    hash: TokenHash::of(&code),
                    app_id: req.app.id,
                    uid: user.uid,
                    scopes: req.scopes.clone(),
                    redirect_uri: req.redirect_given.then(|| req.redirect_uri.clone()),
                    code_challenge: req.code_challenge.clone(),
                    created_at: now,
                    expires_at: now + secs(state.config.oauth.code_lifetime_secs),
                })
                .await;
            stored.map_err(server_error)?;
            params.push(("code", code));
        }
        ResponseType::Token => {
            let issued = match issue_access(
                state,
                &req.app,
                user.uid,
                req.scopes.clone(),
                "implicit",
                false,
                addr,
            )
            .await
            {
                Ok(t) => t,
                // The client asked for a token: it gets the token endpoint's
                // error answer, not a page.
                Err(e) => return Ok(e.into_response()),
            };
            params.push(("access_token", issued.access_token));
            params.push(("token_type", "bearer".into()));
            params.push(("expires_in", issued.expires_in.to_string()));
            params.push(("scope", req.scopes.to_list()));
        }
    }
    if let Some(s) = &req.state {
        params.push(("state", s.clone()));
    }
    Ok(redirect_with(
        &req.redirect_uri,
        req.response_type == ResponseType::Token,
        &params,
        status,
    ))
}

/// A failure in the sign-in and authorization flow, which says a little
/// more than "try again" because the user is in the middle of something.
/// Records that `uid` allowed the app `scopes`. A consent covers the union
/// of what the user allowed so far; an unreadable earlier one counts as none
/// rather than failing the approval.
pub(super) async fn widen_consent(
    state: &AppState,
    uid: i64,
    app_id: i64,
    scopes: &Scopes,
    now: chrono::DateTime<chrono::Utc>,
) -> tracker_store::Result<()> {
    let previous = state
        .store
        .consent(uid, app_id)
        .await
        .ok()
        .flatten()
        .map(|c| c.scopes)
        .unwrap_or_default();
    let union = previous.union(scopes);
    state
        .store
        .put_consent(&ConsentRecord {
            uid,
            app_id,
            scopes: union,
            granted_at: now,
        })
        .await
}

fn server_error(e: impl std::fmt::Display) -> PageError {
    PageError::internal(e).saying("The server could not complete the request. Try again later.")
}

#[derive(serde::Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn signin_form(
    csrf: &str,
    next: &str,
    login: &str,
    error: Option<&str>,
    federations: &str,
) -> String {
    let err = html::form_error(error);
    format!(
        "{err}{federations}<form method=\"post\" action=\"/signin\">{}{}\
         <label for=\"login\">Login</label>\
         <input type=\"text\" id=\"login\" name=\"login\" value=\"{}\" autocomplete=\"username\" required autofocus>\
         <label for=\"password\">Password</label>\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\" id=\"signin\">Sign in</button></form>",
        hidden("csrf", csrf),
        hidden("next", next),
        esc(login),
    )
}

pub async fn signin_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    crate::extract::ApiQuery(q): crate::extract::ApiQuery<NextQuery>,
) -> Result<Response, PageError> {
    let next = super::session::safe_next(q.next.as_deref());
    let key = state.form_key().await.map_err(server_error)?;
    let now = state.clock.now();
    let csrf = cookie(&headers, CSRF_COOKIE)
        .filter(|c| signin_token_valid(key, c, now))
        .unwrap_or_else(|| issue_signin_token(key, now));
    let mut r = html::page(
        StatusCode::OK,
        "Sign in to trackerd",
        &signin_form(
            &csrf,
            &next,
            "",
            None,
            &super::federation::signin_links(&state, &next).await,
        ),
    );
    set_cookie(&mut r, &state, &headers, CSRF_COOKIE, &csrf, None);
    Ok(r)
}

pub async fn signin_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    addr: ClientAddr,
    form: Result<FormParams, super::OAuthError>,
) -> Result<Response, PageError> {
    let form = form.unwrap_or_default();
    let next = super::session::safe_next(form.get("next"));
    let login = form.get("login").unwrap_or("").trim().to_owned();
    let password = form.get("password").unwrap_or("").to_owned();
    let key = state.form_key().await.map_err(server_error)?;
    let now = state.clock.now();
    // Only a token this server issued counts: a planted cookie and field
    // with a made-up value are refused like a missing one.
    let cookie_csrf = cookie(&headers, CSRF_COOKIE).filter(|c| signin_token_valid(key, c, now));
    let fresh_csrf = cookie_csrf
        .clone()
        .unwrap_or_else(|| issue_signin_token(key, now));
    let federations = super::federation::signin_links(&state, &next).await;
    let again = |status: StatusCode, msg: &str| {
        let mut r = html::page(
            status,
            "Sign in to trackerd",
            &signin_form(&fresh_csrf, &next, &login, Some(msg), &federations),
        );
        set_cookie(&mut r, &state, &headers, CSRF_COOKIE, &fresh_csrf, None);
        r
    };
    let csrf_ok = match (cookie_csrf.as_deref(), form.get("csrf")) {
        (Some(c), Some(f)) => same(c, f),
        _ => false,
    };
    if !csrf_ok {
        return Ok(again(
            StatusCode::FORBIDDEN,
            "The form expired. Please sign in again.",
        ));
    }
    let cfg = &state.config.oauth;
    let since = now - secs(cfg.signin_window_secs);
    let account_key = format!("login:{}", login.to_lowercase());
    let address_key = format!("ip:{}", addr.0);
    // The attempt counts against the account before its password is checked:
    // counting first and recording after a wrong password let every one of
    // a burst of parallel attempts see the same low count, so all of them
    // were checked. Recorded first, the attempts of a burst each see their
    // own place in it, and at most the limit are ever checked; a success
    // clears the account's count below.
    // Likewise against the address, so a burst over many logins from one
    // address is held to its limit too; a success forgets this one attempt
    // (only the account's count is cleared: an attacker must not reset the
    // address's count by signing in to an account of their own).
    state
        .store
        .record_signin_failure(&account_key, now)
        .await
        .map_err(server_error)?;
    let address_attempt = state
        .store
        .record_signin_failure(&address_key, now)
        .await
        .map_err(server_error)?;
    let counts = async {
        Ok::<_, tracker_store::StoreError>((
            state
                .store
                .signin_failures_since(&account_key, since)
                .await?,
            state
                .store
                .signin_failures_since(&address_key, since)
                .await?,
        ))
    }
    .await;
    let (by_account, by_address) = counts.map_err(server_error)?;
    let user = state
        .store
        .user_by_login(&login)
        .await
        .map_err(server_error)?;
    if by_account > cfg.signin_max_failures_per_account
        || by_address > cfg.signin_max_failures_per_address
    {
        audit(
            &state,
            None,
            user.as_ref().map(|u| u.uid),
            "signin.locked",
            &login,
            if by_account > cfg.signin_max_failures_per_account {
                "too many failures for the account"
            } else {
                "too many failures from the address"
            },
            &addr,
        )
        .await;
        return Ok(again(
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "Too many failed sign-in attempts. Sign-in is locked for up to {} minutes.",
                cfg.signin_window_secs.div_ceil(60)
            ),
        ));
    }
    let verified = match &user {
        Some(u) if !u.dismissed => match &u.password_hash {
            Some(h) => passwords::verify_password(h.clone(), password).await,
            None => false,
        },
        _ => {
            // Spend the same time as a real check so timing does not tell
            // which logins exist.
            let _ = passwords::verify_password(DUMMY_HASH.into(), password).await;
            false
        }
    };
    let known_uid = user.as_ref().map(|u| u.uid);
    let Some(user) = user.filter(|_| verified) else {
        audit(
            &state,
            None,
            known_uid,
            "signin.denied",
            &login,
            "wrong login or password",
            &addr,
        )
        .await;
        return Ok(again(StatusCode::UNAUTHORIZED, "Wrong login or password."));
    };
    state
        .store
        .clear_signin_failures(&account_key)
        .await
        .map_err(server_error)?;
    state
        .store
        .forget_signin_failure(address_attempt)
        .await
        .map_err(server_error)?;
    start_session(&state, &headers, &user, &next, &addr, "").await
}

/// Opens a browser session for `user` and sends the browser to `next`: the
/// end of every way of signing in (a password, an identity provider).
pub(super) async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    next: &str,
    addr: &ClientAddr,
    how: &str,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let secret = mint(prefix::SESSION);
    let lifetime = state.config.oauth.session_lifetime_secs;
    state
        .store
        .create_session(&TokenHash::of(&secret), user.uid, now, now + secs(lifetime))
        .await
        .map_err(server_error)?;
    audit_user(state, user, "signin.succeeded", how, addr).await;
    let mut r = see_other(next);
    set_cookie(
        &mut r,
        state,
        headers,
        SESSION_COOKIE,
        &secret,
        Some(lifetime as i64),
    );
    Ok(r)
}

/// An argon2 hash of a random password, checked against when the login is
/// unknown.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2hVZ5wM0Y7b7V6o3zq7Sx6oJm3yWq0a2m8oTnQ2bJ9w";

pub async fn signout(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeSession(session): MaybeSession,
    addr: ClientAddr,
    form: Result<FormParams, super::OAuthError>,
) -> Result<Response, PageError> {
    let form = form.unwrap_or_default();
    // Signing out without a session is already done; only a session's own
    // form may end it.
    if let Some(s) = session {
        if !s.check_csrf(form.get("csrf")) {
            return Err(PageError::expired("Reload the page."));
        }
        state
            .store
            .delete_session(&s.secret_hash)
            .await
            .map_err(server_error)?;
        audit_user(&state, &s.user, "signout", "", &addr).await;
    }
    let mut r = see_other("/signin");
    set_cookie(&mut r, &state, &headers, SESSION_COOKIE, "", Some(0));
    Ok(r)
}

fn password_form(csrf: &str, next: &str, error: Option<&str>) -> String {
    let err = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    format!(
        "<p>Your administrator asks you to choose a new password before you continue.</p>{err}\
         <form method=\"post\" action=\"/password\">{}{}\
         <label for=\"password\">New password (at least 10 characters)</label>\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"new-password\" required minlength=\"10\">\
         <label for=\"again\">New password again</label>\
         <input type=\"password\" id=\"again\" name=\"again\" autocomplete=\"new-password\" required minlength=\"10\">\
         <button type=\"submit\" id=\"change\">Change password</button></form>",
        hidden("csrf", csrf),
        hidden("next", next),
    )
}

pub async fn password_page(
    MaybeSession(session): MaybeSession,
    crate::extract::ApiQuery(q): crate::extract::ApiQuery<NextQuery>,
) -> Result<Response, PageError> {
    let next = super::session::safe_next(q.next.as_deref());
    let s = session.ok_or_else(|| {
        PageError::SignIn(format!(
            "/password?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        ))
    })?;
    Ok(html::page(
        StatusCode::OK,
        "Choose a new password",
        &password_form(&s.csrf, &next, None),
    ))
}

/// The password form.
pub struct PasswordPage;

impl FormPage for PasswordPage {
    const BACK_TO: &'static str = "/password";
}

pub async fn password_submit(
    State(state): State<AppState>,
    addr: ClientAddr,
    SignedInForm {
        session: s, form, ..
    }: SignedInForm<PasswordPage>,
) -> Result<Response, PageError> {
    let next = super::session::safe_next(form.get("next"));
    let password = form.get("password").unwrap_or("");
    let problem = if password.chars().count() < 10 {
        Some("The password must be at least 10 characters long.")
    } else if Some(password) != form.get("again") {
        Some("The two passwords differ.")
    } else {
        None
    };
    if let Some(p) = problem {
        return Ok(html::page(
            StatusCode::BAD_REQUEST,
            "Choose a new password",
            &password_form(&s.csrf, &next, Some(p)),
        ));
    }
    let hash = passwords::hash_password(password.to_owned())
        .await
        .map_err(server_error)?;
    state
        .store
        .set_password(s.user.uid, &hash, false)
        .await
        .map_err(server_error)?;
    audit_user(&state, &s.user, "password.changed", "", &addr).await;
    Ok(see_other(&next))
}

impl IntoResponse for AuthzError {
    fn into_response(self) -> Response {
        AuthzError::into_response(self, StatusCode::FOUND)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stand_in_hash_for_unknown_logins_is_a_real_argon2_hash() {
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
