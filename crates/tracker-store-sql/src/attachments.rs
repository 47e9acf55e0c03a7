//! Attachments' rows (the bytes are in trackerd's blob store). Temporary
//! uploads are inserted on their own; everything else happens inside an
//! issue's write ([`IssueStore::write_issue`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Transaction;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{db, Engine, SqlStore};

const COLS: &str = "pk, org, issue_pk, comment_pk, name, mimetype, size, blob, image_size, \
    created_by, created_at";

/// A write named an upload it may not attach: not a temporary upload, not
/// the caller's, or already taken by another write.
pub(crate) fn not_a_temporary_upload(pk: i64) -> StoreError {
    StoreError::Invalid(format!(
        "attachment {pk} is not a temporary upload of the caller"
    ))
}

#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    /// Inserts an attachment's row in `org`: a temporary upload (no issue
    /// yet) or one attached as it is inserted.
    async fn insert_attachment(
        tx: &mut Transaction<'_, D>,
        org: i64,
        a: &AttachmentRecord,
        issue_pk: Option<i64>,
        comment_pk: Option<i64>,
    ) -> Result<AttachmentRecord> {
        let sql = format!(
            "INSERT INTO attachments (org, issue_pk, comment_pk, name, mimetype, size, blob, \
               image_size, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {COLS}"
        );
        let binds = (
            org,
            issue_pk,
            comment_pk,
            &a.name,
            &a.mimetype,
            a.size,
            &a.blob,
            &a.image_size,
            a.created_by,
            a.created_at,
        );
        Self::fetch_one_on(&mut **tx, &sql, binds).await
    }

    /// Applies an attachment change inside the issue's transaction;
    /// `comment_pk` is the comment the same write inserted or updated.
    pub(crate) async fn write_attachments(
        tx: &mut Transaction<'_, D>,
        org: i64,
        issue_pk: i64,
        comment_pk: Option<i64>,
        w: &AttachmentWrite,
    ) -> Result<()> {
        match w {
            AttachmentWrite::Attach {
                uploader,
                pks,
                to_comment,
            } => {
                let comment_pk = if *to_comment { comment_pk } else { None };
                for pk in pks {
                    // Only a temporary upload of this uploader in this
                    // organization: the condition is the check, so two
                    // writers cannot both take the same upload.
                    let done = Self::exec_on(
                        &mut **tx,
                        "UPDATE attachments SET issue_pk = $1, comment_pk = $2 \
                         WHERE pk = $3 AND org = $4 AND created_by = $5 AND issue_pk IS NULL \
                           AND pk NOT IN (SELECT attachment_pk FROM entity_attachments)",
                        (issue_pk, comment_pk, *pk, org, *uploader),
                    )
                    .await?;
                    if done == 0 {
                        return Err(not_a_temporary_upload(*pk));
                    }
                }
            }
            AttachmentWrite::Insert(a) => {
                Self::insert_attachment(tx, org, a, Some(issue_pk), a.comment_pk).await?;
            }
            AttachmentWrite::Delete(pk) => {
                Self::delete_owned(tx, "attachments", "issue_pk", *pk, issue_pk).await?;
            }
        }
        Ok(())
    }
}

#[sql_bounds]
#[async_trait]
impl<D: Engine> AttachmentStore for SqlStore<D> {
    async fn insert_temporary_attachment(&self, a: &AttachmentRecord) -> Result<AttachmentRecord> {
        let mut tx = self.begin().await?;
        let row = Self::insert_attachment(&mut tx, a.org, a, None, None).await?;
        tx.commit().await.map_err(db)?;
        Ok(row)
    }

    async fn attachment(&self, org: i64, pk: i64) -> Result<Option<AttachmentRecord>> {
        self.by_pk("attachments", COLS, org, pk).await
    }

    async fn list_attachments(&self, issue_pk: i64) -> Result<Vec<AttachmentRecord>> {
        let sql = format!("SELECT {COLS} FROM attachments WHERE issue_pk = $1 ORDER BY pk");
        self.find_all::<AttachmentRecord, _>(&sql, (issue_pk,))
            .await
    }

    async fn expire_temporary_attachments(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<String>> {
        // Attaching a temporary upload claims it with `issue_pk IS NULL` in
        // its own transaction, so an upload is either attached or expired.
        // A project's, portfolio's or goal's file has no issue either: it is
        // no temporary upload.
        self.scalars(
            "DELETE FROM attachments WHERE pk IN (SELECT pk FROM attachments \
               WHERE issue_pk IS NULL AND created_at < $1 \
                 AND pk NOT IN (SELECT attachment_pk FROM entity_attachments) \
               ORDER BY created_at LIMIT $2) \
             AND issue_pk IS NULL \
             AND pk NOT IN (SELECT attachment_pk FROM entity_attachments) RETURNING blob",
            (before, limit),
        )
        .await
    }

    async fn known_blobs(&self, keys: &[String]) -> Result<Vec<String>> {
        let list = D::DIALECT.json_text_list(1);
        let sql = format!("SELECT blob FROM attachments WHERE blob IN {list}");
        self.scalars(
            &sql,
            (serde_json::to_string(keys).map_err(|e| StoreError::Invalid(e.to_string()))?,),
        )
        .await
    }
}
