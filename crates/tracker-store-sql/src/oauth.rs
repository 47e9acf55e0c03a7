//! The authorization server's tables (see `tracker_store::OAuthStore`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use tracker_domain::{Scopes, TokenHash};
use tracker_store::*;
use tracker_store_sql_macros::sql_bounds;

use crate::{db, Engine, SqlStore};

fn scopes(s: &str) -> Result<Scopes> {
    Scopes::parse(s).map_err(|e| StoreError::Invalid(e.to_string()))
}

fn hash(s: &str) -> Result<TokenHash> {
    TokenHash::from_hex(s).ok_or_else(|| StoreError::Invalid("stored hash".into()))
}

#[derive(FromRow)]
struct AppRow {
    id: i64,
    client_id: String,
    secret_hash: Option<String>,
    name: String,
    org: i64,
    owner_uid: i64,
    redirect_uris: String,
    confidential: bool,
    scopes: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<AppRow> for AppRecord {
    type Error = StoreError;
    fn try_from(r: AppRow) -> Result<Self> {
        Ok(AppRecord {
            id: r.id,
            client_id: r.client_id,
            secret_hash: r.secret_hash.as_deref().map(hash).transpose()?,
            name: r.name,
            org: r.org,
            owner_uid: r.owner_uid,
            redirect_uris: r
                .redirect_uris
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            confidential: r.confidential,
            scopes: scopes(&r.scopes)?,
            created_at: r.created_at,
        })
    }
}

const APP_COLS: &str =
    "id, client_id, secret_hash, name, org, owner_uid, redirect_uris, confidential, scopes, created_at";

const GRANT_COLS: &str = "id, app_id, uid, scopes, flow, created_at, revoked_at";

const CODE_COLS: &str = "id, app_id, uid, scopes, redirect_uri, code_challenge, created_at, \
                         expires_at, used_at, grant_id";

const REFRESH_COLS: &str = "id, grant_id, access_token_id, scopes, created_at, expires_at, used_at";

const DEVICE_COLS: &str =
    "id, app_id, scopes, interval_secs, created_at, expires_at, last_polled_at, status, uid";

const SA_COLS: &str = "uid, org, sa_id, name, description, scopes, created_at";

const CONSENT_COLS: &str = "uid, app_id, scopes, granted_at";

const KEY_COLS: &str = "id, sa_uid, public_key_pem, description, created_at";

#[sql_bounds]
#[async_trait]
impl<D: Engine> OAuthStore for SqlStore<D> {
    async fn create_app(&self, new: &AppRecord) -> Result<AppRecord> {
        self.one::<AppRow, _>(
            &format!(
            "INSERT INTO oauth_apps (client_id, secret_hash, name, org, owner_uid, redirect_uris, \
             confidential, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             RETURNING {APP_COLS}"
        ),
            (
                &new.client_id,
                new.secret_hash.map(|h| h.to_hex()),
                &new.name,
                new.org,
                new.owner_uid,
                new.redirect_uris.join("\n"),
                new.confidential,
                new.scopes.to_list(),
                new.created_at,
            ),
        )
        .await
    }

    async fn app_by_client_id(&self, client_id: &str) -> Result<Option<AppRecord>> {
        self.find::<AppRow, _>(
            &format!("SELECT {APP_COLS} FROM oauth_apps WHERE client_id = $1"),
            (client_id,),
        )
        .await
    }

    async fn app_by_id(&self, id: i64) -> Result<Option<AppRecord>> {
        self.find::<AppRow, _>(
            &format!("SELECT {APP_COLS} FROM oauth_apps WHERE id = $1"),
            (id,),
        )
        .await
    }

