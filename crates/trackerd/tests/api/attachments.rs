//! Attachments: temporary uploads attached with `attachmentIds`, uploads
//! straight to an issue, the list, downloads, thumbnails and removal.

use reqwest::Method;
use serde_json::{json, Value};

use trackerd_testkit::backend_tests;
use trackerd_testkit::*;

backend_tests!(
    a_file_uploaded_to_an_issue_is_listed_downloaded_byte_for_byte_and_deleted,
    a_temporary_upload_is_attached_when_an_issue_is_created,
    a_temporary_upload_is_attached_by_an_issue_update_and_a_comment,
    an_image_gets_its_size_and_a_real_smaller_thumbnail_and_other_files_get_none,
    an_upload_needs_a_multipart_file_field_and_a_sane_name,
    attachment_ids_must_be_the_callers_own_temporary_uploads_and_nothing_is_half_written,
    a_read_only_token_reads_attachments_but_cannot_upload_attach_or_delete,
    another_organization_sees_no_attachment_and_cannot_attach_ours,
    a_file_over_the_configured_limit_is_refused_with_413_and_leaves_no_row,
    uploads_are_not_held_to_the_json_body_limit,
    files_go_to_an_s3_compatible_store_when_configured,
    an_import_keeps_the_given_author_and_date_on_the_issue_and_on_a_comment,
    an_import_needs_a_name_a_date_within_the_issues_life_and_a_known_author,
    the_sweep_forgets_expired_temporary_uploads_and_blobs_no_row_names,
    the_changelog_names_the_files_added_and_removed,
);

const BOUNDARY: &str = "trackerdtestboundary";

/// A multipart body with `bytes` in the field `field`, as requests sends
/// it (no part content type: the official client sends none).
fn multipart(field: &str, file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub(crate) async fn upload_as(
    app: &TestApp,
    token: &str,
    org: &str,
    path: &str,
    name: &str,
    bytes: &[u8],
) -> Reply {
    let sep = if path.contains('?') { '&' } else { '?' };
    app.post(&format!("{path}{sep}filename={name}"))
        .token(token)
        .org(org)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart("file", "file", bytes))
        .await
}

async fn upload(app: &TestApp, path: &str, name: &str, bytes: &[u8]) -> Value {
    upload_as(app, ALICE, ACME, path, name, bytes)
        .await
        .status(201)
        .json()
}

/// Uploads file `name` to issue `key` as alice, which must be accepted:
/// the attachment.
async fn attach(app: &TestApp, key: &str, name: &str, bytes: &[u8]) -> Value {
    upload(app, &format!("/v2/issues/{key}/attachments"), name, bytes).await
}

/// `len` bytes counting up modulo `modulo`: a file whose every part differs.
fn pattern(len: u32, modulo: u32) -> Vec<u8> {
    (0..len).map(|i| (i % modulo) as u8).collect()
}

