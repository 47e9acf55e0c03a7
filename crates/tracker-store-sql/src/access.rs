//! Organizations, users, memberships, tokens and queues.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tracker_domain::TokenHash;
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{db, Engine, SqlStore};

pub(crate) const ORG_COLS: &str = "id, org_id, cloud_id, name, created_at";
pub(crate) const USER_COLS: &str =
    "uid, login, cloud_uid, first_name, last_name, email, dismissed, \
                         password_hash, created_at, first_login_at, last_login_at";
/// [`USER_COLS`] qualified with a table alias, for joins.
pub(crate) fn user_cols_as(alias: &str) -> String {
    USER_COLS
        .split(", ")
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

const TOKEN_SELECT: &str = "SELECT t.id, t.kind, t.hash, t.uid, t.scopes, t.parent_id, \
     t.description, t.created_at, t.expires_at, t.revoked_at, \
     p.revoked_at AS parent_revoked_at, p.expires_at AS parent_expires_at \
     FROM tokens t LEFT JOIN tokens p ON p.id = t.parent_id";
/// The statement of [`AccessStore::queue_by_id`] (`$1` the organization,
/// `$2` the queue's id); public for the driver benchmark.
pub fn queue_by_id_sql() -> String {
    format!("SELECT {QUEUE_COLS} FROM queues WHERE org = $1 AND id = $2")
}

/// A queue's columns and its count of triggers (`'trigger'` is
/// [`TRIGGER_KIND`]; a test holds them equal). A subquery, not a kept
/// column: the count is always that of the templates table, whatever
/// writes it (a snapshot restore included). It reads the queue's own
/// entries of `templates_by_queue` (migrations 0036 on SQLite, 0040 on
/// PostgreSQL).
pub(crate) const QUEUE_COLS: &str =
    "id, org, key, name, description, lead_uid, version, created_at, \
     default_type, default_priority, deleted_at, issue_types, \
     (SELECT COUNT(*) FROM templates t WHERE t.org = queues.org AND t.kind = 'trigger' \
      AND t.queue_id = queues.id) AS triggers";

#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    pub(crate) async fn token_by_id(&self, id: i64) -> Result<TokenRecord> {
        self.find::<TokenRecord, _>(&format!("{TOKEN_SELECT} WHERE t.id = $1"), (id,))
            .await?
            .ok_or(StoreError::NotFound("token"))
    }

    /// Inserts an organization; `on_conflict` says what a taken `org_id` does.
    async fn insert_organization(
        &self,
        new: &NewOrganization,
        on_conflict: &str,
    ) -> Result<Organization> {
        self.fetch_one(
            &format!(
                "INSERT INTO organizations (org_id, cloud_id, name, created_at) VALUES ($1, $2, \
                 $3, $4) {on_conflict} RETURNING {ORG_COLS}"
            ),
            (&new.org_id, &new.cloud_id, &new.name, new.created_at),
        )
        .await
    }

    /// Inserts a queue; `on_conflict` says what a taken key does (no row
    /// comes back where it does nothing).
    async fn insert_queue<'c>(
        on: impl sqlx::Executor<'c, Database = D>,
        org: i64,
        new: &NewQueue,
        issue_types: &str,
        on_conflict: &str,
    ) -> Result<Option<QueueRecord>> {
        let sql = format!(
            "INSERT INTO queues (org, key, name, description, lead_uid, created_at, \
               default_type, default_priority, issue_types) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) {on_conflict} RETURNING {QUEUE_COLS}"
        );
        let binds = (
            org,
            &new.key,
            &new.name,
            &new.description,
            new.lead_uid,
            new.created_at,
            &new.default_type,
            &new.default_priority,
            issue_types,
        );
        Self::fetch_optional_on(on, &sql, binds).await
    }

    /// Inserts a token, minted under OAuth grant `grant_id` if any;
    /// `on_conflict` says what a taken hash does (no id comes back where it
    /// does nothing).
    pub(crate) async fn insert_token_row(
        &self,
        new: &NewToken,
        grant_id: Option<i64>,
        on_conflict: &str,
    ) -> Result<Option<i64>> {
        let sql = format!(
            "INSERT INTO tokens (kind, hash, uid, scopes, parent_id, description, created_at, \
               expires_at, grant_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             {on_conflict} RETURNING id"
        );
        let binds = (
            new.kind.as_str(),
            new.hash.to_hex(),
            new.uid,
            new.scopes.to_list(),
            new.parent_id,
            &new.description,
            new.created_at,
            new.expires_at,
            grant_id,
        );
        self.optional_scalar(&sql, binds).await
    }

    /// Inserts an account; `on_conflict` says what a taken login does.
    async fn insert_user(&self, new: &NewUser, on_conflict: &str) -> Result<User> {
        self.fetch_one(
            &format!(
                "INSERT INTO users (login, cloud_uid, first_name, last_name, email, \
                 password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) {on_conflict} \
                 RETURNING {USER_COLS}"
            ),
            (
                &new.login,
                &new.cloud_uid,
                &new.first_name,
                &new.last_name,
                &new.email,
                &new.password_hash,
                new.created_at,
            ),
        )
        .await
    }
}

