//! Files attached to issues and comments: temporary uploads (attached later
//! with `attachmentIds`), uploads straight to an issue, the list, downloads,
//! image thumbnails and removal. The bytes stream to the blob store
//! ([`crate::blobs`]) as they arrive; a row is written only after its blob.

use std::io::Cursor;

use axum::body::Body;
use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{Multipart, Path};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;
use serde_json::{json, Value};
use tracker_domain::permissions::Perm;
use tracker_store::{AttachmentRecord, AttachmentWrite, IssueRecord, IssueWrite};

use crate::access::issues::{changelog, simple_write, write_fresh};
use crate::access::Guard;
use crate::access::{by_number, written};
use crate::error::{ApiError, ApiResult};
use crate::extract::{json, Api, ApiQuery};
use crate::render::{time, Renderer};

/// Characters kept as they are in a file name inside a URL path.
const PATH_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// How much of an upload's start is kept to recognize an image and read
/// its dimensions (formats put them in their header).
const SNIFF: usize = 64 * 1024;

/// The longest file name, in characters.
const MAX_NAME: usize = 255;

/// Thumbnails fit in a square of this many pixels.
const THUMB: u32 = 200;

/// The largest image a thumbnail is made of: decoding reads it whole.
const MAX_THUMB_SOURCE: u64 = 50 * 1024 * 1024;

fn encode_name(name: &str) -> String {
    utf8_percent_encode(name, PATH_SAFE).to_string()
}

/// An attachment as Tracker renders it. `issue` is `None` for a temporary
/// upload, whose links point below `/attachments`.
pub async fn render(
    r: &mut Renderer<'_>,
    issue: Option<&IssueRecord>,
    a: &AttachmentRecord,
) -> ApiResult<Value> {
    let links = r.links;
    let base = match issue {
        Some(issue) => format!("issues/{}/attachments/{}", issue.key, a.pk),
        None => format!("attachments/{}", a.pk),
    };
    let mut v = json!({
        "self": links.api(&base),
        "id": a.pk.to_string(),
        "name": a.name,
        "content": links.api(&format!("{base}/{}", encode_name(&a.name))),
        "createdBy": r.user(a.created_by).await?,
        "createdAt": time(&a.created_at),
        "mimetype": a.mimetype,
        "size": a.size,
        "metadata": {},
    });
    if let Some(size) = &a.image_size {
        v["metadata"] = json!({ "size": size });
        if let Some(issue) = issue {
            v["thumbnail"] = json!(links.api(&format!("issues/{}/thumbnails/{}", issue.key, a.pk)));
        }
    }
    Ok(v)
}

/// The issue's attachments, as `expand=attachments` shows them.
pub async fn render_all(r: &mut Renderer<'_>, issue: &IssueRecord) -> ApiResult<Value> {
    let rows = r.store().list_attachments(issue.pk).await?;
    let mut out = Vec::with_capacity(rows.len());
    for a in &rows {
        out.push(render(r, Some(issue), a).await?);
    }
    Ok(Value::Array(out))
}

/// A comment's attachments as the comment shows them: references.
pub fn comment_refs(r: &Renderer<'_>, issue: &IssueRecord, rows: &[AttachmentRecord]) -> Value {
    Value::Array(
        rows.iter()
            .map(|a| {
                json!({
                    "self": r.links.api(&format!("issues/{}/attachments/{}", issue.key, a.pk)),
                    "id": a.pk.to_string(),
                    "display": a.name,
                })
            })
            .collect(),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UploadParams {
    /// The name to store the file as (the official client always sends it).
    pub filename: Option<String>,
}

/// A file received and stored, before its row exists.
struct Received {
    name: String,
    mimetype: String,
    size: i64,
    blob: String,
    image_size: Option<String>,
}

fn clean_name(raw: &str) -> ApiResult<String> {
    // A path's last part: clients send what they opened.
    let name = raw.rsplit(['/', '\\']).next().unwrap_or("").trim();
    if name.is_empty() || name == "." || name == ".." {
        return Err(ApiError::BadRequest(
            "The file name must not be empty".into(),
        ));
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "A file name is at most {MAX_NAME} characters without control characters"
        )));
    }
    Ok(name.to_owned())
}

