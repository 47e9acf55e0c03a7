//! Search scroll snapshots (see `tracker_store::ScrollStore`): a header row
//! and the snapshot split into its pages, one row each, so that a page is
//! read with one primary-key lookup whatever the snapshot's size.

use async_trait::async_trait;
use tracker_domain::TokenHash;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{db, Bind, Engine, SqlStore};

fn pack(pks: &[i64]) -> String {
    pks.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn unpack(text: &str) -> Result<Vec<i64>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| StoreError::Invalid(format!("scroll page entry {s:?}")))
        })
        .collect()
}

#[sql_bounds]
#[async_trait]
impl<D: Engine> ScrollStore for SqlStore<D> {
    async fn open_scroll(&self, new: &NewScroll, now_ms: i64) -> Result<()> {
        let per = usize::try_from(new.per.max(1)).unwrap_or(1);
        let pages: Vec<&[i64]> = new.pks.chunks(per).collect();
        let mut tx = self.begin().await?;
        Self::delete_scrolls(&mut tx, "expires_ms <= $1", now_ms).await?;
        Self::exec_on(
            &mut *tx,
            "INSERT INTO search_scrolls (id, org, uid, token_hash, per, total, pages, ttl_ms, \
             expires_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            (
                &new.id,
                new.org,
                new.uid,
                new.token_hash.to_hex(),
                new.per,
                new.pks.len() as i64,
                pages.len() as i64,
                new.ttl_ms,
                now_ms.saturating_add(new.ttl_ms),
            ),
        )
        .await?;
        let packed: Vec<String> = pages.iter().map(|page| pack(page)).collect();
        let into = "search_scroll_pages (scroll_id, page, pks)";
        Self::insert_numbered(&mut tx, into, new.id.clone(), packed).await?;
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    async fn scroll_page(
        &self,
        id: &str,
        org: i64,
        uid: i64,
        offset: i64,
        now_ms: i64,
        ttl_ms: Option<i64>,
    ) -> Result<Option<ScrollPage>> {
        let head: Option<(i64, i64, i64, i64)> = self
            .fetch_optional(
                "UPDATE search_scrolls SET ttl_ms = COALESCE($5, ttl_ms), \
             expires_ms = $4 + COALESCE($5, ttl_ms) \
             WHERE id = $1 AND org = $2 AND uid = $3 AND expires_ms > $4 \
             RETURNING per, total, pages, ttl_ms",
                (id, org, uid, now_ms, ttl_ms),
            )
            .await?;
        let Some((per, total, pages, ttl_ms)) = head else {
            return Ok(None);
        };
        if per <= 0 || offset < 0 || offset % per != 0 || offset / per >= pages {
            return Ok(None);
        }
        let page = offset / per;
        let packed: Option<(String,)> = self
            .fetch_optional(
                "SELECT pks FROM search_scroll_pages WHERE scroll_id = $1 AND page = $2",
                (id, page),
            )
            .await?;
        let Some((packed,)) = packed else {
            // Closed by a concurrent request for the last page.
            return Ok(None);
        };
        let last = page + 1 >= pages;
        if last {
            self.forget_scroll(id).await?;
        }
        Ok(Some(ScrollPage {
            pks: unpack(&packed)?,
            total,
            per,
            ttl_ms,
            last,
        }))
    }

    async fn close_scroll(
        &self,
        id: &str,
        org: i64,
        uid: i64,
        token_hash: &TokenHash,
    ) -> Result<bool> {
        let owned: Option<(String,)> = self
            .fetch_optional(
                "SELECT id FROM search_scrolls WHERE id = $1 AND org = $2 AND uid = $3 \
             AND token_hash = $4",
                (id, org, uid, token_hash.to_hex()),
            )
            .await?;
        if owned.is_none() {
            return Ok(false);
        }
        self.forget_scroll(id).await?;
        Ok(true)
    }
}

#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    async fn forget_scroll(&self, id: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::delete_scrolls(&mut tx, "id = $1", id.to_owned()).await?;
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    /// Deletes the scrolls that `condition` (on `search_scrolls`, with
    /// `value` as its `$1`) selects, their pages first: they point at their
    /// scroll.
    async fn delete_scrolls(
        tx: &mut sqlx::Transaction<'_, D>,
        condition: &str,
        value: impl for<'q> Bind<'q, D> + Clone,
    ) -> Result<()> {
        let pages = format!(
            "DELETE FROM search_scroll_pages WHERE scroll_id IN \
             (SELECT id FROM search_scrolls WHERE {condition})"
        );
        let scrolls = format!("DELETE FROM search_scrolls WHERE {condition}");
        Self::exec_on(&mut **tx, &pages, (value.clone(),)).await?;
        Self::exec_on(&mut **tx, &scrolls, (value,)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_of_keys_reads_back_as_written() {
        assert_eq!(unpack(&pack(&[3, 1, 2])).unwrap(), vec![3, 1, 2]);
        assert_eq!(unpack(&pack(&[])).unwrap(), Vec::<i64>::new());
        assert!(unpack("1,x").is_err());
    }
}
