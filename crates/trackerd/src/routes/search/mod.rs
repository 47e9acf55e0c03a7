//! Finding issues: `POST /v2/issues/_search`, `POST /v2/issues/_count` and
//! `POST /v2/system/search/scroll/_clear`.
//!
//! The store hands over the candidates (the organization's issues, narrowed
//! by queue or keys); the query language (`tracker-query`) is evaluated on
//! them in memory, and only issues the caller may read survive. The choices
//! where the reference is silent are listed in docs/COMPATIBILITY.md.

use axum::extract::RawQuery;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde_json::{Map, Value as Json_};
use tracker_domain::permissions::Perm;
use tracker_domain::TokenHash;
use tracker_store::{IssueRecord, NewScroll, QueueRecord, ScrollPage};

use crate::access::Guard;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::extract::{json_body, json_bytes, Api, Links, OptionalJson};
use crate::paging::{Page, PageParams};
use crate::render::Renderer;
use crate::render::{render_doc_with, GetParams};
use crate::state::AppState;

mod body;
mod document;
pub mod kept;
mod plan;
mod run;
pub mod scroll;

use body::*;
use run::*;
use scroll::*;

/// Page paging stops here, as in Tracker: deeper results need a scroll.
pub const PAGE_PAGING_LIMIT: i64 = 10_000;

/// The issues with these keys rendered as the search answers them, with one
/// renderer for the page (users and queues are looked up once): the JSON
/// array's bytes.
async fn render_page(
    state: &AppState,
    principal: &Principal,
    links: &Links,
    found: (&[i64], &[QueueRecord]),
    get: &GetParams,
) -> ApiResult<Bytes> {
    let (pks, queues) = found;
    let issues = state.store.issues_by_pks(principal.org.id, pks).await?;
    render_issues(state, principal, links, &issues, queues, get).await
}

async fn render_issues(
    state: &AppState,
    principal: &Principal,
    links: &Links,
    issues: &[IssueRecord],
    queues: &[QueueRecord],
    get: &GetParams,
) -> ApiResult<Bytes> {
    let mut r = Renderer::new(links, state.store.as_ref(), principal.org.id)
        .knowing(&principal.user, None)
        .knowing_queues(queues);
    r.know_users(issues.iter().flat_map(|i| {
        [Some(i.author), Some(i.updated_by), i.assignee]
            .into_iter()
            .flatten()
            .chain(i.followers.iter().copied())
    }))
    .await?;
    let mut docs = Vec::with_capacity(issues.len());
    for issue in issues {
        docs.push(render_doc_with(&mut r, links, issue, get).await?);
    }
    json_body(&docs)
}

/// The keys of the issues a query-language `query` finds for the caller,
/// in the order a search answers them (a bulk change names its issues so).
pub async fn matching_keys(
    state: &AppState,
    principal: &Principal,
    query: &str,
) -> ApiResult<Vec<String>> {
    let body = Map::from_iter([("query".to_owned(), Json_::String(query.to_owned()))]);
    let issues = state
        .store
        .issues_by_pks(
            principal.org.id,
            &matching_pks(state, principal, &body).await?,
        )
        .await?;
    Ok(issues.into_iter().map(|i| i.key).collect())
}

/// The internal keys of the issues a search body (`query` or `filter`)
/// finds for the caller, in the order a search answers them (an
/// auto-action runs over its filter so).
pub async fn matching_pks(
    state: &AppState,
    principal: &Principal,
    body: &Map<String, Json_>,
) -> ApiResult<Vec<i64>> {
    let search = read_body(state, principal, body).await?;
    Ok(run(state, principal, &search, true, Window::All).await?.pks)
}

pub async fn count(cx: Api, OptionalJson(body): OptionalJson) -> ApiResult<Json<i64>> {
    let search = read_body(&cx.state, &cx.principal, &body).await?;
    let found = run(&cx.state, &cx.principal, &search, false, Window::Count).await?;
    Ok(Json(found.total))
}