    async fn list_apps(&self, org: i64, owner: Option<i64>) -> Result<Vec<AppRecord>> {
        match owner {
            Some(owner) => {
                let sql = format!(
                    "SELECT {APP_COLS} FROM oauth_apps WHERE org = $1 AND owner_uid = $2 ORDER BY id"
                );
                self.find_all::<AppRow, _>(&sql, (org, owner)).await
            }
            None => {
                let sql = format!("SELECT {APP_COLS} FROM oauth_apps WHERE org = $1 ORDER BY id");
                self.find_all::<AppRow, _>(&sql, (org,)).await
            }
        }
    }

    async fn list_apps_of_owner(&self, owner: i64) -> Result<Vec<AppRecord>> {
        self.find_all::<AppRow, _>(
            &format!("SELECT {APP_COLS} FROM oauth_apps WHERE owner_uid = $1 ORDER BY id"),
            (owner,),
        )
        .await
    }

    async fn update_app(&self, id: i64, update: &AppUpdate) -> Result<AppRecord> {
        self.fetch_optional::<AppRow>(
            &format!(
                "UPDATE oauth_apps SET name = COALESCE($1, name), \
             redirect_uris = COALESCE($2, redirect_uris), scopes = COALESCE($3, scopes), \
             secret_hash = COALESCE($4, secret_hash) WHERE id = $5 RETURNING {APP_COLS}"
            ),
            (
                &update.name,
                update.redirect_uris.as_ref().map(|u| u.join("\n")),
                update.scopes.as_ref().map(|s| s.to_list()),
                update.secret_hash.map(|h| h.to_hex()),
                id,
            ),
        )
        .await?
        .ok_or(StoreError::NotFound("application"))?
        .try_into()
    }

    async fn delete_app(&self, id: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = Self::exec_on(&mut *tx, "DELETE FROM oauth_apps WHERE id = $1", (id,)).await?;
        Self::commit_bumping_epoch(tx).await?;
        Ok(done > 0)
    }

    async fn create_grant(&self, new: &NewGrant) -> Result<GrantRecord> {
        self.one::<GrantRecord, _>(
            &format!(
                "INSERT INTO oauth_grants (app_id, uid, scopes, flow, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {GRANT_COLS}"
            ),
            (
                new.app_id,
                new.uid,
                new.scopes.to_list(),
                &new.flow,
                new.created_at,
            ),
        )
        .await
    }

    async fn grant_by_id(&self, id: i64) -> Result<Option<GrantRecord>> {
        self.find::<GrantRecord, _>(
            &format!("SELECT {GRANT_COLS} FROM oauth_grants WHERE id = $1"),
            (id,),
        )
        .await
    }

    async fn revoke_grant(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = Self::exec_on(
            &mut *tx,
            "UPDATE oauth_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            (at, id),
        )
        .await?;
        // IAM tokens made from these die with them (the access layer checks
        // the parent).
        Self::exec_on(
            &mut *tx,
            "UPDATE tokens SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL",
            (at, id),
        )
        .await?;
        Self::commit_bumping_epoch(tx).await?;
        Ok(done > 0)
    }

    async fn insert_grant_token(&self, new: &NewToken, grant_id: i64) -> Result<TokenRecord> {
        let id = self
            .insert_token_row(new, Some(grant_id), "")
            .await?
            .ok_or(StoreError::NotFound("token"))?;
        self.token_by_id(id).await
    }

    async fn grant_of_token(&self, token_id: i64) -> Result<Option<GrantRecord>> {
        let cols = GRANT_COLS
            .split(", ")
            .map(|c| format!("g.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.find::<GrantRecord, _>(
            &format!(
            "SELECT {cols} FROM oauth_grants g JOIN tokens t ON t.grant_id = g.id WHERE t.id = $1"
        ),
            (token_id,),
        )
        .await
    }

    async fn insert_auth_code(&self, new: &NewAuthCode) -> Result<i64> {
        self.scalar(
            "INSERT INTO oauth_codes (hash, app_id, uid, scopes, redirect_uri, code_challenge, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            (
                new.hash.to_hex(),
                new.app_id,
                new.uid,
                new.scopes.to_list(),
                &new.redirect_uri,
                &new.code_challenge,
                new.created_at,
                new.expires_at,
            ),
        )
        .await
    }

