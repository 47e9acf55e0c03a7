//! Job leases (see `tracker_store::JobStore`).

use async_trait::async_trait;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{db, Engine, SqlStore};

#[sql_bounds]
#[async_trait]
impl<D: Engine> JobStore for SqlStore<D> {
    async fn claim_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool> {
        // One statement: the insert or the takeover happens only where the
        // lease is free, expired or the holder's own, so two nodes racing
        // cannot both get it.
        let got: Option<String> = sqlx::query_scalar(
            "INSERT INTO job_leases (name, holder, expires_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
               expires_ms = excluded.expires_ms \
             WHERE job_leases.expires_ms <= $4 OR job_leases.holder = excluded.holder \
             RETURNING holder",
        )
        .bind(name)
        .bind(holder)
        .bind(now_ms.saturating_add(ttl_ms))
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        Ok(got.is_some())
    }
}
