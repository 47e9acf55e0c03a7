//! "My tokens and apps" and the application registration page.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use tracker_domain::Scope;

use super::apps::{register, CreateApp};
use super::html::PageError;
use super::html::{self, esc, hidden};
use super::session::{see_other, FormPage, MaybeSession, Session, SignedInForm};
use super::{audit, ClientAddr};
use crate::error::ApiError;
use crate::state::AppState;

/// The account page's forms: a signed-out browser comes back to `/my`.
pub struct AccountPage;

impl FormPage for AccountPage {
    const BACK_TO: &'static str = "/my";
}

/// The registration form.
pub struct NewAppPage;

impl FormPage for NewAppPage {
    const BACK_TO: &'static str = "/my/apps/new";
}

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn post_button(action: &str, csrf: &str, label: &str, id: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\">{}<button type=\"submit\" id=\"{}\">{}</button></form>",
        esc(action),
        hidden("csrf", csrf),
        esc(id),
        esc(label)
    )
}

pub async fn page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> Result<Response, PageError> {
    let s = session.ok_or_else(AccountPage::signed_out)?;
    render(&state, &s).await
}

async fn render(state: &AppState, s: &Session) -> Result<Response, PageError> {
    let now = state.clock.now();
    let uid = s.user.uid;
    let mut body = format!(
        "<p>Signed in as <strong>{}</strong> ({}).</p>{}",
        esc(&s.user.display()),
        esc(&s.user.login),
        post_button("/signout", &s.csrf, "Sign out", "signout")
    );

    body.push_str("<h2>Applications with access</h2>");
    let consents = state.store.list_consents(uid).await?;
    if consents.is_empty() {
        body.push_str("<p>No application has access to your account.</p>");
    } else {
        body.push_str(
            "<table id=\"consents\"><thead><tr><th scope=\"col\">Application</th>\
             <th scope=\"col\">Access</th><th scope=\"col\">Allowed</th><th scope=\"col\">\
             Action</th></tr></thead><tbody>",
        );
        for c in consents {
            let Some(app) = state.store.app_by_id(c.app_id).await? else {
                continue;
            };
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&app.name),
                esc(&c.scopes.to_list()),
                when(c.granted_at),
                post_button(
                    &format!("/my/consents/{}/withdraw", app.client_id),
                    &s.csrf,
                    &format!("Withdraw access of {}", app.name),
                    &format!("withdraw-{}", app.client_id)
                )
            ));
        }
        body.push_str("</tbody></table>");
    }

    body.push_str("<h2>Your tokens</h2>");
    let tokens: Vec<_> = state
        .store
        .list_tokens(uid)
        .await?
        .into_iter()
        .filter(|t| t.is_live(now))
        .collect();
    if tokens.is_empty() {
        body.push_str("<p>You have no live tokens.</p>");
    } else {
        body.push_str(
            "<table id=\"tokens\"><thead><tr><th scope=\"col\">Token</th><th scope=\"col\">\
             Access</th><th scope=\"col\">Issued</th><th scope=\"col\">Expires</th>\
             <th scope=\"col\">Action</th></tr></thead><tbody>",
        );
        for t in tokens {
            let label = if t.minted.description.is_empty() {
                format!("Token {}", t.id)
            } else {
                t.minted.description.clone()
            };
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&label),
                esc(&t.minted.scopes.to_list()),
                when(t.minted.created_at),
                t.minted
                    .expires_at
                    .map(when)
                    .unwrap_or_else(|| "never".into()),
                post_button(
                    &format!("/my/tokens/{}/revoke", t.id),
                    &s.csrf,
                    &format!("Revoke token {}", t.id),
                    &format!("revoke-{}", t.id)
                )
            ));
        }
        body.push_str("</tbody></table>");
    }

    body.push_str("<h2>Applications you registered</h2>");
    let apps = state.store.list_apps_of_owner(uid).await?;
    if apps.is_empty() {
        body.push_str("<p>None yet.</p>");
    } else {
        body.push_str("<ul id=\"apps\">");
        for a in apps {
            body.push_str(&format!(
                "<li><strong>{}</strong> — client_id <code>{}</code> ({}), redirect: {}</li>",
                esc(&a.name),
                esc(&a.client_id),
                if a.confidential {
                    "confidential"
                } else {
                    "public"
                },
                esc(&a.redirect_uris.join(", "))
            ));
        }
        body.push_str("</ul>");
    }
    body.push_str("<p><a href=\"/my/apps/new\" id=\"register\">Register an application</a></p>");
    Ok(html::page(StatusCode::OK, "Your tokens and apps", &body))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    addr: ClientAddr,
    Path(id): Path<i64>,
    SignedInForm { session: s, .. }: SignedInForm<AccountPage>,
) -> Result<Response, PageError> {
    // Only the account's own tokens: anything else is "not found".
    let owned = state
        .store
        .list_tokens(s.user.uid)
        .await?
        .into_iter()
        .any(|t| t.id == id);
    if !owned {
        return Err(PageError::refused(
            StatusCode::NOT_FOUND,
            "No such token",
            "Reload the page.",
        ));
    }
    state.store.revoke_token(id, state.clock.now()).await?;
    state.auth.invalidate_all();
    audit(
        &state,
        None,
        Some(s.user.uid),
        "token.revoked",
        format!("token {id}"),
        "revoked on the account page",
        &addr,
    )
    .await;
    Ok(see_other("/my"))
}