    async fn spend_auth_code(
        &self,
        hash: &TokenHash,
        at: DateTime<Utc>,
    ) -> Result<Spent<AuthCodeRecord>> {
        let fresh = self
            .find::<AuthCodeRecord, _>(
                &format!(
                    "UPDATE oauth_codes SET used_at = $1 WHERE hash = $2 AND used_at IS NULL \
                     RETURNING {CODE_COLS}"
                ),
                (at, hash.to_hex()),
            )
            .await?;
        if let Some(row) = fresh {
            return Ok(Spent::Fresh(row));
        }
        let old = self
            .find::<AuthCodeRecord, _>(
                &format!("SELECT {CODE_COLS} FROM oauth_codes WHERE hash = $1"),
                (hash.to_hex(),),
            )
            .await?;
        Ok(match old {
            Some(row) => Spent::Replayed(row),
            None => Spent::Unknown,
        })
    }

    async fn set_auth_code_grant(&self, code_id: i64, grant_id: i64) -> Result<()> {
        self.exec(
            "UPDATE oauth_codes SET grant_id = $1 WHERE id = $2",
            (grant_id, code_id),
        )
        .await?;
        Ok(())
    }

    async fn insert_refresh_token(&self, new: &NewRefreshToken) -> Result<RefreshRecord> {
        self.one::<RefreshRecord, _>(
            &format!(
                "INSERT INTO oauth_refresh_tokens (hash, grant_id, access_token_id, scopes, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {REFRESH_COLS}"
            ),
            (
                new.hash.to_hex(),
                new.grant_id,
                new.access_token_id,
                new.scopes.to_list(),
                new.created_at,
                new.expires_at,
            ),
        )
        .await
    }

    async fn refresh_token_by_hash(&self, hash: &TokenHash) -> Result<Option<RefreshRecord>> {
        self.find::<RefreshRecord, _>(
            &format!("SELECT {REFRESH_COLS} FROM oauth_refresh_tokens WHERE hash = $1"),
            (hash.to_hex(),),
        )
        .await
    }

    async fn spend_refresh_token(
        &self,
        hash: &TokenHash,
        at: DateTime<Utc>,
    ) -> Result<Spent<RefreshRecord>> {
        let fresh = self
            .find::<RefreshRecord, _>(
                &format!(
                    "UPDATE oauth_refresh_tokens SET used_at = $1 WHERE hash = $2 \
                     AND used_at IS NULL RETURNING {REFRESH_COLS}"
                ),
                (at, hash.to_hex()),
            )
            .await?;
        if let Some(row) = fresh {
            return Ok(Spent::Fresh(row));
        }
        Ok(match self.refresh_token_by_hash(hash).await? {
            Some(r) => Spent::Replayed(r),
            None => Spent::Unknown,
        })
    }

    async fn insert_device_code(&self, new: &NewDeviceCode) -> Result<DeviceRecord> {
        self.one::<DeviceRecord, _>(
            &format!(
                "INSERT INTO oauth_device_codes (device_hash, user_code_hash, app_id, scopes, \
             interval_secs, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING {DEVICE_COLS}"
            ),
            (
                new.device_hash.to_hex(),
                new.user_code_hash.to_hex(),
                new.app_id,
                new.scopes.to_list(),
                new.interval_secs,
                new.created_at,
                new.expires_at,
            ),
        )
        .await
    }

    async fn device_by_hash(&self, device_hash: &TokenHash) -> Result<Option<DeviceRecord>> {
        self.find::<DeviceRecord, _>(
            &format!("SELECT {DEVICE_COLS} FROM oauth_device_codes WHERE device_hash = $1"),
            (device_hash.to_hex(),),
        )
        .await
    }

