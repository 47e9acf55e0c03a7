//! What running queue automation needs beyond the macros, triggers and
//! auto-actions themselves (kept as [`crate::TemplateRecord`]s of kinds
//! `macro`, `trigger` and `autoaction`): when each auto-action runs next,
//! and the outbox of webhook deliveries with their record.

use async_trait::async_trait;

use crate::{Organization, Result, TemplateRecord};

/// A webhook request to make, as an action asked for it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct NewDelivery {
    pub org: i64,
    /// The trigger or auto-action whose action it is.
    pub template_pk: i64,
    pub issue_key: String,
    /// What caused it, e.g. `Event.update`.
    pub event: String,
    pub method: String,
    pub url: String,
    /// The request's headers, a JSON object.
    pub headers: String,
    pub body: Option<String>,
    /// When it was asked for; also its first attempt's time.
    pub created_ms: i64,
}

/// A delivery and how it went.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct DeliveryRecord {
    pub pk: i64,
    #[cfg_attr(feature = "sqlx", sqlx(flatten))]
    pub request: NewDelivery,
    /// `pending`, `delivered` or `failed` (attempts exhausted).
    pub state: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub updated_ms: i64,
    pub next_attempt_ms: i64,
}

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub status: Option<i64>,
    pub error: Option<String>,
    /// `delivered`, `failed`, or `pending` (to try again at `next_attempt_ms`).
    pub state: String,
    pub next_attempt_ms: i64,
    pub now_ms: i64,
}

#[async_trait]
pub trait AutomationStore: Send + Sync + 'static {
    /// An organization by internal id (automation runs outside any request).
    async fn organization_by_pk(&self, id: i64) -> Result<Option<Organization>>;
    /// Every organization's templates of `kind` (the scheduler's list of
    /// auto-actions).
    async fn templates_of_kind(&self, kind: &str) -> Result<Vec<TemplateRecord>>;
    /// When the auto-action runs next; `None` before its first run.
    async fn next_run(&self, template_pk: i64) -> Result<Option<i64>>;
    /// Takes the run due at `due_ms` (`None`: the first one), moving the
    /// next to `next_ms`: `true` for exactly one caller of several racing.
    async fn claim_run(&self, template_pk: i64, due_ms: Option<i64>, next_ms: i64) -> Result<bool>;
    /// Records what the run did: when, and how many issues it processed.
    async fn finish_run(&self, template_pk: i64, at_ms: i64, processed: i64) -> Result<()>;
    /// The last run's time and count of issues processed.
    async fn last_run(&self, template_pk: i64) -> Result<Option<(Option<i64>, i64)>>;

    async fn enqueue_delivery(&self, d: &NewDelivery) -> Result<i64>;
    /// Leases up to `limit` pending deliveries due at `now_ms` to `owner`
    /// until `until_ms`; two nodes never get the same one.
    async fn claim_deliveries(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>>;
    /// Records an attempt if `owner` still holds the delivery.
    async fn record_attempt(&self, pk: i64, owner: &str, a: &Attempt) -> Result<bool>;
    /// A page of the template's deliveries, newest first, and their total.
    async fn list_deliveries(
        &self,
        org: i64,
        template_pk: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<DeliveryRecord>, i64)>;
}
