//! The first queue calls: create, get, list. Queue settings belong to the
//! organization's administrators until the permission model arrives.

use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tracker_api::{CreateQueueRequest, Reference};
use tracker_store::{NewQueue, QueueRecord};

use crate::app::{json, ApiJson, ApiQuery, AppState, Links};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::paging::{Page, PageParams};
use crate::routes::users::find_member;

async fn render(state: &AppState, q: &QueueRecord, links: &Links) -> ApiResult<tracker_api::Queue> {
    let lead = state.store.user_by_uid(q.lead_uid).await?.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "queue {} has a lead that does not exist",
            q.key
        ))
    })?;
    Ok(tracker_api::Queue {
        self_url: links.api(&format!("queues/{}", q.key)),
        id: q.id,
        key: q.key.clone(),
        version: q.version,
        name: q.name.clone(),
        description: q.description.clone(),
        lead: Reference {
            self_url: links.api(&format!("users/{}", lead.uid)),
            id: lead.uid.to_string(),
            key: None,
            display: lead.display(),
        },
        assign_auto: false,
        deny_voting: false,
    })
}

/// Queue keys are 1–15 Latin letters (Tracker upper-cases them).
pub fn valid_queue_key(key: &str) -> bool {
    (1..=15).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_uppercase())
}

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    links: Links,
    ApiJson(body): ApiJson<CreateQueueRequest>,
) -> ApiResult<Response> {
    if !principal.org_admin {
        return Err(ApiError::Forbidden(
            "Only organization administrators may create queues".into(),
        ));
    }
    let key = body.key.trim().to_ascii_uppercase();
    if !valid_queue_key(&key) {
        return Err(ApiError::field(
            "key",
            "The queue key must be 1 to 15 Latin letters",
        ));
    }
    if body.name.trim().is_empty() {
        return Err(ApiError::field("name", "The queue name must not be empty"));
    }
    let lead = find_member(&state, &principal, body.lead.trim())
        .await
        .map_err(|_| ApiError::field("lead", format!("User {} not found", body.lead)))?;
    let queue = state
        .store
        .create_queue(
            principal.org.id,
            &NewQueue {
                key: key.clone(),
                name: body.name.trim().to_owned(),
                description: body.description,
                lead_uid: lead.uid,
                created_at: state.clock.now(),
            },
        )
        .await
        .map_err(|e| match e {
            tracker_store::StoreError::Conflict(_) => {
                ApiError::Conflict(format!("Queue {key} already exists"))
            }
            e => e.into(),
        })?;
    Ok(json(
        StatusCode::CREATED,
        &render(&state, &queue, &links).await?,
    ))
}

pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    links: Links,
    Path(key): Path<String>,
) -> ApiResult<Json<tracker_api::Queue>> {
    let queue = match key.parse::<i64>() {
        Ok(id) => state.store.queue_by_id(principal.org.id, id).await?,
        Err(_) => {
            state
                .store
                .queue_by_key(principal.org.id, &key.to_ascii_uppercase())
                .await?
        }
    }
    .ok_or_else(|| ApiError::NotFound(format!("Queue {key} not found")))?;
    Ok(Json(render(&state, &queue, &links).await?))
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    links: Links,
    OriginalUri(uri): OriginalUri,
    ApiQuery(params): ApiQuery<PageParams>,
) -> ApiResult<Response> {
    let page = Page::from_params(&params)?;
    let (queues, total) = state
        .store
        .list_queues(principal.org.id, page.offset(), page.size)
        .await?;
    let mut body = Vec::with_capacity(queues.len());
    for q in &queues {
        body.push(render(&state, q, &links).await?);
    }
    let headers = page.headers(total, &links.api("queues"), uri.query());
    Ok((StatusCode::OK, headers, Json(body)).into_response())
}