    async fn device_by_user_code(
        &self,
        user_code_hash: &TokenHash,
    ) -> Result<Option<DeviceRecord>> {
        self.find::<DeviceRecord, _>(
            &format!("SELECT {DEVICE_COLS} FROM oauth_device_codes WHERE user_code_hash = $1"),
            (user_code_hash.to_hex(),),
        )
        .await
    }

    async fn poll_device(
        &self,
        id: i64,
        at: DateTime<Utc>,
    ) -> Result<(Option<DateTime<Utc>>, DeviceRecord)> {
        let mut tx = self.begin().await?;
        let before: Option<DateTime<Utc>> = Self::optional_scalar_on(
            &mut *tx,
            "SELECT last_polled_at FROM oauth_device_codes WHERE id = $1",
            (id,),
        )
        .await?
        .ok_or(StoreError::NotFound("device code"))?;
        let sql = format!(
            "UPDATE oauth_device_codes SET last_polled_at = $1 WHERE id = $2 \
             RETURNING {DEVICE_COLS}"
        );
        let row = Self::fetch_one_on::<DeviceRecord>(&mut *tx, &sql, (at, id)).await?;
        tx.commit().await.map_err(db)?;
        Ok((before, row))
    }

    async fn widen_device_interval(&self, id: i64, by_secs: i64) -> Result<()> {
        self.exec(
            "UPDATE oauth_device_codes SET interval_secs = interval_secs + $1 WHERE id = $2",
            (by_secs, id),
        )
        .await?;
        Ok(())
    }

    async fn decide_device(&self, id: i64, uid: i64, approve: bool) -> Result<bool> {
        let status = if approve {
            DeviceStatus::Approved
        } else {
            DeviceStatus::Denied
        };
        let done = self
            .exec(
                "UPDATE oauth_device_codes SET status = $1, uid = $2 \
                 WHERE id = $3 AND status = 'pending'",
                (status.as_str(), uid, id),
            )
            .await?;
        Ok(done > 0)
    }

    async fn finish_device(&self, id: i64) -> Result<bool> {
        let done = self
            .exec(
                "UPDATE oauth_device_codes SET status = 'done' \
                 WHERE id = $1 AND status = 'approved'",
                (id,),
            )
            .await?;
        Ok(done > 0)
    }

    async fn consent(&self, uid: i64, app_id: i64) -> Result<Option<ConsentRecord>> {
        let sql =
            format!("SELECT {CONSENT_COLS} FROM oauth_consents WHERE uid = $1 AND app_id = $2");
        self.find::<ConsentRecord, _>(&sql, (uid, app_id)).await
    }

    async fn put_consent(&self, c: &ConsentRecord) -> Result<()> {
        self.exec(
            "INSERT INTO oauth_consents (uid, app_id, scopes, granted_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (uid, app_id) DO UPDATE SET scopes = excluded.scopes, \
             granted_at = excluded.granted_at",
            (c.uid, c.app_id, c.scopes.to_list(), c.granted_at),
        )
        .await?;
        Ok(())
    }

    async fn list_consents(&self, uid: i64) -> Result<Vec<ConsentRecord>> {
        let sql =
            format!("SELECT {CONSENT_COLS} FROM oauth_consents WHERE uid = $1 ORDER BY app_id");
        self.find_all::<ConsentRecord, _>(&sql, (uid,)).await
    }

    async fn withdraw_consent(&self, uid: i64, app_id: i64, at: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.begin().await?;
        let consent = Self::exec_on(
            &mut *tx,
            "DELETE FROM oauth_consents WHERE uid = $1 AND app_id = $2",
            (uid, app_id),
        )
        .await?;
        Self::exec_on(
            &mut *tx,
            "UPDATE tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND grant_id IN \
             (SELECT id FROM oauth_grants WHERE uid = $2 AND app_id = $3)",
            (at, uid, app_id),
        )
        .await?;
        let grants = Self::exec_on(
            &mut *tx,
            "UPDATE oauth_grants SET revoked_at = $1 WHERE uid = $2 AND app_id = $3 \
             AND revoked_at IS NULL",
            (at, uid, app_id),
        )
        .await?;
        Self::commit_bumping_epoch(tx).await?;
        Ok(consent + grants > 0)
    }

