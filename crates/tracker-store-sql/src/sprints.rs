//! Sprints of boards.

use async_trait::async_trait;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{Engine, SqlStore};

const COLS: &str =
    "pk, org, board_pk, name, archived, start_date, end_date, version, created_by, created_at";

#[sql_bounds]
#[async_trait]
impl<D: Engine> SprintStore for SqlStore<D> {
    async fn create_sprint(&self, s: &SprintRecord) -> Result<SprintRecord> {
        let pk: i64 = self.scalar("INSERT INTO sprints (org, board_pk, name, archived, start_date, end_date, version, \
               created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8) RETURNING pk",
            (
                s.org,
                s.board_pk,
                &s.name,
                s.archived,
                &s.start_date,
                &s.end_date,
                s.created_by,
                s.created_at,
            ),
        )
        .await?;
        Ok(SprintRecord {
            pk,
            version: 1,
            ..s.clone()
        })
    }

    async fn sprint(&self, org: i64, pk: i64) -> Result<Option<SprintRecord>> {
        self.by_pk("sprints", COLS, org, pk).await
    }

    async fn list_sprints(&self, org: i64, board: Option<i64>) -> Result<Vec<SprintRecord>> {
        self.list_under("sprints", COLS, org, ("board_pk", board))
            .await
    }
}
