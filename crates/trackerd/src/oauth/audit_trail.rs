//! The audit trail API: `GET /oauth/v1/audit`.

use axum::extract::OriginalUri;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::SecondsFormat;
use serde::Serialize;
use tracker_store::AuditEvent;

use super::require_org_admin as require_admin;
use crate::error::ApiResult;
use crate::extract::{base_url, json, Api, ApiQuery};
use crate::paging::{Page, PageParams};

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
    cx: Api,
    uri: OriginalUri,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<PageParams>,
) -> ApiResult<Response> {
    require_admin(&cx.principal)?;
    let page = Page::from_params(&params)?;
    let (events, total) = cx
        .store
        .list_audit_events(cx.principal.org.id, page.offset(), page.size)
        .await?;
    let mut views = Vec::with_capacity(events.len());
    for AuditEvent { id, event: e } in events {
        let login = match e.uid {
            Some(uid) => cx.store.user_by_uid(uid).await?.map(|u| u.login),
            None => None,
        };
        views.push(AuditView {
            id,
            at: e.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            action: e.action,
            uid: e.uid,
            login,
            target: e.target,
            detail: e.detail,
            ip: e.ip,
        });
    }
    let url = format!("{}{}", base_url(&cx.config, &headers), uri.0.path());
    let mut r = json(StatusCode::OK, &views);
    r.headers_mut()
        .extend(page.headers(total, &url, uri.0.query()));
    Ok(r)
}