    async fn list_grants(&self, uid: i64) -> Result<Vec<GrantRecord>> {
        let sql = format!(
            "SELECT {GRANT_COLS} FROM oauth_grants WHERE uid = $1 AND revoked_at IS NULL \
             ORDER BY id DESC"
        );
        self.find_all::<GrantRecord, _>(&sql, (uid,)).await
    }

    async fn create_session(
        &self,
        hash: &TokenHash,
        uid: i64,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<SessionRecord> {
        self.fetch_one(
            "INSERT INTO web_sessions (hash, uid, created_at, expires_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, uid, created_at, expires_at",
            (hash.to_hex(), uid, created_at, expires_at),
        )
        .await
    }

    async fn session_by_hash(&self, hash: &TokenHash) -> Result<Option<SessionRecord>> {
        self.find::<SessionRecord, _>(
            "SELECT id, uid, created_at, expires_at FROM web_sessions WHERE hash = $1",
            (hash.to_hex(),),
        )
        .await
    }

    async fn server_key(&self, name: &str, candidate: &str) -> Result<String> {
        self.exec(
            "INSERT INTO server_keys (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            (name, candidate),
        )
        .await?;
        let (secret,): (String,) = self
            .one::<(String,), _>("SELECT secret FROM server_keys WHERE name = $1", (name,))
            .await?;
        Ok(secret)
    }

    async fn delete_session(&self, hash: &TokenHash) -> Result<()> {
        self.exec("DELETE FROM web_sessions WHERE hash = $1", (hash.to_hex(),))
            .await?;
        Ok(())
    }

    async fn record_signin_failure(&self, key: &str, at: DateTime<Utc>) -> Result<i64> {
        let (id,): (i64,) = self
            .one::<(i64,), _>(
                "INSERT INTO signin_failures (key, at) VALUES ($1, $2) RETURNING id",
                (key, at.timestamp()),
            )
            .await?;
        Ok(id)
    }

    async fn forget_signin_failure(&self, id: i64) -> Result<()> {
        self.exec("DELETE FROM signin_failures WHERE id = $1", (id,))
            .await?;
        Ok(())
    }

    async fn signin_failures_since(&self, key: &str, since: DateTime<Utc>) -> Result<i64> {
        self.scalar(
            "SELECT COUNT(*) FROM signin_failures WHERE key = $1 AND at >= $2",
            (key, since.timestamp()),
        )
        .await
    }

    async fn clear_signin_failures(&self, key: &str) -> Result<()> {
        self.exec("DELETE FROM signin_failures WHERE key = $1", (key,))
            .await?;
        Ok(())
    }

    async fn set_password(&self, uid: i64, hash: &str, must_change: bool) -> Result<()> {
        let done = self
            .exec(
                "UPDATE users SET password_hash = $1, must_change_password = $2 WHERE uid = $3",
                (hash, must_change, uid),
            )
            .await?;
        if done == 0 {
            return Err(StoreError::NotFound("user"));
        }
        Ok(())
    }

    async fn must_change_password(&self, uid: i64) -> Result<bool> {
        Ok(self
            .optional_scalar::<bool>(
                "SELECT must_change_password FROM users WHERE uid = $1",
                (uid,),
            )
            .await?
            .unwrap_or(false))
    }

    async fn create_service_account(&self, new: &NewServiceAccount) -> Result<ServiceAccount> {
        let mut tx = self.begin().await?;
        let uid: i64 = Self::scalar_on(
            &mut *tx,
            "INSERT INTO users (login, cloud_uid, first_name, last_name, email, created_at) \
             VALUES ($1, $2, $3, '', '', $4) RETURNING uid",
            (&new.sa_id, &new.sa_id, &new.name, new.created_at),
        )
        .await?;
        Self::exec_on(
            &mut *tx,
            "INSERT INTO memberships (org, uid, admin) VALUES ($1, $2, $3)",
            (new.org, uid, new.admin),
        )
        .await?;
        let row = Self::fetch_one_on::<ServiceAccount>(
            &mut *tx,
            &format!(
            "INSERT INTO service_accounts (uid, org, sa_id, name, description, scopes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {SA_COLS}"
        ),
            (
                uid,
                new.org,
                &new.sa_id,
                &new.name,
                &new.description,
                new.scopes.to_list(),
                new.created_at,
            ),
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(row)
    }

    async fn service_account_by_id(&self, sa_id: &str) -> Result<Option<ServiceAccount>> {
        self.find::<ServiceAccount, _>(
            &format!("SELECT {SA_COLS} FROM service_accounts WHERE sa_id = $1"),
            (sa_id,),
        )
        .await
    }

    async fn service_account_by_uid(&self, uid: i64) -> Result<Option<ServiceAccount>> {
        self.find::<ServiceAccount, _>(
            &format!("SELECT {SA_COLS} FROM service_accounts WHERE uid = $1"),
            (uid,),
        )
        .await
    }

    async fn list_service_accounts(&self, org: i64) -> Result<Vec<ServiceAccount>> {
        self.find_all::<ServiceAccount, _>(
            &format!("SELECT {SA_COLS} FROM service_accounts WHERE org = $1 ORDER BY uid"),
            (org,),
        )
        .await
    }

    async fn insert_service_account_key(
        &self,
        new: &NewServiceAccountKey,
    ) -> Result<ServiceAccountKey> {
        self.fetch_one(
            &format!(
                "INSERT INTO service_account_keys (id, sa_uid, public_key_pem, description, \
                 created_at) VALUES ($1, $2, $3, $4, $5) RETURNING {KEY_COLS}"
            ),
            (
                &new.id,
                new.sa_uid,
                &new.public_key_pem,
                &new.description,
                new.created_at,
            ),
        )
        .await
    }

    async fn service_account_key(&self, id: &str) -> Result<Option<ServiceAccountKey>> {
        self.find::<ServiceAccountKey, _>(
            &format!("SELECT {KEY_COLS} FROM service_account_keys WHERE id = $1"),
            (id,),
        )
        .await
    }

    async fn list_service_account_keys(&self, sa_uid: i64) -> Result<Vec<ServiceAccountKey>> {
        self.find_all::<ServiceAccountKey, _>(
            &format!(
            "SELECT {KEY_COLS} FROM service_account_keys WHERE sa_uid = $1 ORDER BY created_at, id"
        ),
            (sa_uid,),
        )
        .await
    }

    async fn delete_service_account_key(&self, id: &str) -> Result<bool> {
        let done = self
            .exec("DELETE FROM service_account_keys WHERE id = $1", (id,))
            .await?;
        Ok(done > 0)
    }

    async fn insert_audit_event(&self, e: &NewAuditEvent) -> Result<()> {
        self.exec(
            "INSERT INTO audit_events (at, org, uid, action, target, detail, ip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            (e.at, e.org, e.uid, &e.action, &e.target, &e.detail, &e.ip),
        )
        .await?;
        Ok(())
    }

    async fn list_audit_events(
        &self,
        org: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<AuditEvent>, i64)> {
        const MINE: &str = "org = $1 OR (org IS NULL AND uid IN \
                            (SELECT uid FROM memberships WHERE org = $2))";
        let total: i64 = self
            .scalar(
                &format!("SELECT COUNT(*) FROM audit_events WHERE {MINE}"),
                (org, org),
            )
            .await?;
        let rows = self
            .fetch_all::<AuditEvent>(
                &format!(
                    "SELECT id, at, org, uid, action, target, detail, ip FROM audit_events \
             WHERE {MINE} ORDER BY id DESC LIMIT $3 OFFSET $4"
                ),
                (org, org, limit, offset),
            )
            .await?;
        Ok((rows, total))
    }
}
