//! Temporary uploads as writes reach them: the files an `attachmentIds`
//! value names (only the caller's own temporary uploads), the write that
//! attaches them, and the error a write that lost one to another request
//! answers. Issue creates and edits, comments, and entity comments attach
//! files through these.

use serde_json::Value;
use tracker_store::{AttachmentWrite, StoreError};

use crate::error::{ApiError, ApiResult};
use crate::extract::Api;

/// The most files one `attachmentIds` may name.
const MAX_IDS: usize = 100;

/// The temporary uploads an `attachmentIds` value names: numbers or
/// numeric strings, each a temporary upload of the caller in the caller's
/// organization (anyone else's is as unknown as a missing one).
pub async fn temporary_ids(cx: &Api, value: Option<&Value>) -> ApiResult<Vec<i64>> {
    let field = "attachmentIds";
    let items: Vec<&Value> = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
    };
    if items.len() > MAX_IDS {
        return Err(ApiError::field(
            field,
            format!("At most {MAX_IDS} attachments at once"),
        ));
    }
    let mut pks = Vec::new();
    for v in items {
        let pk = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        }
        .ok_or_else(|| ApiError::field(field, format!("Not an attachment id: {v}")))?;
        let usable = cx
            .store
            .attachment(cx.principal.org.id, pk)
            .await?
            .is_some_and(|a| a.issue_pk.is_none() && a.created_by == cx.principal.user.uid);
        if !usable {
            return Err(ApiError::field(
                field,
                format!("Attachment {pk} is not a temporary file you uploaded"),
            ));
        }
        if !pks.contains(&pk) {
            pks.push(pk);
        }
    }
    Ok(pks)
}

/// The write that attaches `pks`, if any.
pub fn attach(cx: &Api, pks: Vec<i64>, to_comment: bool) -> Option<AttachmentWrite> {
    (!pks.is_empty()).then(|| AttachmentWrite::Attach {
        uploader: cx.principal.user.uid,
        pks,
        to_comment,
    })
}

/// A write that lost a race for a temporary upload (another request
/// attached it first) fails whole in the store; the caller hears why.
pub fn taken(e: ApiError) -> ApiError {
    match &e {
        ApiError::Internal(cause)
            if matches!(
                cause.downcast_ref::<StoreError>(),
                Some(StoreError::Invalid(m)) if m.starts_with("attachment ")
            ) =>
        {
            ApiError::field(
                "attachmentIds",
                "An attachment was attached elsewhere meanwhile; nothing was changed",
            )
        }
        _ => e,
    }
}
