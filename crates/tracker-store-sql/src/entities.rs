//! Projects, portfolios and goals: one row each with its fields as JSON,
//! and its events, comments, links and attachments, each change written in
//! one transaction with the entity's version.

use async_trait::async_trait;
use sqlx::Transaction;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{db, split_ids, Engine, SqlStore};

/// An entity comment as stored: its summonees packed into one column.
#[derive(sqlx::FromRow)]
pub struct EntityCommentRow {
    #[sqlx(flatten)]
    pub comment: EntityCommentRecord,
    pub summonees: String,
}

impl From<EntityCommentRow> for EntityCommentRecord {
    fn from(r: EntityCommentRow) -> Self {
        EntityCommentRecord {
            summonees: split_ids(&r.summonees),
            ..r.comment
        }
    }
}

const COLS: &str =
    "pk, org, id, entity_type, short_id, version, created_by, created_at, updated_at, fields";
const EVENT_COLS: &str = "pk, entity_pk, id, author, created_at, display, changes";
const COMMENT_COLS: &str =
    "pk, entity_pk, id, text, summonees, author, updated_by, created_at, updated_at, version";
const LINK_COLS: &str = "pk, entity_pk, target_pk, relationship, created_by, created_at";

#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    async fn insert_events(
        tx: &mut Transaction<'_, D>,
        entity_pk: i64,
        events: &[NewEntityEvent],
    ) -> Result<()> {
        for e in events {
            Self::exec_on(
                &mut **tx,
                "INSERT INTO entity_events (entity_pk, id, author, created_at, display, changes) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                (
                    entity_pk,
                    &e.id,
                    e.author,
                    e.created_at,
                    &e.display,
                    &e.changes,
                ),
            )
            .await?;
        }
        Ok(())
    }

    async fn write_entity_comment(
        tx: &mut Transaction<'_, D>,
        entity_pk: i64,
        w: &EntityCommentWrite,
    ) -> Result<()> {
        let under = ("entity_pk", entity_pk);
        match w {
            EntityCommentWrite::Insert(c) => {
                Self::insert_comment(tx, "entity_comments", under, c.into()).await?;
            }
            EntityCommentWrite::Update(c) => {
                Self::update_comment(tx, "entity_comments", under, c.into()).await?;
            }
            EntityCommentWrite::Delete(pk) => {
                Self::delete_owned(tx, "entity_comments", "entity_pk", *pk, entity_pk).await?;
            }
        }
        Ok(())
    }

    async fn write_entity_link(
        tx: &mut Transaction<'_, D>,
        entity_pk: i64,
        w: &EntityLinkWrite,
    ) -> Result<()> {
        match w {
            EntityLinkWrite::Insert(l) => {
                Self::exec_on(
                    &mut **tx,
                    "INSERT INTO entity_links (entity_pk, target_pk, relationship, created_by, \
                       created_at) VALUES ($1, $2, $3, $4, $5)",
                    (
                        entity_pk,
                        l.target_pk,
                        &l.relationship,
                        l.created_by,
                        l.created_at,
                    ),
                )
                .await?
            }
            // A link is removed from either of its ends.
            EntityLinkWrite::Delete(pk) => {
                Self::exec_on(
                    &mut **tx,
                    "DELETE FROM entity_links WHERE pk = $1 AND (entity_pk = $2 OR target_pk = $2)",
                    (*pk, entity_pk),
                )
                .await?
            }
        };
        Ok(())
    }

    async fn write_entity_attachment(
        tx: &mut Transaction<'_, D>,
        e: &EntityRecord,
        w: &EntityAttachmentWrite,
    ) -> Result<()> {
        match w {
            EntityAttachmentWrite::Attach { uploader, pk } => {
                // Only a temporary upload of this uploader, not attached to
                // anything yet: the statement's condition is the check.
                let done = Self::exec_on(
                    &mut **tx,
                    "INSERT INTO entity_attachments (attachment_pk, entity_pk) \
                     SELECT pk, $1 FROM attachments WHERE pk = $2 AND org = $3 \
                       AND created_by = $4 AND issue_pk IS NULL \
                     ON CONFLICT (attachment_pk) DO NOTHING",
                    (e.pk, *pk, e.org, *uploader),
                )
                .await?;
                if done == 0 {
                    return Err(crate::attachments::not_a_temporary_upload(*pk));
                }
            }
            EntityAttachmentWrite::Delete(pk) => {
                Self::exec_on(
                    &mut **tx,
                    "DELETE FROM attachments WHERE pk = $1 AND org = $2 AND pk IN \
                     (SELECT attachment_pk FROM entity_attachments WHERE entity_pk = $3)",
                    (*pk, e.org, e.pk),
                )
                .await?;
            }
        }
        Ok(())
    }
}