pub async fn search(
    cx: Api,
    RawQuery(raw): RawQuery,
    OptionalJson(body): OptionalJson,
) -> ApiResult<Response> {
    let p = params(raw.as_deref())?;
    let get = GetParams {
        expand: p.expand.clone(),
        fields: p.fields.clone(),
    };
    let url = cx.links.api("issues/_search");
    if let Some(id) = &p.scroll_id {
        return next_scroll_page(
            &cx.state,
            &cx.principal,
            &cx.links,
            &url,
            raw.as_deref(),
            &p,
            &get,
            id,
        )
        .await;
    }
    let search = read_body(&cx.state, &cx.principal, &body).await?;
    if let Some(kind) = &p.scroll_type {
        let sorted = match kind.as_str() {
            "sorted" => true,
            "unsorted" => false,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "scrollType must be sorted or unsorted, not {other:?}"
                )))
            }
        };
        if search.form != Form::Filter {
            return Err(ApiError::BadRequest("Scroll is not supported".into()));
        }
        let per = match p.per_scroll {
            None => DEFAULT_PER_SCROLL,
            Some(n) if (1..=MAX_PER_SCROLL as i64).contains(&n) => n as usize,
            Some(n) => {
                return Err(ApiError::BadRequest(format!(
                    "perScroll must be between 1 and {MAX_PER_SCROLL}, not {n}"
                )))
            }
        };
        let ttl = scroll_ttl(p.scroll_ttl_millis)?;
        let found = run(&cx.state, &cx.principal, &search, sorted, Window::All).await?;
        let total = found.pks.len();
        let first = &found.pks[..per.min(total)];
        let items = render_page(
            &cx.state,
            &cx.principal,
            &cx.links,
            (first, &found.queues),
            &get,
        )
        .await?;
        let mut headers = HeaderMap::new();
        put(&mut headers, "x-total-count", total.to_string());
        let first_link = format!(
            "<{url}?{}>; rel=\"first\"",
            link_query(raw.as_deref(), &["scrollId", "scrollToken"], &[])
        );
        let mut link = vec![first_link];
        if total > per {
            let ctx = random_hex();
            let secret = random_hex();
            cx.store
                .open_scroll(
                    &NewScroll {
                        id: ctx.clone(),
                        org: cx.principal.org.id,
                        uid: cx.principal.user.uid,
                        token_hash: TokenHash::of(&secret),
                        per: per as i64,
                        ttl_ms: ttl,
                        pks: found.pks,
                    },
                    cx.clock.now().timestamp_millis(),
                )
                .await?;
            let next_id = format!("{ctx}-{per}");
            link.push(next_link(
                &url,
                raw.as_deref(),
                &next_id,
                Some(&secret),
                ttl,
            ));
            put(&mut headers, "x-scroll-id", next_id);
            put(&mut headers, "x-scroll-token", secret);
        }
        put(&mut headers, "link", link.join(", "));
        return Ok((StatusCode::OK, headers, json_bytes(items)).into_response());
    }

    let page = Page::from_params(&PageParams {
        page: p.page,
        per_page: p.per_page,
    })?;
    if page.number.saturating_mul(page.size) > PAGE_PAGING_LIMIT {
        return Err(ApiError::BadRequest(format!(
            "Page paging reaches only the first {PAGE_PAGING_LIMIT} issues \
             (page × perPage must not exceed it): use scrollType to read further"
        )));
    }
    let window = Window::Page {
        offset: page.offset(),
        limit: page.size,
    };
    let found = run(&cx.state, &cx.principal, &search, true, window).await?;
    let items = render_page(
        &cx.state,
        &cx.principal,
        &cx.links,
        (&found.pks, &found.queues),
        &get,
    )
    .await?;
    let headers = page.headers(found.total, &url, raw.as_deref());
    Ok((StatusCode::OK, headers, json_bytes(items)).into_response())
}

fn put(h: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        h.insert(HeaderName::from_static(name), v);
    }
}

#[allow(clippy::too_many_arguments)]
async fn next_scroll_page(
    state: &AppState,
    principal: &Principal,
    links: &Links,
    url: &str,
    raw: Option<&str>,
    p: &SearchParams,
    get: &GetParams,
    id: &str,
) -> ApiResult<Response> {
    let gone = || ApiError::NotFound(format!("Scroll {id} does not exist or has expired"));
    let (ctx, offset) = id.split_once('-').ok_or_else(gone)?;
    let offset: usize = offset.parse().map_err(|_| gone())?;
    let now = state.clock.now();
    let ttl_override = p
        .scroll_ttl_millis
        .map(|t| scroll_ttl(Some(t)))
        .transpose()?;
    // The id carries the page's offset: a multiple of the page size.
    let Some(ScrollPage {
        pks,
        total,
        per,
        ttl_ms: ttl,
        last,
    }) = state
        .store
        .scroll_page(
            ctx,
            principal.org.id,
            principal.user.uid,
            offset as i64,
            now.timestamp_millis(),
            ttl_override,
        )
        .await?
    else {
        return Err(gone());
    };
    // The set of issues is the snapshot; their content and the caller's
    // rights are today's.
    let mut guard = Guard::new(state, principal);
    let mut readable = Vec::with_capacity(pks.len());
    for issue in state.store.issues_by_pks(principal.org.id, &pks).await? {
        if guard.issue_allows(&issue, Perm::Read).await? {
            readable.push(issue);
        }
    }
    let queues = guard.queues_read();
    let items = render_issues(state, principal, links, &readable, &queues, get).await?;
    let mut headers = HeaderMap::new();
    put(&mut headers, "x-total-count", total.to_string());
    if !last {
        let next_id = format!("{ctx}-{}", offset as i64 + per);
        let token = p.scroll_token.as_deref();
        put(
            &mut headers,
            "link",
            next_link(url, raw, &next_id, token, ttl),
        );
        put(&mut headers, "x-scroll-id", next_id);
        if let Some(token) = token {
            put(&mut headers, "x-scroll-token", token.to_owned());
        }
    }
    Ok((StatusCode::OK, headers, json_bytes(items)).into_response())
}

/// `POST /v2/system/search/scroll/_clear` with `{"<scrollId>": "<scrollToken>", …}`.
pub async fn clear_scroll(cx: Api, OptionalJson(body): OptionalJson) -> ApiResult<Json<Json_>> {
    let mut pairs = Vec::new();
    for (id, token) in &body {
        let Json_::String(token) = token else {
            return Err(ApiError::BadRequest(
                "The body maps scroll ids to their scroll tokens (strings)".into(),
            ));
        };
        pairs.push((id.clone(), token.clone()));
    }
    for (id, token) in pairs {
        let ctx = id.split_once('-').map(|(c, _)| c).unwrap_or(&id);
        cx.store
            .close_scroll(
                ctx,
                cx.principal.org.id,
                cx.principal.user.uid,
                &TokenHash::of(&token),
            )
            .await?;
    }
    Ok(Json(Json_::Object(Map::new())))
}