fn image_info(head: &[u8]) -> Option<(image::ImageFormat, String)> {
    let reader = image::ImageReader::new(Cursor::new(head))
        .with_guessed_format()
        .ok()?;
    let format = reader.format()?;
    if !matches!(
        format,
        image::ImageFormat::Png | image::ImageFormat::Jpeg | image::ImageFormat::Gif
    ) {
        return None;
    }
    let (w, h) = reader.into_dimensions().ok()?;
    Some((format, format!("{w}x{h}")))
}

/// Reads the multipart field `file` into a new blob, streaming.
async fn receive(
    cx: &Api,
    params: &UploadParams,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Received> {
    let mut multipart = multipart.map_err(|e| {
        ApiError::BadRequest(format!(
            "The request must be multipart/form-data with the file in a field named file: {e}"
        ))
    })?;
    let field = loop {
        match multipart.next_field().await {
            Ok(Some(f)) if f.name() == Some("file") => break f,
            Ok(Some(_)) => continue,
            Ok(None) => {
                return Err(ApiError::BadRequest(
                    "The request has no multipart field named file".into(),
                ))
            }
            Err(e) => {
                return Err(ApiError::BadRequest(format!(
                    "Malformed multipart body: {e}"
                )))
            }
        }
    };
    let name = clean_name(
        params
            .filename
            .as_deref()
            .or(field.file_name())
            .unwrap_or("file"),
    )?;
    let declared = field
        .content_type()
        .filter(|t| !t.is_empty() && *t != "application/octet-stream")
        .map(str::to_owned);
    let blob = format!(
        "{}/{}",
        cx.principal.org.id,
        hex::encode(rand::random::<[u8; 16]>())
    );
    let writer = cx
        .blobs
        .create(&blob)
        .await
        .map_err(|e| ApiError::internal(e.context("starting an upload")))?;
    let (size, head) = match stream_into(cx, field, writer).await {
        Ok(done) => done,
        Err(e) => return Err(e),
    };
    let image = image_info(&head);
    let mimetype = declared
        .or_else(|| image.as_ref().map(|(f, _)| f.to_mime_type().to_owned()))
        .unwrap_or_else(|| {
            mime_guess::from_path(&name)
                .first_or_octet_stream()
                .essence_str()
                .to_owned()
        });
    Ok(Received {
        name,
        mimetype,
        size: i64::try_from(size).unwrap_or(i64::MAX),
        blob,
        image_size: image.map(|(_, s)| s),
    })
}

/// Copies the field into the writer chunk by chunk, refusing more than the
/// configured size; on any failure the unfinished blob is dropped.
async fn stream_into(
    cx: &Api,
    mut field: Field<'_>,
    mut writer: Box<dyn crate::blobs::BlobWriter>,
) -> ApiResult<(u64, Vec<u8>)> {
    let limit = cx.config.attachments.max_size_bytes;
    let mut size: u64 = 0;
    let mut head = Vec::new();
    loop {
        let chunk: Bytes = match field.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                writer.abort().await;
                return Err(ApiError::BadRequest(format!(
                    "Could not read the uploaded file: {e}"
                )));
            }
        };
        size += chunk.len() as u64;
        if size > limit {
            writer.abort().await;
            return Err(ApiError::PayloadTooLarge(format!(
                "The file is larger than the limit of {limit} bytes"
            )));
        }
        if head.len() < SNIFF {
            let take = (SNIFF - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        if let Err(e) = writer.write(chunk).await {
            writer.abort().await;
            return Err(ApiError::internal(e.context("writing an upload")));
        }
    }
    writer
        .finish()
        .await
        .map_err(|e| ApiError::internal(e.context("finishing an upload")))?;
    Ok((size, head))
}

/// Removes a blob whose row was never written (or is gone), logging a
/// failure: the blob is then an orphan a sweep may collect.
pub async fn drop_blob(cx: &Api, blob: &str) {
    crate::blobs::remove_file(cx.blobs.as_ref(), blob).await;
}

fn record(cx: &Api, r: Received) -> AttachmentRecord {
    AttachmentRecord {
        pk: 0,
        org: cx.principal.org.id,
        issue_pk: None,
        comment_pk: None,
        name: r.name,
        mimetype: r.mimetype,
        size: r.size,
        blob: r.blob,
        image_size: r.image_size,
        created_by: cx.principal.user.uid,
        created_at: cx.clock.now(),
    }
}

/// `POST /attachments/`: a temporary upload, attached later by id.
pub async fn upload_temporary(
    cx: Api,
    ApiQuery(params): ApiQuery<UploadParams>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let received = receive(&cx, &params, multipart).await?;
    let blob = received.blob.clone();
    let saved = match cx
        .store
        .insert_temporary_attachment(&record(&cx, received))
        .await
    {
        Ok(saved) => saved,
        Err(e) => {
            drop_blob(&cx, &blob).await;
            return Err(e.into());
        }
    };
    let mut r = cx.renderer();
    Ok(json(
        StatusCode::CREATED,
        &render(&mut r, None, &saved).await?,
    ))
}

/// `POST /issues/{key}/attachments/`: a file attached to the issue at once.
pub async fn upload_to_issue(
    cx: Api,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<UploadParams>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    // The issue is checked before a byte is stored.
    let issue = cx.issue(&key).await?;
    let received = receive(&cx, &params, multipart).await?;
    let blob = received.blob.clone();
    let a = record(&cx, received);
    match attach_new(&cx, issue, a).await {
        Ok(v) => Ok(json(StatusCode::CREATED, &v)),
        Err(e) => {
            drop_blob(&cx, &blob).await;
            Err(e)
        }
    }
}

async fn attach_new(cx: &Api, issue: IssueRecord, a: AttachmentRecord) -> ApiResult<Value> {
    let now = a.created_at;
    let data = json!({ "attachments": [{ "name": a.name }] });
    let add = |w: &mut IssueWrite| w.attachments = Some(AttachmentWrite::Insert(a.clone()));
    let saved = cx
        .log_fresh(issue, now, "IssueAttachmentAdded", data, add)
        .await?;
    let rows = cx.store.list_attachments(saved.pk).await?;
    let row = written(rows, "an attachment", |x| x.blob == a.blob)?;
    let mut r = cx.renderer();
    render(&mut r, Some(&saved), &row).await
}

pub async fn list(cx: Api, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let issue = cx.issue(&key).await?;
    let mut r = cx.renderer();
    Ok(Json(render_all(&mut r, &issue).await?))
}

/// The issue's attachment `id`, or 404.
async fn of_issue(cx: &Api, issue: &IssueRecord, id: &str) -> ApiResult<AttachmentRecord> {
    let missing = || ApiError::NotFound(format!("Attachment {id} not found"));
    let pk = id.parse::<i64>().map_err(|_| missing())?;
    cx.store
        .attachment(cx.principal.org.id, pk)
        .await?
        .filter(|a| a.issue_pk == Some(issue.pk))
        .ok_or_else(missing)
}

/// The attachment `id` as `/attachments/{id}` sees it: a temporary upload
/// of the caller's (anyone else's does not exist for them), or an
/// attachment of an issue, which needs the issue's read right.
async fn visible(cx: &Api, id: &str) -> ApiResult<(Option<IssueRecord>, AttachmentRecord)> {
    let missing = || ApiError::NotFound(format!("Attachment {id} not found"));
    let org = cx.principal.org.id;
    let a = by_number("Attachment", id, |pk| cx.store.attachment(org, pk)).await?;
    let Some(issue_pk) = a.issue_pk else {
        // A file of a project, portfolio or goal: for who may read it.
        if let Some(e) = cx.store.entity_of_attachment(org, a.pk).await? {
            crate::access::entities::require(&cx.principal, &e, Perm::Read)?;
            return Ok((None, a));
        }
        return if a.created_by == cx.principal.user.uid {
            Ok((None, a))
        } else {
            Err(missing())
        };
    };
    let issue = cx
        .store
        .issue_by_pk(cx.principal.org.id, issue_pk)
        .await?
        .ok_or_else(missing)?;
    // Refused as the issue itself would refuse the caller.
    Guard::new(&cx.state, &cx.principal)
        .require_issue(&issue, Perm::Read)
        .await?;
    Ok((Some(issue), a))
}

pub async fn get(cx: Api, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let (issue, a) = visible(&cx, &id).await?;
    let mut r = cx.renderer();
    Ok(Json(render(&mut r, issue.as_ref(), &a).await?))
}

/// `GET /attachments/{id}/{filename}`: a temporary upload's bytes.
pub async fn download_by_id(
    cx: Api,
    Path((id, _filename)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (_, a) = visible(&cx, &id).await?;
    send_blob(&cx, &a.blob, &a.mimetype, Some(&a.name)).await
}

/// `GET /issues/{key}/attachments/{id}/{filename}`. The id names the file;
/// the name in the path is the client's (Tracker's links carry it) and is
/// not checked.
pub async fn download(
    cx: Api,
    Path((key, id, _filename)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let issue = cx.issue(&key).await?;
    let a = of_issue(&cx, &issue, &id).await?;
    send_blob(&cx, &a.blob, &a.mimetype, Some(&a.name)).await
}

async fn send_blob(
    cx: &Api,
    blob: &str,
    mimetype: &str,
    name: Option<&str>,
) -> ApiResult<Response> {
    let reader = cx
        .blobs
        .open(blob)
        .await
        .map_err(|e| ApiError::internal(e.context("opening a blob")))?
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "the blob {blob} of an attachment is missing"
            ))
        })?;
    let mut response = Body::from_stream(reader.stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mimetype)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(reader.size));
    if let Some(name) = name {
        // The ASCII fallback for old clients, the exact name per RFC 6266.
        let ascii: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let value = format!(
            "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
            encode_name(name)
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    // Uploaded HTML must never run as a page of this origin.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    Ok(response)
}

/// `GET /issues/{key}/thumbnails/{id}`: a PNG at most [`THUMB`] pixels on
/// a side, made on first request and kept in the blob store.
pub async fn thumbnail(cx: Api, Path((key, id)): Path<(String, String)>) -> ApiResult<Response> {
    let issue = cx.issue(&key).await?;
    let a = of_issue(&cx, &issue, &id).await?;
    if a.image_size.is_none() {
        return Err(ApiError::NotFound(format!(
            "Attachment {id} has no thumbnail: it is not an image ({})",
            a.mimetype
        )));
    }
    let key = crate::blobs::thumb_key(&a.blob);
    if cx
        .blobs
        .open(&key)
        .await
        .map_err(|e| ApiError::internal(e.context("opening a thumbnail")))?
        .is_none()
    {
        if a.size as u64 > MAX_THUMB_SOURCE {
            return Err(ApiError::NotFound(format!(
                "Attachment {id} is too large for a thumbnail"
            )));
        }
        let original = read_all(&cx, &a.blob).await?;
        let png = tokio::task::spawn_blocking(move || make_thumbnail(&original))
            .await
            .map_err(ApiError::internal)?
            .map_err(|e| ApiError::Unprocessable {
                message: format!("Attachment {id} could not be decoded as an image: {e}"),
                errors: Default::default(),
            })?;
        cx.blobs
            .put(&key, Bytes::from(png))
            .await
            .map_err(|e| ApiError::internal(e.context("storing a thumbnail")))?;
    }
    send_blob(&cx, &key, "image/png", None).await
}

async fn read_all(cx: &Api, blob: &str) -> ApiResult<Vec<u8>> {
    use futures_util::StreamExt;
    let mut reader = cx
        .blobs
        .open(blob)
        .await
        .map_err(|e| ApiError::internal(e.context("opening a blob")))?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the blob {blob} is missing")))?;
    let mut out = Vec::with_capacity(usize::try_from(reader.size).unwrap_or(0));
    while let Some(chunk) = reader.stream.next().await {
        out.extend_from_slice(&chunk.map_err(|e| ApiError::internal(e.context("reading a blob")))?);
    }
    Ok(out)
}

fn make_thumbnail(original: &[u8]) -> Result<Vec<u8>, image::ImageError> {
    let mut reader = image::ImageReader::new(Cursor::new(original)).with_guessed_format()?;
    // A small file can claim a huge canvas: bound what decoding allocates.
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode()?;
    let thumb = if img.width() <= THUMB && img.height() <= THUMB {
        img
    } else {
        img.thumbnail(THUMB, THUMB)
    };
    let mut out = Vec::new();
    thumb.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)?;
    Ok(out)
}