/// GETs `url` (absolute) as alice; the status, headers and raw bytes.
pub(crate) async fn fetch(app: &TestApp, url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let path = url.strip_prefix(&app.base).unwrap_or(url);
    let r = app
        .as_user(Method::GET, path, ALICE, ACME)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A 422 naming `attachmentIds`: not a temporary upload of the caller.
#[track_caller]
fn refused_ids(r: &Reply) {
    let e = r.error(422);
    let why = e["errors"]["attachmentIds"].as_str().unwrap_or_default();
    assert!(why.contains("temporary"), "{e}");
}

async fn issue(app: &TestApp) -> String {
    let i = app.create_test_issue("files").await;
    i["key"].as_str().unwrap().to_owned()
}

async fn changelog_kinds(app: &TestApp, key: &str) -> Vec<String> {
    let log: Value = app.read(&format!("/v2/issues/{key}/changelog")).await;
    log.as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn a_file_uploaded_to_an_issue_is_listed_downloaded_byte_for_byte_and_deleted(app: TestApp) {
    let key = issue(&app).await;
    // Every byte value, and more than one chunk's worth.
    let bytes = pattern(300_000, 251);
    let a = upload(
        &app,
        &format!("/v2/issues/{key}/attachments/"),
        "report v1.bin",
        &bytes,
    )
    .await;
    let id = a["id"].as_str().unwrap().to_owned();
    assert_eq!(
        a["self"],
        format!("{}/v2/issues/{key}/attachments/{id}", app.base)
    );
    assert_eq!(a["name"], "report v1.bin");
    assert_eq!(a["size"], 300_000);
    assert_eq!(a["mimetype"], "application/octet-stream");
    assert_eq!(a["createdBy"]["display"], "Alice Archer");
    assert!(a["createdAt"].as_str().unwrap().ends_with("+0000"));
    assert!(a.get("thumbnail").is_none(), "not an image: {a}");
    assert_eq!(
        a["content"],
        format!(
            "{}/v2/issues/{key}/attachments/{id}/report%20v1.bin",
            app.base
        )
    );

    let list: Value = app.read(&format!("/v2/issues/{key}/attachments")).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0], a);
    let expanded: Value = app
        .read(&format!("/v2/issues/{key}?expand=attachments"))
        .await;
    assert_eq!(expanded["attachments"][0]["id"], id);

    let (status, headers, body) = fetch(&app, a["content"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(body, bytes, "the download is the upload");
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"report v1.bin\"; filename*=UTF-8''report%20v1.bin"
    );
    // v3 serves the same file.
    let v3 = format!("/v3/issues/{key}/attachments/{id}/report%20v1.bin");
    assert_eq!(fetch(&app, &v3).await.2, bytes);
    assert!(changelog_kinds(&app, &key)
        .await
        .contains(&"IssueAttachmentAdded".to_owned()));

    app.delete(&format!("/v2/issues/{key}/attachments/{id}/"))
        .await
        .status(204);
    let list: Value = app.read(&format!("/v2/issues/{key}/attachments")).await;
    assert_eq!(list, json!([]));
    assert_eq!(fetch(&app, a["content"].as_str().unwrap()).await.0, 404);
    app.delete(&format!("/v2/issues/{key}/attachments/{id}/"))
        .await
        .error(404);
    app.delete(&format!("/v2/issues/{key}/attachments/nope/"))
        .await
        .error(404);
    assert!(changelog_kinds(&app, &key)
        .await
        .contains(&"IssueAttachmentRemoved".to_owned()));
}

async fn a_temporary_upload_is_attached_when_an_issue_is_created(app: TestApp) {
    let t = upload(&app, "/v2/attachments/", "notes.txt", b"hello").await;
    let id = t["id"].as_str().unwrap().to_owned();
    assert_eq!(t["self"], format!("{}/v2/attachments/{id}", app.base));
    assert_eq!(t["mimetype"], "text/plain");
    // Its uploader reads it back and downloads it before it is attached.
    let again: Value = app.read(&format!("/v2/attachments/{id}")).await;
    assert_eq!(again, t);
    assert_eq!(
        fetch(&app, t["content"].as_str().unwrap()).await.2,
        b"hello"
    );

    let i = app
        .create_issue(json!({"queue": "TEST", "summary": "with a file", "attachmentIds": [id.parse::<i64>().unwrap()]}))
        .await;
    let key = i["key"].as_str().unwrap();
    let list: Value = app.read(&format!("/v2/issues/{key}/attachments")).await;
    assert_eq!(list[0]["id"], id);
    assert_eq!(
        list[0]["self"],
        format!("{}/v2/issues/{key}/attachments/{id}", app.base)
    );
    assert_eq!(
        fetch(&app, list[0]["content"].as_str().unwrap()).await.2,
        b"hello"
    );
    // Attached once: it is no longer a temporary upload.
    let r = app
        .post("/v2/issues")
        .json(json!({"queue": "TEST", "summary": "again", "attachmentIds": [id]}))
        .await;
    refused_ids(&r);
}

async fn a_temporary_upload_is_attached_by_an_issue_update_and_a_comment(app: TestApp) {
    let key = issue(&app).await;
    let first = upload(&app, "/v2/attachments", "a.txt", b"a").await;
    let saved: Value = app
        .edit(
            &format!("/v2/issues/{key}"),
            json!({"attachmentIds": [first["id"]]}),
        )
        .await;
    assert_eq!(saved["version"], 2, "attaching changes the issue");
    assert!(changelog_kinds(&app, &key)
        .await
        .contains(&"IssueAttachmentAdded".to_owned()));

    let second = upload(&app, "/v2/attachments", "b.txt", b"b").await;
    let c: Value = app
        .post_json(
            &format!("/v2/issues/{key}/comments"),
            json!({"text": "see file", "attachmentIds": [second["id"]]}),
            201,
        )
        .await;
    assert_eq!(c["attachments"][0]["id"], second["id"]);
    assert_eq!(c["attachments"][0]["display"], "b.txt");

    let third = upload(&app, "/v2/attachments", "c.txt", b"c").await;
    let edited: Value = app
        .edit(
            &format!("/v2/issues/{key}/comments/{}", c["id"]),
            json!({"text": "see files", "attachmentIds": [third["id"]]}),
        )
        .await;
    assert_eq!(edited["attachments"].as_array().unwrap().len(), 2);
    // A page of comments shows each comment its own files only.
    app.post(&format!("/v2/issues/{key}/comments"))
        .json(json!({"text": "no files"}))
        .await
        .status(201);
    let page: Vec<Value> = app.read(&format!("/v2/issues/{key}/comments")).await;
    assert_eq!(page.len(), 2);
    assert_eq!(page[0]["attachments"].as_array().unwrap().len(), 2);
    assert!(page[1].get("attachments").is_none(), "{}", page[1]);
    let list: Value = app.read(&format!("/v2/issues/{key}/attachments")).await;
    let names = each_str(&list, "name");
    assert_eq!(
        names,
        ["a.txt", "b.txt", "c.txt"],
        "the issue lists its comments' files too"
    );
}

async fn an_image_gets_its_size_and_a_real_smaller_thumbnail_and_other_files_get_none(
    app: TestApp,
) {
    let key = issue(&app).await;
    let original = png(640, 480);
    let a = attach(&app, &key, "shot.png", &original).await;
    assert_eq!(a["mimetype"], "image/png");
    assert_eq!(a["metadata"]["size"], "640x480");
    let thumb_url = a["thumbnail"].as_str().unwrap().to_owned();
    assert_eq!(
        thumb_url,
        format!(
            "{}/v2/issues/{key}/thumbnails/{}",
            app.base,
            a["id"].as_str().unwrap()
        )
    );
    for _ in 0..2 {
        // Made on the first request, kept for the second.
        let (status, headers, body) = fetch(&app, &thumb_url).await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "image/png");
        let thumb = image::load_from_memory(&body).expect("the thumbnail decodes");
        assert_eq!(
            (thumb.width(), thumb.height()),
            (200, 150),
            "smaller, same aspect"
        );
    }

    let text = attach(&app, &key, "x.txt", b"not an image").await;
    assert!(text.get("thumbnail").is_none());
    assert_eq!(text["metadata"], json!({}));
    let r = app
        .get(&format!(
            "/v2/issues/{key}/thumbnails/{}",
            text["id"].as_str().unwrap()
        ))
        .await;
    r.error_saying(404, "not an image");
}

