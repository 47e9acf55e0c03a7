//! A project's, portfolio's or goal's checklist: kept in the entity's
//! fields document as an issue keeps its own in its extra fields, read and
//! edited by the same functions (checklists.rs); each change is one write
//! of the entity with its event, answered with the entity and its items.

use axum::extract::Path;
use axum::Json;
use serde_json::{json, Map, Value};
use tracker_store::EntityRecord;

use crate::access::entities::{event, kind, load, simple_write, write_fresh};
use crate::error::ApiResult;
use crate::extract::{Api, ApiJson, OptionalJson};
use crate::routes::checklists::{
    apply_edit, item_changed, items_in, items_replaced, items_to_add, move_edit, store_items, Edit,
};
use crate::routes::entities::{render, View};

async fn entity(cx: &Api, kind_segment: &str, id: &str) -> ApiResult<EntityRecord> {
    load(&cx.state, &cx.principal, kind(kind_segment)?, id).await
}

/// Applies `edit` to the freshest copy of the entity and answers the entity
/// with its items.
async fn save(cx: &Api, e: EntityRecord, edit: Edit) -> ApiResult<Json<Value>> {
    let now = cx.clock.now();
    let saved = write_fresh(&cx.state, &cx.principal, e, |mut e| {
        let items = apply_edit(items_in(&e.fields), &edit)?;
        let change = store_items(&mut e.fields, items);
        e.updated_at = now;
        let changes = json!([{
            "field": {"id": change.field, "display": "Checklist"},
            "from": change.from,
            "to": change.to,
        }]);
        Ok(simple_write(
            e,
            vec![event(&cx.principal, now, "Entity updated", changes)],
        ))
    })
    .await?;
    let mut r = cx.renderer().at(now);
    Ok(Json(
        render(&mut r, &saved, &View::with_fields(&["checklistItems"])).await?,
    ))
}

pub async fn add(
    cx: Api,
    Path((kind_segment, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let e = entity(&cx, &kind_segment, &id).await?;
    let items = items_to_add(&cx, body).await?;
    save(&cx, e, Edit::Add(items)).await
}

/// `PATCH …/checklistItems`: the items named (one object, or a list), each
/// by its id; the others stay as they are.
pub async fn change_many(
    cx: Api,
    Path((kind_segment, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let e = entity(&cx, &kind_segment, &id).await?;
    let bodies: Vec<Map<String, Value>> = match body {
        Value::Object(m) => vec![m],
        Value::Array(l) => l
            .into_iter()
            .map(|v| match v {
                Value::Object(m) => Ok(m),
                _ => Err(crate::error::ApiError::BadRequest(
                    "Each item is an object".into(),
                )),
            })
            .collect::<ApiResult<_>>()?,
        _ => {
            return Err(crate::error::ApiError::BadRequest(
                "The body is an item or a list of items".into(),
            ))
        }
    };
    let all = items_replaced(&cx, &items_in(&e.fields), &bodies, false).await?;
    save(&cx, e, Edit::Replace(all)).await
}

pub async fn change(
    cx: Api,
    Path((kind_segment, id, item)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let e = entity(&cx, &kind_segment, &id).await?;
    let changed = item_changed(&cx, &items_in(&e.fields), &item, &body).await?;
    save(&cx, e, Edit::Change(item, Box::new(changed))).await
}

pub async fn move_item(
    cx: Api,
    Path((kind_segment, id, item)): Path<(String, String, String)>,
    OptionalJson(body): OptionalJson,
) -> ApiResult<Json<Value>> {
    let e = entity(&cx, &kind_segment, &id).await?;
    let edit = move_edit(item, &body)?;
    save(&cx, e, edit).await
}

pub async fn remove(
    cx: Api,
    Path((kind_segment, id, item)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let e = entity(&cx, &kind_segment, &id).await?;
    save(&cx, e, Edit::Remove(item)).await
}

pub async fn clear(
    cx: Api,
    Path((kind_segment, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let e = entity(&cx, &kind_segment, &id).await?;
    save(&cx, e, Edit::Clear).await
}