#[sql_bounds]
#[async_trait]
impl<D: Engine> AccessStore for SqlStore<D> {
    fn backend(&self) -> &'static str {
        D::DIALECT.name()
    }

    async fn migrate(&self) -> Result<()> {
        D::migrate(&self.pool).await?;
        self.count_issues_for_statistics().await
    }

    async fn ping(&self) -> Result<()> {
        self.exec("SELECT 1", ()).await?;
        Ok(())
    }

    fn pool_stats(&self) -> tracker_store::PoolStats {
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        tracker_store::PoolStats {
            open: self.pool.size(),
            idle,
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn organization_count(&self) -> Result<i64> {
        self.scalar("SELECT COUNT(*) FROM organizations", ()).await
    }

    async fn create_organization(&self, new: &NewOrganization) -> Result<Organization> {
        self.insert_organization(new, "").await
    }

    async fn upsert_organization(&self, new: &NewOrganization) -> Result<Organization> {
        self.insert_organization(
            new,
            "ON CONFLICT (org_id) DO UPDATE SET cloud_id = excluded.cloud_id, name = excluded.name",
        )
        .await
    }

    async fn organization_by_org_id(&self, org_id: &str) -> Result<Option<Organization>> {
        self.find::<Organization, _>(
            &format!("SELECT {ORG_COLS} FROM organizations WHERE org_id = $1"),
            (org_id,),
        )
        .await
    }

    async fn organization_by_cloud_id(&self, cloud_id: &str) -> Result<Option<Organization>> {
        self.find::<Organization, _>(
            &format!("SELECT {ORG_COLS} FROM organizations WHERE cloud_id = $1"),
            (cloud_id,),
        )
        .await
    }

    async fn list_organizations(&self) -> Result<Vec<Organization>> {
        self.fetch_all(
            &format!("SELECT {ORG_COLS} FROM organizations ORDER BY id"),
            (),
        )
        .await
    }

    async fn create_user(&self, new: &NewUser) -> Result<User> {
        self.insert_user(new, "").await
    }

    async fn upsert_user(&self, new: &NewUser) -> Result<User> {
        // The cloud uid is an identity: it is kept from the first insert.
        self.insert_user(
            new,
            &format!(
                "ON CONFLICT ({login}) DO UPDATE SET first_name = excluded.first_name, \
                   last_name = excluded.last_name, email = excluded.email, \
                   password_hash = COALESCE(excluded.password_hash, users.password_hash)",
                login = D::DIALECT.login_conflict_target(),
            ),
        )
        .await
    }

    async fn user_by_login(&self, login: &str) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLS} FROM users WHERE {} = {}",
            D::DIALECT.login_key(),
            D::DIALECT.login_value("$1")
        );
        self.find::<User, _>(&sql, (login,)).await
    }

    async fn user_by_uid(&self, uid: i64) -> Result<Option<User>> {
        self.find::<User, _>(
            &format!("SELECT {USER_COLS} FROM users WHERE uid = $1"),
            (uid,),
        )
        .await
    }

    async fn put_membership(&self, org: i64, uid: i64, admin: bool) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::exec_on(
            &mut *tx,
            "INSERT INTO memberships (org, uid, admin) VALUES ($1, $2, $3) \
             ON CONFLICT (org, uid) DO UPDATE SET admin = excluded.admin",
            (org, uid, admin),
        )
        .await?;
        // A changed role can take rights away: cached authentications must go.
        Self::commit_bumping_epoch(tx).await
    }

    async fn membership(&self, org: i64, uid: i64) -> Result<Option<Membership>> {
        let row: Option<(bool,)> = self
            .fetch_optional(
                "SELECT admin FROM memberships WHERE org = $1 AND uid = $2",
                (org, uid),
            )
            .await?;
        Ok(row.map(|(admin,)| Membership { org, uid, admin }))
    }

    async fn memberships_of(&self, uid: i64) -> Result<Vec<Membership>> {
        let rows: Vec<(i64, bool)> = self
            .fetch_all(
                "SELECT org, admin FROM memberships WHERE uid = $1 ORDER BY org",
                (uid,),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(org, admin)| Membership { org, uid, admin })
            .collect())
    }

    async fn list_members(&self, org: i64, offset: i64, limit: i64) -> Result<(Vec<User>, i64)> {
        let total: i64 = self
            .scalar("SELECT COUNT(*) FROM memberships WHERE org = $1", (org,))
            .await?;
        let cols = user_cols_as("u");
        let users = self
            .fetch_all::<User>(
                &format!(
                    "SELECT {cols} FROM users u JOIN memberships m ON m.uid = u.uid \
             WHERE m.org = $1 ORDER BY u.uid LIMIT $2 OFFSET $3"
                ),
                (org, limit, offset),
            )
            .await?;
        Ok((users, total))
    }

    async fn record_login(&self, uid: i64, at: DateTime<Utc>) -> Result<()> {
        self.exec(
            "UPDATE users SET first_login_at = COALESCE(first_login_at, $1), last_login_at = $2 \
             WHERE uid = $3",
            (at, at, uid),
        )
        .await?;
        Ok(())
    }

    async fn insert_token(&self, new: &NewToken) -> Result<TokenRecord> {
        let id = self
            .insert_token_row(new, None, "")
            .await?
            .ok_or(StoreError::NotFound("token"))?;
        self.token_by_id(id).await
    }

    async fn upsert_token(&self, new: &NewToken) -> Result<TokenRecord> {
        let on_conflict = "ON CONFLICT (hash) DO UPDATE SET scopes = excluded.scopes, \
               expires_at = excluded.expires_at, description = excluded.description \
             WHERE tokens.uid = excluded.uid AND tokens.kind = excluded.kind";
        let id = self
            .insert_token_row(new, None, on_conflict)
            .await?
            .ok_or_else(|| {
                StoreError::Conflict("a token with that value belongs to another account".into())
            })?;
        self.bump_auth_epoch().await?;
        self.token_by_id(id).await
    }

    async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenRecord>> {
        self.find::<TokenRecord, _>(
            &format!("{TOKEN_SELECT} WHERE t.hash = $1"),
            (hash.to_hex(),),
        )
        .await
    }

    async fn list_tokens(&self, uid: i64) -> Result<Vec<TokenRecord>> {
        self.find_all::<TokenRecord, _>(
            &format!("{TOKEN_SELECT} WHERE t.uid = $1 AND t.kind = 'oauth' ORDER BY t.id"),
            (uid,),
        )
        .await
    }

    async fn revoke_token(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = Self::exec_on(
            &mut *tx,
            "UPDATE tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND id IN ( \
               WITH RECURSIVE family(id) AS ( \
                 SELECT id FROM tokens WHERE id = $2 \
                 UNION SELECT t.id FROM tokens t JOIN family f ON t.parent_id = f.id) \
               SELECT id FROM family)",
            (at, id),
        )
        .await?;
        Self::commit_bumping_epoch(tx).await?;
        Ok(done > 0)
    }

    async fn auth_epoch(&self) -> Result<i64> {
        self.scalar("SELECT value FROM auth_epoch WHERE id = 1", ())
            .await
    }

    async fn data_stamp(&self) -> Result<String> {
        self.shared_data_stamp().await
    }

    async fn bump_auth_epoch(&self) -> Result<i64> {
        self.scalar(
            "UPDATE auth_epoch SET value = value + 1 WHERE id = 1 RETURNING value",
            (),
        )
        .await
    }

    async fn create_queue(&self, org: i64, new: &NewQueue) -> Result<QueueRecord> {
        let mut tx = self.begin().await?;
        let row = Self::insert_queue(&mut *tx, org, new, &new.issue_types, "")
            .await?
            .ok_or(StoreError::NotFound("queue"))?;
        Self::ensure_default_grants(&mut tx, row.id).await?;
        tx.commit().await.map_err(db)?;
        Ok(row)
    }

    async fn upsert_queue(&self, org: i64, new: &NewQueue) -> Result<QueueRecord> {
        // The version moves only when something really changed, so applying
        // the same seed twice leaves the queue as it was.
        // A seed does not set the issue types: the column's default, ''.
        let on_conflict = "ON CONFLICT (org, key) DO UPDATE SET name = excluded.name, \
               lead_uid = excluded.lead_uid, version = queues.version + 1 \
             WHERE queues.name <> excluded.name OR queues.lead_uid <> excluded.lead_uid";
        let row = Self::insert_queue(&self.pool, org, new, "", on_conflict).await?;
        let queue: QueueRecord = match row {
            Some(r) => r,
            None => self
                .queue_by_key(org, &new.key)
                .await?
                .ok_or(StoreError::NotFound("queue"))?,
        };
        let mut tx = self.begin().await?;
        Self::ensure_default_grants(&mut tx, queue.id).await?;
        tx.commit().await.map_err(db)?;
        Ok(queue)
    }

    async fn queue_by_key(&self, org: i64, key: &str) -> Result<Option<QueueRecord>> {
        self.find::<QueueRecord, _>(
            &format!("SELECT {QUEUE_COLS} FROM queues WHERE org = $1 AND key = $2"),
            (org, key),
        )
        .await
    }

    async fn queue_by_id(&self, org: i64, id: i64) -> Result<Option<QueueRecord>> {
        self.find::<QueueRecord, _>(&queue_by_id_sql(), (org, id))
            .await
    }

    async fn list_queues(
        &self,
        org: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<QueueRecord>, i64)> {
        let total: i64 = self
            .scalar(
                "SELECT COUNT(*) FROM queues WHERE org = $1 AND deleted_at IS NULL",
                (org,),
            )
            .await?;
        let sql = format!(
            "SELECT {QUEUE_COLS} FROM queues WHERE org = $1 AND deleted_at IS NULL \
             ORDER BY id LIMIT $2 OFFSET $3"
        );
        let rows = self.fetch_all(&sql, (org, limit, offset)).await?;
        Ok((rows, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_columns_count_the_kind_of_template_that_triggers() {
        assert!(
            QUEUE_COLS.contains(&format!("t.kind = '{TRIGGER_KIND}'")),
            "{QUEUE_COLS}"
        );
    }
}
