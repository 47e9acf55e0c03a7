//! Federated accounts: identity providers, identities, sign-ins under way.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::access::{user_cols_as, USER_COLS};
use crate::{db, Engine, SqlStore};

const PROVIDER_COLS: &str = "id, public_id, org, name, issuer, client_id, client_secret, scopes, \
     login_claim, first_name_claim, last_name_claim, email_claim, link_rule, algorithms, enabled, \
     created_at";
const IDENTITY_COLS: &str = "id, provider, subject, uid, refresh_token, created_at, last_seen_at";
const LOGIN_COLS: &str =
    "state_hash, browser_hash, provider, nonce, verifier, next, created_at, expires_at";

#[sql_bounds]
impl<D: Engine> SqlStore<D> {
    /// Ends the sessions and tokens of the accounts `which` selects (a
    /// condition on `uid` with one placeholder, `$2`), inside `tx`.
    async fn end_access_in(
        tx: &mut sqlx::Transaction<'static, D>,
        which: &str,
        key: i64,
        at: DateTime<Utc>,
    ) -> Result<()> {
        Self::exec_on(
            &mut **tx,
            &format!("DELETE FROM web_sessions WHERE $1 = $1 AND {which}"),
            (at, key),
        )
        .await?;
        for table in ["oauth_grants", "tokens"] {
            Self::exec_on(
                &mut **tx,
                &format!("UPDATE {table} SET revoked_at = $1 WHERE revoked_at IS NULL AND {which}"),
                (at, key),
            )
            .await?;
        }
        Self::bump_epoch_on(&mut **tx).await?;
        Ok(())
    }
}

#[sql_bounds]
#[async_trait]
impl<D: Engine> FederationStore for SqlStore<D> {
    async fn put_federation_provider(&self, p: &FederationProvider) -> Result<FederationProvider> {
        // Another organization's public id is not overwritten: the update's
        // WHERE leaves it alone and nothing is returned.
        let row: Option<FederationProvider> = self
            .fetch_optional(
                &format!(
                    "INSERT INTO federation_providers (public_id, org, name, issuer, client_id, \
               client_secret, scopes, login_claim, first_name_claim, last_name_claim, email_claim, \
               link_rule, algorithms, enabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (public_id) DO UPDATE SET name = excluded.name, \
               issuer = excluded.issuer, client_id = excluded.client_id, \
               client_secret = excluded.client_secret, scopes = excluded.scopes, \
               login_claim = excluded.login_claim, first_name_claim = excluded.first_name_claim, \
               last_name_claim = excluded.last_name_claim, email_claim = excluded.email_claim, \
               link_rule = excluded.link_rule, algorithms = excluded.algorithms \
             WHERE federation_providers.org = excluded.org \
             RETURNING {PROVIDER_COLS}"
                ),
                (
                    &p.public_id,
                    p.org,
                    &p.name,
                    &p.issuer,
                    &p.client_id,
                    &p.client_secret,
                    &p.scopes,
                    &p.login_claim,
                    &p.first_name_claim,
                    &p.last_name_claim,
                    &p.email_claim,
                    p.link_rule.as_str(),
                    &p.algorithms,
                    p.enabled,
                    p.created_at,
                ),
            )
            .await?;
        match row {
            Some(r) => Ok(r),
            None => Err(StoreError::Conflict(format!(
                "identity provider {} belongs to another organization",
                p.public_id
            ))),
        }
    }

    async fn federation_provider(&self, public_id: &str) -> Result<Option<FederationProvider>> {
        let sql = format!("SELECT {PROVIDER_COLS} FROM federation_providers WHERE public_id = $1");
        self.find::<FederationProvider, _>(&sql, (public_id,)).await
    }

    async fn federation_provider_by_id(&self, id: i64) -> Result<Option<FederationProvider>> {
        let sql = format!("SELECT {PROVIDER_COLS} FROM federation_providers WHERE id = $1");
        self.find::<FederationProvider, _>(&sql, (id,)).await
    }

    async fn list_federation_providers(&self, org: Option<i64>) -> Result<Vec<FederationProvider>> {
        let sql = format!(
            "SELECT {PROVIDER_COLS} FROM federation_providers WHERE ($1 IS NULL OR org = $1) \
             ORDER BY org, public_id"
        );
        self.find_all::<FederationProvider, _>(&sql, (org,)).await
    }