/// `DELETE /issues/{key}/attachments/{id}/`.
pub async fn delete(cx: Api, Path((key, id)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let issue = cx.issue(&key).await?;
    let a = of_issue(&cx, &issue, &id).await?;
    let now = cx.clock.now();
    let data = json!({ "attachments": [{ "id": a.pk, "name": a.name }] });
    let remove = |w: &mut IssueWrite| w.attachments = Some(AttachmentWrite::Delete(a.pk));
    cx.log_fresh(issue, now, "IssueAttachmentRemoved", data, remove)
        .await?;
    // The row is gone: the blob goes after it.
    drop_blob(&cx, &a.blob).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ImportParams {
    pub filename: Option<String>,
    pub created_at: Option<String>,
    pub created_by: Option<String>,
}

/// `POST /issues/{key}/attachments/_import`: a file with the author and
/// date it had in the system it comes from (`import-attachments.md`).
pub async fn import_to_issue(
    cx: Api,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<ImportParams>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    import(cx, key, None, params, multipart).await
}

/// `POST /issues/{key}/comments/{id}/attachments/_import`.
pub async fn import_to_comment(
    cx: Api,
    Path((key, comment)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<ImportParams>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    import(cx, key, Some(comment), params, multipart).await
}

async fn import(
    cx: Api,
    key: String,
    comment: Option<String>,
    params: ImportParams,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let issue = cx.issue(&key).await?;
    let comment_pk = match &comment {
        Some(id) => Some(
            cx.store
                .comment(issue.pk, id)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("Comment {id} not found")))?
                .pk,
        ),
        None => None,
    };
    // Everything the query must say is checked before a byte is stored.
    let filename = params
        .filename
        .filter(|f| !f.trim().is_empty())
        .ok_or_else(|| ApiError::field("filename", "Required parameter"))?;
    let created_at = params
        .created_at
        .as_deref()
        .ok_or_else(|| ApiError::field("createdAt", "Required parameter"))
        .and_then(|s| {
            tracker_api::time::parse(s).ok_or_else(|| {
                ApiError::field("createdAt", "Expected YYYY-MM-DDThh:mm:ss.sss±hhmm")
            })
        })?;
    if created_at < issue.created_at || created_at > issue.updated_at {
        return Err(ApiError::field(
            "createdAt",
            "Must lie between the issue's creation and its latest update",
        ));
    }
    let who = params
        .created_by
        .ok_or_else(|| ApiError::field("createdBy", "Required parameter"))?;
    let created_by =
        match crate::fields::user(&cx.state, cx.principal.org.id, &Value::String(who)).await? {
            Ok(Some(uid)) => uid,
            Ok(None) => return Err(ApiError::field("createdBy", "Required parameter")),
            Err(e) => return Err(ApiError::field("createdBy", e)),
        };
    let received = receive(
        &cx,
        &UploadParams {
            filename: Some(filename),
        },
        multipart,
    )
    .await?;
    let blob = received.blob.clone();
    let mut a = record(&cx, received);
    a.created_by = created_by;
    a.created_at = created_at;
    a.comment_pk = comment_pk;
    let now = cx.clock.now();
    let stored = write_fresh(&cx.state, &cx.principal, issue, |issue| {
        // An import restores history: the issue's own dates stay, and no
        // changelog entry claims a change made now.
        let entry = changelog(&cx.principal, now, "IssueAttachmentAdded", &[], Value::Null);
        let mut w = simple_write(issue, entry);
        w.changelog.clear();
        w.attachments = Some(AttachmentWrite::Insert(a.clone()));
        Ok(w)
    })
    .await;
    let saved = match stored {
        Ok(saved) => saved,
        Err(e) => {
            drop_blob(&cx, &blob).await;
            return Err(e);
        }
    };
    let rows = cx.store.list_attachments(saved.pk).await?;
    let row = written(rows, "an attachment", |x| x.blob == blob)?;
    let mut r = cx.renderer();
    Ok(json(
        StatusCode::OK,
        &render(&mut r, Some(&saved), &row).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_directories_and_must_be_printable() {
        assert_eq!(clean_name("/home/u/report.pdf").unwrap(), "report.pdf");
        assert_eq!(clean_name("C:\\x\\a b.txt").unwrap(), "a b.txt");
        assert!(clean_name("dir/").is_err());
        assert!(clean_name("a\u{7}b").is_err());
        assert!(clean_name("..").is_err());
    }

    #[test]
    fn names_in_urls_are_percent_encoded() {
        assert_eq!(encode_name("a b/ж.txt"), "a%20b%2F%D0%B6.txt");
    }
}