pub async fn withdraw_consent(
    State(state): State<AppState>,
    addr: ClientAddr,
    Path(client_id): Path<String>,
    SignedInForm { session: s, .. }: SignedInForm<AccountPage>,
) -> Result<Response, PageError> {
    let app = state
        .store
        .app_by_client_id(&client_id)
        .await?
        .ok_or_else(|| {
            PageError::refused(
                StatusCode::NOT_FOUND,
                "No such application",
                "Reload the page.",
            )
        })?;
    state
        .store
        .withdraw_consent(s.user.uid, app.id, state.clock.now())
        .await?;
    state.auth.invalidate_all();
    audit(
        &state,
        None,
        Some(s.user.uid),
        "consent.withdrawn",
        &app.client_id,
        "every token of the application was revoked",
        &addr,
    )
    .await;
    Ok(see_other("/my"))
}

fn app_form(s: &Session, orgs: &[(i64, String)], error: Option<&str>) -> String {
    let err = html::form_error(error);
    let options: String = orgs
        .iter()
        .map(|(id, name)| format!("<option value=\"{id}\">{}</option>", esc(name)))
        .collect();
    format!(
        "{err}<form method=\"post\" action=\"/my/apps/new\">{}\
         <label for=\"name\">Application name</label>\
         <input type=\"text\" id=\"name\" name=\"name\" required maxlength=\"100\">\
         <label for=\"redirect_uris\">Redirect URIs, one per line (compared exactly)</label>\
         <textarea id=\"redirect_uris\" name=\"redirect_uris\" rows=\"3\" required></textarea>\
         <label for=\"org\">Organization</label><select id=\"org\" name=\"org\">{options}</select>\
         <fieldset><legend>Type</legend>\
         <label><input type=\"radio\" name=\"type\" value=\"confidential\" id=\"type-confidential\" checked> \
         Confidential (a server that can keep a secret)</label>\
         <label><input type=\"radio\" name=\"type\" value=\"public\" id=\"type-public\"> \
         Public (a browser or desktop app; must use PKCE)</label></fieldset>\
         <fieldset><legend>Access</legend>\
         <label><input type=\"checkbox\" name=\"scope_read\" id=\"scope-read\" checked> {}</label>\
         <label><input type=\"checkbox\" name=\"scope_write\" id=\"scope-write\"> {}</label></fieldset>\
         <button type=\"submit\" id=\"create\">Register</button></form>",
        hidden("csrf", &s.csrf),
        esc(super::scope_label(Scope::Read)),
        esc(super::scope_label(Scope::Write)),
    )
}

async fn org_choices(state: &AppState, uid: i64) -> Result<Vec<(i64, String)>, PageError> {
    let mut out = Vec::new();
    let orgs = state.store.list_organizations().await?;
    for m in state.store.memberships_of(uid).await? {
        if let Some(o) = orgs.iter().find(|o| o.id == m.org) {
            out.push((o.id, format!("{} ({})", o.name, o.org_id)));
        }
    }
    Ok(out)
}

pub async fn new_app_page(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> Result<Response, PageError> {
    let s = session.ok_or_else(NewAppPage::signed_out)?;
    let orgs = org_choices(&state, s.user.uid).await?;
    Ok(html::page(
        StatusCode::OK,
        "Register an application",
        &app_form(&s, &orgs, None),
    ))
}

pub async fn new_app_submit(
    State(state): State<AppState>,
    addr: ClientAddr,
    SignedInForm {
        session: s, form, ..
    }: SignedInForm<NewAppPage>,
) -> Result<Response, PageError> {
    let orgs = org_choices(&state, s.user.uid).await?;
    let org = form
        .get("org")
        .and_then(|o| o.parse::<i64>().ok())
        .filter(|o| orgs.iter().any(|(id, _)| id == o));
    let Some(org) = org else {
        return Ok(html::page(
            StatusCode::BAD_REQUEST,
            "Register an application",
            &app_form(&s, &orgs, Some("Choose one of your organizations.")),
        ));
    };
    let mut scopes = Vec::new();
    if form.get("scope_read").is_some() {
        scopes.push("tracker:read".to_owned());
    }
    if form.get("scope_write").is_some() {
        scopes.push("tracker:write".to_owned());
    }
    let body = CreateApp {
        name: form.get("name").unwrap_or("").to_owned(),
        redirect_uris: form
            .get("redirect_uris")
            .unwrap_or("")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        kind: form.get("type").map(str::to_owned),
        scopes: Some(scopes),
        client_id: None,
        client_secret: None,
    };
    let (app, secret) = match register(
        state.store.as_ref(),
        state.clock.now(),
        org,
        s.user.uid,
        body,
    )
    .await
    {
        Ok(r) => r,
        Err(ApiError::Unprocessable { message, .. }) => {
            return Ok(html::page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Register an application",
                &app_form(&s, &orgs, Some(&message)),
            ))
        }
        Err(e) => return Err(PageError::internal(e)),
    };
    audit(
        &state,
        Some(org),
        Some(s.user.uid),
        "app.created",
        &app.client_id,
        &app.name,
        &addr,
    )
    .await;
    let secret_html = match secret {
        Some(sec) => format!(
            "<p>Client secret — <strong>shown only now</strong>, copy it:</p>\
             <p class=\"secret\" id=\"client-secret\">{}</p>",
            esc(&sec)
        ),
        None => "<p>This is a public client: it has no secret and must use PKCE.</p>".into(),
    };
    Ok(html::page(
        StatusCode::CREATED,
        "Application registered",
        &format!(
            "<p><strong>{}</strong> is registered.</p><p>Client ID:</p>\
             <p class=\"secret\" id=\"client-id\">{}</p>{secret_html}\
             <p><a href=\"/my\">Back to your tokens and apps</a></p>",
            esc(&app.name),
            esc(&app.client_id)
        ),
    ))
}
