//! Sprints of boards. A board itself is a [`crate::TemplateRecord`] of kind
//! `board`; issues refer to sprints by id in their `sprint` field.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct SprintRecord {
    /// Also the public id: Tracker's sprint ids are numbers.
    pub pk: i64,
    pub org: i64,
    pub board_pk: i64,
    pub name: String,
    /// An archived sprint reads as `archived`; otherwise its status
    /// follows from its dates.
    pub archived: bool,
    /// `YYYY-MM-DD`, as the API sends and answers it.
    pub start_date: String,
    pub end_date: String,
    pub version: i64,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait SprintStore: Send + Sync + 'static {
    /// Inserts the sprint (`pk` and `version` are assigned).
    async fn create_sprint(&self, s: &SprintRecord) -> Result<SprintRecord>;
    async fn sprint(&self, org: i64, pk: i64) -> Result<Option<SprintRecord>>;
    /// The organization's sprints (or one board's), oldest first.
    async fn list_sprints(&self, org: i64, board: Option<i64>) -> Result<Vec<SprintRecord>>;
}
