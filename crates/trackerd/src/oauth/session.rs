//! Browser sessions and CSRF protection.
//!
//! A session is a random `ws_…` secret in an HttpOnly, SameSite=Lax cookie;
//! the store keeps its SHA-256 only. Forms of a signed-in user carry a CSRF
//! token derived from the session secret, so only a page served to that
//! browser can produce it. The sign-in form, which comes before any session,
//! uses a double-submit cookie instead.

use std::marker::PhantomData;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use sha2::{Digest, Sha256};
use tracker_domain::TokenHash;
use tracker_store::User;

use super::html::PageError;
use super::{FormParams, OAuthError};
use crate::extract::base_url;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "trackerd_session";
pub const CSRF_COOKIE: &str = "trackerd_csrf";

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `Secure` when the server is reached over https.
fn secure(state: &AppState, headers: &HeaderMap) -> &'static str {
    if base_url(&state.config, headers).starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

pub fn set_cookie(
    r: &mut Response,
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    value: &str,
    max_age: Option<i64>,
) {
    let age = max_age
        .map(|a| format!("; Max-Age={a}"))
        .unwrap_or_default();
    let v = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax{age}{}",
        secure(state, headers)
    );
    if let Ok(v) = HeaderValue::from_str(&v) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

pub fn csrf_for(session_secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"trackerd csrf v1\0");
    h.update(session_secret.as_bytes());
    hex::encode(h.finalize())
}

/// Compares without stopping at the first difference.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// How long a sign-in form's token is accepted.
const SIGNIN_TOKEN_SECS: i64 = 24 * 3600;

fn form_mac(key: &[u8], body: &str) -> Option<hmac::Hmac<sha2::Sha256>> {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).ok()?;
    mac.update(b"signin-form:");
    mac.update(body.as_bytes());
    Some(mac)
}

/// A token for the sign-in form (before there is a session to bind it to):
/// `cf_<random>.<expiry>.<HMAC>`, so that only values this server issued,
/// recently, pass the form's double-submit check. A cookie and field an
/// attacker made up (and planted) do not.
pub fn issue_signin_token(key: &[u8], now: chrono::DateTime<chrono::Utc>) -> String {
    use hmac::Mac;
    let body = format!(
        "{}.{}",
        super::mint(super::prefix::CSRF),
        now.timestamp() + SIGNIN_TOKEN_SECS
    );
    match form_mac(key, &body) {
        Some(mac) => format!("{body}.{}", hex::encode(mac.finalize().into_bytes())),
        // HMAC takes keys of any length: unreachable, and then no token passes.
        None => body,
    }
}

/// Whether `token` is one [`issue_signin_token`] made and it is still valid.
pub fn signin_token_valid(key: &[u8], token: &str, now: chrono::DateTime<chrono::Utc>) -> bool {
    use hmac::Mac;
    let Some((body, tag)) = token.rsplit_once('.') else {
        return false;
    };
    let Some(expiry) = body
        .rsplit_once('.')
        .and_then(|(_, e)| e.parse::<i64>().ok())
    else {
        return false;
    };
    let (Some(mac), Ok(tag)) = (form_mac(key, body), hex::decode(tag)) else {
        return false;
    };
    expiry > now.timestamp() && mac.verify_slice(&tag).is_ok()
}

/// The signed-in browser user, if any.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub secret_hash: TokenHash,
}

impl Session {
    pub fn check_csrf(&self, sent: Option<&str>) -> bool {
        sent.is_some_and(|s| same(s, &self.csrf))
    }
}

/// Resolves the session cookie; `None` when absent, unknown, expired or the
/// account is disabled.
pub struct MaybeSession(pub Option<Session>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(MaybeSession(None));
        };
        let hash = TokenHash::of(&secret);
        let found = async {
            let Some(s) = state.store.session_by_hash(&hash).await? else {
                return Ok(None);
            };
            if s.expires_at <= state.clock.now() {
                return Ok(None);
            }
            Ok::<_, tracker_store::StoreError>(
                state
                    .store
                    .user_by_uid(s.uid)
                    .await?
                    .filter(|u| !u.dismissed),
            )
        }
        .await;
        match found {
            Ok(Some(user)) => Ok(MaybeSession(Some(Session {
                user,
                csrf: csrf_for(&secret),
                secret_hash: hash,
            }))),
            Ok(None) => Ok(MaybeSession(None)),
            Err(e) => Err(PageError::internal(e)
                .saying("The server could not read your session. Try again later.")),
        }
    }
}