#[sql_bounds]
#[async_trait]
impl<D: Engine> EntityStore for SqlStore<D> {
    async fn create_entity(
        &self,
        e: &EntityRecord,
        event: &NewEntityEvent,
    ) -> Result<EntityRecord> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "INSERT INTO entities (org, id, entity_type, short_id, version, created_by, \
               created_at, updated_at, fields) \
             SELECT $1, $2, $3, COALESCE(MAX(short_id), 0) + 1, 1, $4, $5, $6, $7 \
               FROM entities WHERE org = $1 AND entity_type = $3 \
             RETURNING {COLS}"
        );
        let row = Self::fetch_one_on::<EntityRecord>(
            &mut *tx,
            &sql,
            (
                e.org,
                &e.id,
                &e.entity_type,
                e.created_by,
                e.created_at,
                e.updated_at,
                &e.fields,
            ),
        )
        .await?;
        Self::insert_events(&mut tx, row.pk, std::slice::from_ref(event)).await?;
        tx.commit().await.map_err(db)?;
        Ok(row)
    }

    async fn write_entity(&self, w: &EntityWrite) -> Result<(WriteOutcome, Option<EntityRecord>)> {
        let e = &w.entity;
        let mut tx = self.begin().await?;
        let updated = Self::exec_on(
            &mut *tx,
            "UPDATE entities SET version = version + 1, updated_at = $1, fields = $2 \
             WHERE pk = $3 AND org = $4 AND version = $5",
            (e.updated_at, &e.fields, e.pk, e.org, e.version),
        )
        .await?;
        if updated == 0 {
            tx.rollback().await.map_err(db)?;
            return Ok((WriteOutcome::VersionConflict, None));
        }
        if let Some(done) = &w.job_item {
            if !Self::complete_item(&mut tx, e.pk, done).await? {
                tx.rollback().await.map_err(db)?;
                return Ok((WriteOutcome::ItemTaken, None));
            }
        }
        Self::insert_events(&mut tx, e.pk, &w.events).await?;
        if let Some(c) = &w.comment {
            Self::write_entity_comment(&mut tx, e.pk, c).await?;
        }
        for l in &w.links {
            Self::write_entity_link(&mut tx, e.pk, l).await?;
        }
        if let Some(a) = &w.attachment {
            Self::write_entity_attachment(&mut tx, e, a).await?;
        }
        let sql = format!("SELECT {COLS} FROM entities WHERE pk = $1");
        let saved = Self::fetch_optional_on::<EntityRecord>(&mut *tx, &sql, (e.pk,)).await?;
        tx.commit().await.map_err(db)?;
        Ok((WriteOutcome::Written, saved))
    }

    async fn delete_entity(&self, org: i64, pk: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        // Attachment rows are the entity's alone; the bytes stay in the blob
        // store (as for a deleted issue).
        Self::exec_on(
            &mut *tx,
            "DELETE FROM attachments WHERE org = $1 AND pk IN \
             (SELECT attachment_pk FROM entity_attachments WHERE entity_pk = $2)",
            (org, pk),
        )
        .await?;
        let done = Self::delete_by_pk_and_commit(tx, "entities", org, pk).await?;
        Ok(done > 0)
    }

    async fn entity(&self, org: i64, id: &str) -> Result<Option<EntityRecord>> {
        let sql = format!("SELECT {COLS} FROM entities WHERE org = $1 AND id = $2");
        self.find::<EntityRecord, _>(&sql, (org, id)).await
    }

    async fn entity_by_pk(&self, org: i64, pk: i64) -> Result<Option<EntityRecord>> {
        self.by_pk("entities", COLS, org, pk).await
    }

    async fn entity_by_short_id(
        &self,
        org: i64,
        entity_type: &str,
        short_id: i64,
    ) -> Result<Option<EntityRecord>> {
        let sql = format!(
            "SELECT {COLS} FROM entities WHERE org = $1 AND entity_type = $2 AND short_id = $3"
        );
        self.find::<EntityRecord, _>(&sql, (org, entity_type, short_id))
            .await
    }

    async fn list_entities(&self, org: i64, entity_type: &str) -> Result<Vec<EntityRecord>> {
        let sql = format!(
            "SELECT {COLS} FROM entities WHERE org = $1 AND entity_type = $2 ORDER BY short_id"
        );
        self.find_all::<EntityRecord, _>(&sql, (org, entity_type))
            .await
    }

    async fn entity_events(&self, entity_pk: i64) -> Result<Vec<EntityEventRecord>> {
        let sql =
            format!("SELECT {EVENT_COLS} FROM entity_events WHERE entity_pk = $1 ORDER BY pk");
        self.find_all::<EntityEventRecord, _>(&sql, (entity_pk,))
            .await
    }

    async fn entity_comments(
        &self,
        entity_pk: i64,
        after_pk: Option<i64>,
        limit: i64,
    ) -> Result<Vec<EntityCommentRecord>> {
        let under = ("entity_pk", entity_pk);
        self.comments_after::<EntityCommentRow, _>(
            "entity_comments",
            COMMENT_COLS,
            under,
            after_pk,
            limit,
        )
        .await
    }

    async fn entity_comment(&self, entity_pk: i64, pk: i64) -> Result<Option<EntityCommentRecord>> {
        let sql =
            format!("SELECT {COMMENT_COLS} FROM entity_comments WHERE entity_pk = $1 AND pk = $2");
        self.find::<EntityCommentRow, _>(&sql, (entity_pk, pk))
            .await
    }

    async fn entity_links(&self, entity_pk: i64) -> Result<Vec<EntityLinkRecord>> {
        let sql = format!(
            "SELECT {LINK_COLS} FROM entity_links WHERE entity_pk = $1 OR target_pk = $1 \
             ORDER BY pk"
        );
        self.find_all::<EntityLinkRecord, _>(&sql, (entity_pk,))
            .await
    }

    async fn entity_attachments(&self, entity_pk: i64) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = Self::fetch_all_on(
            self.pool(),
            "SELECT attachment_pk FROM entity_attachments WHERE entity_pk = $1 \
             ORDER BY attachment_pk",
            (entity_pk,),
        )
        .await?;
        Ok(rows.into_iter().map(|(pk,)| pk).collect())
    }

    async fn entity_of_attachment(
        &self,
        org: i64,
        attachment_pk: i64,
    ) -> Result<Option<EntityRecord>> {
        let sql = format!(
            "SELECT {COLS} FROM entities WHERE org = $1 AND pk = \
             (SELECT entity_pk FROM entity_attachments WHERE attachment_pk = $2)"
        );
        self.find::<EntityRecord, _>(&sql, (org, attachment_pk))
            .await
    }
}