async fn an_upload_needs_a_multipart_file_field_and_a_sane_name(app: TestApp) {
    let key = issue(&app).await;
    let path = format!("/v2/issues/{key}/attachments");
    app.post(&path).json(json!({"file": "x"})).await.error(400);
    let wrong_field = app
        .post(&format!("{path}?filename=a.txt"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart("document", "a.txt", b"x"))
        .await;
    wrong_field.error_saying(400, "file");
    upload_as(&app, ALICE, ACME, &path, "%07bell", b"x")
        .await
        .error(400);
    upload_as(
        &app,
        ALICE,
        ACME,
        "/v2/issues/NOPE-1/attachments",
        "a.txt",
        b"x",
    )
    .await
    .error(404);
    let list: Value = app.read(&path).await;
    assert_eq!(list, json!([]), "nothing was stored");
}

async fn attachment_ids_must_be_the_callers_own_temporary_uploads_and_nothing_is_half_written(
    app: TestApp,
) {
    let key = issue(&app).await;
    let carols = upload_as(&app, CAROL_EXPIRING, ACME, "/v2/attachments", "c.txt", b"c")
        .await
        .status(201)
        .json::<Value>();
    let mine = upload(&app, "/v2/attachments", "m.txt", b"m").await;
    // Another user's upload is as unknown as a missing one.
    let carols_id = carols["id"].as_str().unwrap();
    app.get(&format!("/v2/attachments/{carols_id}"))
        .await
        .error(404);
    let r = app
        .patch(&format!("/v2/issues/{key}"))
        .json(json!({"summary": "renamed", "attachmentIds": [mine["id"], carols["id"]]}))
        .await;
    refused_ids(&r);
    let i: Value = app.read(&format!("/v2/issues/{key}")).await;
    assert_eq!(i["summary"], "files", "nothing of the update was written");
    assert_eq!(i["version"], 1);
    let list: Value = app.read(&format!("/v2/issues/{key}/attachments")).await;
    assert_eq!(list, json!([]));
    for bad in [json!(["x"]), json!([{"a": 1}]), json!([999_999])] {
        app.post(&format!("/v2/issues/{key}/comments"))
            .json(json!({"text": "t", "attachmentIds": bad}))
            .await
            .error(422);
    }
    // Mine is still free to attach.
    app.patch(&format!("/v2/issues/{key}"))
        .json(json!({"attachmentIds": [mine["id"]]}))
        .await
        .status(200);
}

async fn a_read_only_token_reads_attachments_but_cannot_upload_attach_or_delete(app: TestApp) {
    let key = issue(&app).await;
    let a = attach(&app, &key, "a.txt", b"a").await;
    let id = a["id"].as_str().unwrap();
    let list: Value = app
        .read_as(&format!("/v2/issues/{key}/attachments"), BOB_RO)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    upload_as(
        &app,
        BOB_RO,
        ACME,
        &format!("/v2/issues/{key}/attachments"),
        "b.txt",
        b"b",
    )
    .await
    .error(403);
    upload_as(&app, BOB_RO, ACME, "/v2/attachments", "b.txt", b"b")
        .await
        .error(403);
    app.delete(&format!("/v2/issues/{key}/attachments/{id}"))
        .token(BOB_RO)
        .await
        .error(403);
    let list: Value = app.read(&format!("/v2/issues/{key}/attachments")).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

async fn another_organization_sees_no_attachment_and_cannot_attach_ours(app: TestApp) {
    let key = issue(&app).await;
    let a = attach(&app, &key, "a.png", &png(8, 8)).await;
    let id = a["id"].as_str().unwrap();
    let as_mallory = |path: String| app.get(&path).token(MALLORY).org(OTHER);
    as_mallory(format!("/v2/issues/{key}/attachments"))
        .await
        .error(404);
    as_mallory(format!("/v2/issues/{key}/attachments/{id}/a.png"))
        .await
        .error(404);
    as_mallory(format!("/v2/issues/{key}/thumbnails/{id}"))
        .await
        .error(404);
    as_mallory(format!("/v2/attachments/{id}")).await.error(404);
    app.delete(&format!("/v2/issues/{key}/attachments/{id}"))
        .token(MALLORY)
        .org(OTHER)
        .await
        .error(404);
    // Our temporary upload cannot be attached in the other organization.
    let t = upload(&app, "/v2/attachments", "t.txt", b"t").await;
    let r = app
        .post("/v2/issues")
        .token(MALLORY)
        .org(OTHER)
        .json(json!({"queue": "SECRET", "summary": "steal", "attachmentIds": [t["id"]]}))
        .await;
    r.error(422);
    // Theirs is not visible to us either.
    let theirs = upload_as(&app, MALLORY, OTHER, "/v2/attachments", "m.txt", b"m")
        .await
        .status(201)
        .json::<Value>();
    let theirs_id = theirs["id"].as_str().unwrap();
    app.get(&format!("/v2/attachments/{theirs_id}"))
        .await
        .error(404);
}

async fn a_file_over_the_configured_limit_is_refused_with_413_and_leaves_no_row(app: TestApp) {
    let app = app
        .restarted_with(|c| c.attachments.max_size_bytes = 1000)
        .await;
    let key = issue(&app).await;
    let path = format!("/v2/issues/{key}/attachments");
    upload(&app, &path, "ok.bin", &[7u8; 1000]).await;
    upload_as(&app, ALICE, ACME, &path, "big.bin", &[7u8; 1001])
        .await
        .error_saying(413, "1000 bytes");
    upload_as(
        &app,
        ALICE,
        ACME,
        "/v2/attachments",
        "big.bin",
        &[7u8; 5000],
    )
    .await
    .error(413);
    let list: Value = app.read(&format!("/v2/issues/{key}/attachments")).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "only the file within the limit"
    );
}

async fn uploads_are_not_held_to_the_json_body_limit(app: TestApp) {
    let key = issue(&app).await;
    // Over the 2 MiB JSON limit, well under the default file limit.
    let bytes = pattern(3 * 1024 * 1024, 199);
    let a = attach(&app, &key, "big.bin", &bytes).await;
    assert_eq!(a["size"], bytes.len());
    assert_eq!(fetch(&app, a["content"].as_str().unwrap()).await.2, bytes);
}

/// The S3 endpoint of the test store (moto's server, started by
/// scripts/test), or `None` after saying loudly that the test is skipped;
/// with `TRACKERD_TEST_REQUIRE_S3=1` (CI) a missing store fails.
fn s3_endpoint() -> Option<String> {
    let endpoint = std::env::var("TRACKERD_TEST_S3_ENDPOINT").ok();
    // Without credentials object_store would ask the cloud instance
    // metadata service: never from a test.
    let credentials = std::env::var("AWS_ACCESS_KEY_ID").is_ok()
        && std::env::var("AWS_SECRET_ACCESS_KEY").is_ok();
    if let (Some(e), true) = (&endpoint, credentials) {
        return Some(e.trim_end_matches('/').to_owned());
    }
    let required =
        std::env::var("TRACKERD_TEST_REQUIRE_S3").is_ok_and(|v| v != "0" && !v.is_empty());
    assert!(
        !required,
        "TRACKERD_TEST_REQUIRE_S3 is set, but TRACKERD_TEST_S3_ENDPOINT and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not"
    );
    eprintln!("!!!! TRACKERD_TEST_S3_ENDPOINT (and AWS_* credentials) unset: the S3 attachment test is SKIPPED");
    None
}

async fn files_go_to_an_s3_compatible_store_when_configured(app: TestApp) {
    let Some(endpoint) = s3_endpoint() else {
        return;
    };
    let bucket = format!("trackerd-{}-{}", app.backend().name(), uuid_like());
    let http = reqwest::Client::new();
    // moto creates a bucket on a plain PUT.
    let made = http
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(
        made.status().is_success(),
        "creating the bucket: {}",
        made.status()
    );
    let app = app
        .restarted_with(|c| {
            c.attachments.store = trackerd::config::BlobStoreKind::S3;
            c.attachments.s3_bucket = Some(bucket.clone());
            c.attachments.s3_endpoint = Some(endpoint.clone());
            c.attachments.s3_region = Some("us-east-1".into());
            c.attachments.s3_allow_http = true;
        })
        .await;
    let key = issue(&app).await;
    // Over one 5 MiB part: a real multipart upload.
    let bytes = pattern(6 * 1024 * 1024, 253);
    let a = attach(&app, &key, "big.bin", &bytes).await;
    assert_eq!(fetch(&app, a["content"].as_str().unwrap()).await.2, bytes);
    let img = attach(&app, &key, "p.png", &png(400, 100)).await;
    let (status, _, thumb) = fetch(&app, img["thumbnail"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let thumb = image::load_from_memory(&thumb).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (200, 50));

    let listing = |bucket: String| {
        let http = http.clone();
        let endpoint = endpoint.clone();
        async move {
            http.get(format!("{endpoint}/{bucket}?list-type=2"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let before = listing(bucket.clone()).await;
    assert!(
        before.contains("<KeyCount>3</KeyCount>"),
        "two files and a thumbnail: {before}"
    );
    for x in [&a, &img] {
        app.delete(&format!(
            "/v2/issues/{key}/attachments/{}",
            x["id"].as_str().unwrap()
        ))
        .await
        .status(204);
    }
    let after = listing(bucket.clone()).await;
    assert!(
        after.contains("<KeyCount>0</KeyCount>"),
        "the blobs went with the rows: {after}"
    );
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}")
}

async fn import(app: &TestApp, path: &str, query: &str, bytes: &[u8]) -> Reply {
    app.post(&format!("{path}?{query}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart("file", "file", bytes))
        .await
}

async fn an_import_keeps_the_given_author_and_date_on_the_issue_and_on_a_comment(app: TestApp) {
    let key = issue(&app).await;
    let c = app.comment(&key, "imported discussion").await;
    let before: Value = app.read(&format!("/v2/issues/{key}")).await;
    // The issue was made at the start time and commented since.
    let when = "2026-01-15T12:00:00.000%2B0000";
    let a: Value = import(
        &app,
        &format!("/v2/issues/{key}/attachments/_import"),
        &format!("filename=old.txt&createdAt={when}&createdBy=bob"),
        b"from the old tracker",
    )
    .await
    .status(200)
    .json();
    assert_eq!(a["createdBy"]["display"], "Bob Baker");
    assert_eq!(a["createdAt"], "2026-01-15T12:00:00.000+0000");
    assert_eq!(a["name"], "old.txt");
    assert_eq!(
        fetch(&app, a["content"].as_str().unwrap()).await.2,
        b"from the old tracker"
    );
    let after: Value = app.read(&format!("/v2/issues/{key}")).await;
    assert_eq!(
        after["updatedAt"], before["updatedAt"],
        "an import restores history"
    );

    let on_comment: Value = import(
        &app,
        &format!("/v2/issues/{key}/comments/{}/attachments/_import", c["id"]),
        &format!("filename=c.png&createdAt={when}&createdBy=alice"),
        &png(10, 10),
    )
    .await
    .status(200)
    .json();
    let comment: Value = app
        .read(&format!("/v2/issues/{key}/comments/{}", c["id"]))
        .await;
    assert_eq!(comment["attachments"][0]["id"], on_comment["id"]);
    let list: Value = app.read(&format!("/v2/issues/{key}/attachments")).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

async fn an_import_needs_a_name_a_date_within_the_issues_life_and_a_known_author(app: TestApp) {
    let key = issue(&app).await;
    let path = format!("/v2/issues/{key}/attachments/_import");
    let ok = "2026-01-15T12:00:00.000%2B0000";
    for (query, field) in [
        (format!("createdAt={ok}&createdBy=bob"), "filename"),
        ("filename=a.txt&createdBy=bob".to_owned(), "createdAt"),
        (
            "filename=a.txt&createdAt=yesterday&createdBy=bob".to_owned(),
            "createdAt",
        ),
        (
            "filename=a.txt&createdAt=2020-01-01T00:00:00.000%2B0000&createdBy=bob".to_owned(),
            "createdAt",
        ),
        (
            format!("filename=a.txt&createdAt={ok}&createdBy=nobody"),
            "createdBy",
        ),
        (format!("filename=a.txt&createdAt={ok}"), "createdBy"),
        // mallory is not a member here.
        (
            format!("filename=a.txt&createdAt={ok}&createdBy=mallory"),
            "createdBy",
        ),
    ] {
        let e = import(&app, &path, &query, b"x").await.error(422);
        assert!(e["errors"].get(field).is_some(), "{query}: {e}");
    }
    let query = format!("filename=a.txt&createdAt={ok}&createdBy=bob");
    import(
        &app,
        &format!("/v2/issues/{key}/comments/999/attachments/_import"),
        &query,
        b"x",
    )
    .await
    .error(404);
    app.post(&format!("{path}?{query}"))
        .token(BOB_RO)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart("file", "a.txt", b"x"))
        .await
        .error(403);
    let list: Value = app.read(&format!("/v2/issues/{key}/attachments")).await;
    assert_eq!(list, json!([]), "nothing was stored");
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

async fn the_sweep_forgets_expired_temporary_uploads_and_blobs_no_row_names(app: TestApp) {
    let app = app
        .restarted_with(|c| {
            c.attachments.sweep_interval_secs = 1;
            c.attachments.temporary_ttl_secs = 3600;
        })
        .await;
    let dir = app.state.config.attachments_dir();
    let forgotten = upload(&app, "/v2/attachments", "never.txt", b"never attached").await;
    let kept = upload(&app, "/v2/attachments", "kept.txt", b"attached").await;
    let issue: Value = app
        .post_json(
            "/v2/issues",
            json!({"queue": "TEST", "summary": "s", "attachmentIds": [kept["id"]]}),
            201,
        )
        .await;
    // Blobs no row names: one left long ago by a failed write, one that may
    // be an upload still in progress.
    std::fs::create_dir_all(dir.join("1")).unwrap();
    let stale = std::fs::File::create(dir.join("1/left-behind")).unwrap();
    stale
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(7200))
        .unwrap();
    std::fs::write(dir.join("1/in-progress"), b"x").unwrap();
    assert_eq!(files_under(&dir).len(), 4);
    // Not yet expired: the sweep keeps the temporary upload.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert!(!files_under(&dir).contains(&"1/left-behind".to_owned()));
    // The temporary upload, by its own link.
    let forgotten = forgotten["self"].as_str().unwrap();
    let forgotten = forgotten.strip_prefix(&app.base).unwrap();
    app.get(forgotten).await.status(200);
    app.clock.advance(chrono::Duration::hours(2));
    let mut left = Vec::new();
    for _ in 0..50 {
        left = files_under(&dir);
        if left.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&"1/in-progress".to_owned()), "{left:?}");
    app.get(forgotten).await.error(404);
    let key = issue["key"].as_str().unwrap();
    let list: Value = app.read(&format!("/v2/issues/{key}/attachments")).await;
    let (status, _, bytes) = fetch(&app, list[0]["content"].as_str().unwrap()).await;
    assert_eq!((status, bytes.as_slice()), (200, b"attached".as_slice()));
}

async fn the_changelog_names_the_files_added_and_removed(app: TestApp) {
    let key = issue(&app).await;
    let direct = attach(&app, &key, "direct.txt", b"d").await;
    let temp = upload(&app, "/v2/attachments", "by-id.txt", b"t").await;
    app.patch(&format!("/v2/issues/{key}"))
        .json(json!({"attachmentIds": [temp["id"]]}))
        .await
        .status(200);
    let id = direct["id"].as_str().unwrap();
    app.delete(&format!("/v2/issues/{key}/attachments/{id}"))
        .await
        .status(204);
    let log: Vec<Value> = app.read(&format!("/v2/issues/{key}/changelog")).await;
    let files = |kind: &str, side: &str| -> Vec<Value> {
        log.iter()
            .filter(|e| e["type"] == kind)
            .flat_map(|e| {
                e["attachments"][side]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect()
    };
    let added = files("IssueAttachmentAdded", "added");
    let names: Vec<&str> = added.iter().filter_map(|f| f["display"].as_str()).collect();
    assert_eq!(names, ["direct.txt", "by-id.txt"], "{log:?}");
    assert_eq!(added[1]["id"], temp["id"]);
    assert_eq!(
        added[1]["self"],
        format!(
            "{}/v2/issues/{key}/attachments/{}",
            app.base,
            temp["id"].as_str().unwrap()
        )
    );
    let removed = files("IssueAttachmentRemoved", "removed");
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["id"], direct["id"]);
    assert_eq!(removed[0]["display"], "direct.txt");
}
