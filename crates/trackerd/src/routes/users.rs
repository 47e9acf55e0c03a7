//! `GET /v2/myself`, `GET /v2/users`, `GET /v2/users/{uid or login}`.

use axum::extract::Path;
use axum::response::Response;
use axum::Json;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json_body, json_bytes, Api, Links};
use crate::paging::Paged;
use crate::state::AppState;

pub fn render(user: &tracker_store::User, links: &Links) -> tracker_api::User {
    tracker_api::User {
        self_url: links.api(&format!("users/{}", user.uid)),
        uid: user.uid,
        login: user.login.clone(),
        tracker_uid: user.uid,
        passport_uid: user.uid,
        cloud_uid: user.cloud_uid.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        display: user.display(),
        email: user.email.clone(),
        external: false,
        has_license: true,
        dismissed: user.dismissed,
        use_new_filters: true,
        disable_notifications: false,
        first_login_date: user.first_login_at,
        last_login_date: user.last_login_at,
        welcome_mail_sent: true,
    }
}

/// `GET /v2/myself`: the body kept with the caller's authentication when
/// it was rendered for the same links (nearly always: a client keeps its
/// base URL), else rendered now and kept if nothing is yet. Rendering and
/// serializing the account was a sixth of the request's cost.
pub async fn myself(principal: Principal, links: Links) -> ApiResult<Response> {
    let kept = principal
        .authenticated
        .as_ref()
        .and_then(|a| a.myself.get())
        .filter(|m| m.base == links.base && m.version == links.version);
    let body = match kept {
        Some(m) => m.body.clone(),
        None => {
            let body = json_body(&render(&principal.user, &links))?;
            if let Some(a) = &principal.authenticated {
                // Another request may have kept its own first: either is right.
                let _ = a.myself.set(crate::auth::MyselfBody {
                    base: links.base.clone(),
                    version: links.version,
                    body: body.clone(),
                });
            }
            body
        }
    };
    Ok(json_bytes(body))
}

pub async fn list(cx: Api, paged: Paged) -> ApiResult<Response> {
    let page = paged.page;
    let (users, total) = cx
        .store
        .list_members(cx.principal.org.id, page.offset(), page.size)
        .await?;
    let body: Vec<_> = users.iter().map(|u| render(u, &cx.links)).collect();
    Ok(paged.answer(total, &cx.links.api("users"), body))
}

/// Finds a member of the caller's organization by uid or login.
pub async fn find_member(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> ApiResult<tracker_store::User> {
    let user = match id.parse::<i64>() {
        Ok(uid) => state.store.user_by_uid(uid).await?,
        Err(_) => state.store.user_by_login(id).await?,
    };
    match user {
        Some(u)
            if state
                .store
                .membership(principal.org.id, u.uid)
                .await?
                .is_some() =>
        {
            Ok(u)
        }
        // Accounts outside the organization do not exist for its members.
        _ => Err(ApiError::NotFound(format!("User {id} not found"))),
    }
}

pub async fn get(cx: Api, Path(id): Path<String>) -> ApiResult<Json<tracker_api::User>> {
    let user = find_member(&cx.state, &cx.principal, &id).await?;
    Ok(Json(render(&user, &cx.links)))
}