    async fn set_federation_provider_enabled(
        &self,
        id: i64,
        enabled: bool,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = Self::exec_on(
            &mut *tx,
            "UPDATE federation_providers SET enabled = $1 WHERE id = $2",
            (enabled, id),
        )
        .await?;
        if !enabled {
            Self::end_access_in(
                &mut tx,
                "uid IN (SELECT uid FROM federated_identities WHERE provider = $2)",
                id,
                at,
            )
            .await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(done > 0)
    }

    async fn insert_federation_login(&self, l: &FederationLogin) -> Result<()> {
        self.exec(
            &format!(
            "INSERT INTO federation_logins ({LOGIN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ),
            (
                &l.state_hash,
                &l.browser_hash,
                l.provider,
                &l.nonce,
                &l.verifier,
                &l.next,
                l.created_at,
                l.expires_at,
            ),
        )
        .await?;
        Ok(())
    }

    async fn forget_federation_logins(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = self
            .exec(
                "DELETE FROM federation_logins WHERE expires_at < $1",
                (before,),
            )
            .await?;
        Ok(done)
    }

    async fn spend_federation_login(
        &self,
        state_hash: &str,
        browser_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<FederationLogin>> {
        // One statement marks and answers it: of two callbacks racing with
        // the same state, only one gets a row.
        let sql = format!(
            "UPDATE federation_logins SET used_at = $1 WHERE state_hash = $2 AND browser_hash = $3 \
               AND used_at IS NULL RETURNING {LOGIN_COLS}"
        );
        self.find::<FederationLogin, _>(&sql, (at, state_hash, browser_hash))
            .await
    }

    async fn federated_identity(
        &self,
        provider: i64,
        subject: &str,
    ) -> Result<Option<FederatedIdentity>> {
        let sql = format!(
            "SELECT {IDENTITY_COLS} FROM federated_identities WHERE provider = $1 AND subject = $2"
        );
        self.find::<FederatedIdentity, _>(&sql, (provider, subject))
            .await
    }

    async fn federated_identities_of(&self, uid: i64) -> Result<Vec<FederatedIdentity>> {
        let sql =
            format!("SELECT {IDENTITY_COLS} FROM federated_identities WHERE uid = $1 ORDER BY id");
        self.find_all::<FederatedIdentity, _>(&sql, (uid,)).await
    }

    async fn create_federated_account(
        &self,
        provider: &FederationProvider,
        subject: &str,
        new: &NewUser,
        refresh_token: Option<&str>,
    ) -> Result<User> {
        let mut tx = self.begin().await?;
        let user: User = Self::fetch_one_on(
            &mut *tx,
            &format!(
            "INSERT INTO users (login, cloud_uid, first_name, last_name, email, password_hash, \
               created_at) VALUES ($1, $2, $3, $4, $5, NULL, $6) RETURNING {USER_COLS}"
        ),
            (
                &new.login,
                &new.cloud_uid,
                &new.first_name,
                &new.last_name,
                &new.email,
                new.created_at,
            ),
        )
        .await?;
        Self::exec_on(
            &mut *tx,
            "INSERT INTO memberships (org, uid, admin) VALUES ($1, $2, $3)",
            (provider.org, user.uid, false),
        )
        .await?;
        Self::exec_on(
            &mut *tx,
            "INSERT INTO federated_identities (provider, subject, uid, refresh_token, created_at, \
               last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)",
            (
                provider.id,
                subject,
                user.uid,
                refresh_token.map(str::to_owned),
                new.created_at,
            ),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(user)
    }

    async fn link_federated_identity(
        &self,
        provider: i64,
        subject: &str,
        uid: i64,
        refresh_token: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<FederatedIdentity> {
        let sql = format!(
            "INSERT INTO federated_identities (provider, subject, uid, refresh_token, created_at, \
               last_seen_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING {IDENTITY_COLS}"
        );
        let binds = (provider, subject, uid, refresh_token.map(str::to_owned), at);
        self.fetch_one(&sql, binds).await
    }

    async fn touch_federated_identity(
        &self,
        id: i64,
        refresh_token: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.exec(
            "UPDATE federated_identities SET last_seen_at = $1, \
               refresh_token = COALESCE($2, refresh_token) WHERE id = $3",
            (at, refresh_token.map(str::to_owned), id),
        )
        .await?;
        Ok(())
    }

    async fn member_by_email(&self, org: i64, email: &str) -> Result<Option<User>> {
        let cols = user_cols_as("u");
        let sql = format!(
            "SELECT {cols} FROM users u JOIN memberships m ON m.uid = u.uid \
             WHERE m.org = $1 AND lower(u.email) = lower($2) AND u.email <> '' ORDER BY u.uid LIMIT 2"
        );
        let found: Vec<User> = self.find_all::<User, _>(&sql, (org, email)).await?;
        // Two members sharing an email: linking either would be a guess.
        Ok(if found.len() == 1 {
            found.into_iter().next()
        } else {
            None
        })
    }

    async fn end_account_access(&self, uid: i64, at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin().await?;
        Self::end_access_in(&mut tx, "uid = $2", uid, at).await?;
        tx.commit().await.map_err(db)
    }
}
