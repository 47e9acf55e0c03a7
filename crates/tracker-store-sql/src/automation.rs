//! Auto-action runs and the webhook outbox.

use async_trait::async_trait;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::access::ORG_COLS;
use crate::{Engine, SqlStore};

const TEMPLATE_COLS: &str = "pk, org, kind, queue_id, name, description, body, version, \
    created_by, created_at, updated_at";

const DELIVERY_COLS: &str = "pk, org, template_pk, issue_key, event, method, url, headers, \
    body, state, attempts, last_status, last_error, created_ms, updated_ms, next_attempt_ms";

#[sql_bounds]
#[async_trait]
impl<D: Engine> AutomationStore for SqlStore<D> {
    async fn organization_by_pk(&self, id: i64) -> Result<Option<Organization>> {
        let sql = format!("SELECT {ORG_COLS} FROM organizations WHERE id = $1");
        self.find::<Organization, _>(&sql, (id,)).await
    }

    async fn templates_of_kind(&self, kind: &str) -> Result<Vec<TemplateRecord>> {
        let sql = format!("SELECT {TEMPLATE_COLS} FROM templates WHERE kind = $1 ORDER BY pk");
        self.find_all::<TemplateRecord, _>(&sql, (kind,)).await
    }

    async fn next_run(&self, template_pk: i64) -> Result<Option<i64>> {
        self.optional_scalar(
            "SELECT next_run_ms FROM automation_runs WHERE template_pk = $1",
            (template_pk,),
        )
        .await
    }

    async fn claim_run(&self, template_pk: i64, due_ms: Option<i64>, next_ms: i64) -> Result<bool> {
        // One statement either way: the first run inserts (the primary key
        // lets one racer in), a later one moves the time it read (the
        // condition lets one racer in).
        let done = match due_ms {
            None => {
                self.exec(
                    "INSERT INTO automation_runs (template_pk, next_run_ms) VALUES ($1, $2) \
                     ON CONFLICT (template_pk) DO NOTHING",
                    (template_pk, next_ms),
                )
                .await?
            }
            Some(due) => {
                self.exec(
                    "UPDATE automation_runs SET next_run_ms = $1 \
                     WHERE template_pk = $2 AND next_run_ms = $3",
                    (next_ms, template_pk, due),
                )
                .await?
            }
        };
        Ok(done == 1)
    }

    async fn finish_run(&self, template_pk: i64, at_ms: i64, processed: i64) -> Result<()> {
        self.exec(
            "UPDATE automation_runs SET last_run_ms = $1, last_processed = $2 \
             WHERE template_pk = $3",
            (at_ms, processed, template_pk),
        )
        .await?;
        Ok(())
    }

    async fn last_run(&self, template_pk: i64) -> Result<Option<(Option<i64>, i64)>> {
        self.fetch_optional(
            "SELECT last_run_ms, last_processed FROM automation_runs WHERE template_pk = $1",
            (template_pk,),
        )
        .await
    }

    async fn enqueue_delivery(&self, d: &NewDelivery) -> Result<i64> {
        self.scalar(
            "INSERT INTO webhook_deliveries (org, template_pk, issue_key, event, method, url, \
               headers, body, created_ms, updated_ms, next_attempt_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9) RETURNING pk",
            (
                d.org,
                d.template_pk,
                &d.issue_key,
                &d.event,
                &d.method,
                &d.url,
                &d.headers,
                &d.body,
                d.created_ms,
            ),
        )
        .await
    }

    async fn claim_deliveries(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>> {
        let sql = format!(
            "UPDATE webhook_deliveries SET lease_owner = $1, lease_until_ms = $2 WHERE pk IN \
               (SELECT pk FROM webhook_deliveries WHERE state = 'pending' \
                AND next_attempt_ms <= $3 AND lease_until_ms <= $3 \
                ORDER BY pk LIMIT $4{{skip_locked}}) \
             RETURNING {DELIVERY_COLS}"
        );
        let mut rows: Vec<DeliveryRecord> = self
            .claim_leases(&sql, owner, now_ms, until_ms, limit)
            .await?;
        rows.sort_unstable_by_key(|r| r.pk);
        Ok(rows)
    }

    async fn record_attempt(&self, pk: i64, owner: &str, a: &Attempt) -> Result<bool> {
        let done = self
            .exec(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $1, \
               last_error = $2, state = $3, next_attempt_ms = $4, updated_ms = $5, \
               lease_owner = NULL, lease_until_ms = 0 \
             WHERE pk = $6 AND lease_owner = $7",
                (
                    a.status,
                    a.error.clone(),
                    &a.state,
                    a.next_attempt_ms,
                    a.now_ms,
                    pk,
                    owner,
                ),
            )
            .await?;
        let n = done;
        Ok(n == 1)
    }

    async fn list_deliveries(
        &self,
        org: i64,
        template_pk: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<DeliveryRecord>, i64)> {
        let sql = format!(
            "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE org = $1 AND template_pk = $2 \
             ORDER BY pk DESC LIMIT $3 OFFSET $4"
        );
        let rows = self
            .find_all::<DeliveryRecord, _>(&sql, (org, template_pk, limit, offset))
            .await?;
        let total: i64 = self
            .scalar(
                "SELECT COUNT(*) FROM webhook_deliveries WHERE org = $1 AND template_pk = $2",
                (org, template_pk),
            )
            .await?;
        Ok((rows, total))
    }
}