/// The page a signed-in form belongs to: what a browser without a session,
/// or with a form from another session, is told.
pub trait FormPage {
    /// Where a browser without a session signs in before coming back.
    const BACK_TO: &'static str;
    /// What a form whose CSRF token is missing or foreign says.
    const EXPIRED: &'static str = "Reload the page.";

    fn signed_out() -> PageError {
        PageError::SignIn(Self::BACK_TO.to_owned())
    }

    /// A body that is not a form. `None` reads it as an empty form, which
    /// the CSRF check then refuses.
    fn unreadable(_: OAuthError) -> Option<PageError> {
        None
    }
}

/// A form posted by a signed-in browser, its CSRF token checked against the
/// session: a handler that takes one runs only for the session's own pages.
pub struct SignedInForm<P> {
    pub session: Session,
    pub form: FormParams,
    page: PhantomData<P>,
}

impl<P: FormPage> FromRequest<AppState> for SignedInForm<P> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let (mut parts, body) = req.into_parts();
        let MaybeSession(session) = MaybeSession::from_request_parts(&mut parts, state).await?;
        let form = match FormParams::from_request(Request::from_parts(parts, body), state).await {
            Ok(f) => f,
            Err(e) => match P::unreadable(e) {
                Some(refusal) => return Err(refusal),
                None => FormParams::default(),
            },
        };
        let session = session.ok_or_else(P::signed_out)?;
        if !session.check_csrf(form.get("csrf")) {
            return Err(PageError::expired(P::EXPIRED));
        }
        Ok(SignedInForm {
            session,
            form,
            page: PhantomData,
        })
    }
}

/// Where to send a browser after signing in: only paths on this server.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_owned(),
        _ => "/my".to_owned(),
    }
}

/// Whether a browser sent to `n` stays on this server. Browsers drop tabs and
/// newlines anywhere in a URL and read `\` as `/`, so `/<TAB>/evil.example/`
/// is `//evil.example/` to them: any control character, space or backslash
/// is refused, and what remains must resolve to this origin.
fn is_local_path(n: &str) -> bool {
    // A base no real origin can have: the target is local only if joining
    // it keeps this host.
    const HERE: &str = "http://trackerd.invalid/";
    let plain = !n
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    plain
        && n.starts_with('/')
        && !n.starts_with("//")
        && url::Url::parse(HERE)
            .and_then(|base| base.join(n))
            .is_ok_and(|u| u.scheme() == "http" && u.host_str() == Some("trackerd.invalid"))
}

pub fn signin_redirect(next: &str) -> Response {
    let target = format!(
        "/signin?next={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    see_other(&target)
}

pub fn see_other(location: &str) -> Response {
    let mut r = Response::new(axum::body::Body::empty());
    *r.status_mut() = axum::http::StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/authorize?x=1")), "/authorize?x=1");
        assert_eq!(safe_next(Some("//evil.test/")), "/my");
        assert_eq!(safe_next(Some("https://evil.test/")), "/my");
        assert_eq!(safe_next(Some("/\\evil.test")), "/my");
        assert_eq!(safe_next(None), "/my");
        // Browsers drop tabs and newlines, leaving `//evil.example/`.
        assert_eq!(safe_next(Some("/\t/evil.example/")), "/my");
        assert_eq!(safe_next(Some("/\n/evil.example/")), "/my");
        assert_eq!(safe_next(Some("/\r\n/evil.example/")), "/my");
        assert_eq!(safe_next(Some("/ /evil.example/")), "/my");
        assert_eq!(safe_next(Some("/\u{0}/evil.example/")), "/my");
        assert_eq!(safe_next(Some("/my/tokens")), "/my/tokens");
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; trackerd_session=ws_x; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("ws_x"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
