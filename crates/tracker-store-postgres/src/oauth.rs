//! The authorization server's tables (see `tracker_store::OAuthStore`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use tracker_domain::{Scopes, TokenHash};
use tracker_store::*;

use crate::{db, PostgresStore};

/// The queries are written with `?` placeholders, the same text as the
/// SQLite backend's; PostgreSQL numbers them. No query here has a literal `?`.
fn q(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

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

#[derive(FromRow)]
struct GrantRow {
    id: i64,
    app_id: i64,
    uid: i64,
    scopes: String,
    flow: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<GrantRow> for GrantRecord {
    type Error = StoreError;
    fn try_from(r: GrantRow) -> Result<Self> {
        Ok(GrantRecord {
            id: r.id,
            app_id: r.app_id,
            uid: r.uid,
            scopes: scopes(&r.scopes)?,
            flow: r.flow,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        })
    }
}

const GRANT_COLS: &str = "id, app_id, uid, scopes, flow, created_at, revoked_at";

#[derive(FromRow)]
struct CodeRow {
    id: i64,
    app_id: i64,
    uid: i64,
    scopes: String,
    redirect_uri: Option<String>,
    code_challenge: Option<String>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    grant_id: Option<i64>,
}

impl TryFrom<CodeRow> for AuthCodeRecord {
    type Error = StoreError;
    fn try_from(r: CodeRow) -> Result<Self> {
        Ok(AuthCodeRecord {
            id: r.id,
            app_id: r.app_id,
            uid: r.uid,
            scopes: scopes(&r.scopes)?,
            redirect_uri: r.redirect_uri,
            code_challenge: r.code_challenge,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
            grant_id: r.grant_id,
        })
    }
}

const CODE_COLS: &str = "id, app_id, uid, scopes, redirect_uri, code_challenge, created_at, \
                         expires_at, used_at, grant_id";

#[derive(FromRow)]
struct RefreshRow {
    id: i64,
    grant_id: i64,
    access_token_id: i64,
    scopes: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    used_at: Option<DateTime<Utc>>,
}

impl TryFrom<RefreshRow> for RefreshRecord {
    type Error = StoreError;
    fn try_from(r: RefreshRow) -> Result<Self> {
        Ok(RefreshRecord {
            id: r.id,
            grant_id: r.grant_id,
            access_token_id: r.access_token_id,
            scopes: scopes(&r.scopes)?,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
        })
    }
}

const REFRESH_COLS: &str = "id, grant_id, access_token_id, scopes, created_at, expires_at, used_at";

#[derive(FromRow)]
struct DeviceRow {
    id: i64,
    app_id: i64,
    scopes: String,
    interval_secs: i64,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_polled_at: Option<DateTime<Utc>>,
    status: String,
    uid: Option<i64>,
}

impl TryFrom<DeviceRow> for DeviceRecord {
    type Error = StoreError;
    fn try_from(r: DeviceRow) -> Result<Self> {
        Ok(DeviceRecord {
            id: r.id,
            app_id: r.app_id,
            scopes: scopes(&r.scopes)?,
            interval_secs: r.interval_secs,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_polled_at: r.last_polled_at,
            status: DeviceStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Invalid(format!("device status {:?}", r.status)))?,
            uid: r.uid,
        })
    }
}

const DEVICE_COLS: &str =
    "id, app_id, scopes, interval_secs, created_at, expires_at, last_polled_at, status, uid";

#[derive(FromRow)]
struct ConsentRow {
    uid: i64,
    app_id: i64,
    scopes: String,
    granted_at: DateTime<Utc>,
}

impl TryFrom<ConsentRow> for ConsentRecord {
    type Error = StoreError;
    fn try_from(r: ConsentRow) -> Result<Self> {
        Ok(ConsentRecord {
            uid: r.uid,
            app_id: r.app_id,
            scopes: scopes(&r.scopes)?,
            granted_at: r.granted_at,
        })
    }
}

#[derive(FromRow)]
struct SessionRow {
    id: i64,
    uid: i64,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct SaRow {
    uid: i64,
    org: i64,
    sa_id: String,
    name: String,
    description: String,
    scopes: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<SaRow> for ServiceAccount {
    type Error = StoreError;
    fn try_from(r: SaRow) -> Result<Self> {
        Ok(ServiceAccount {
            uid: r.uid,
            org: r.org,
            sa_id: r.sa_id,
            name: r.name,
            description: r.description,
            scopes: scopes(&r.scopes)?,
            created_at: r.created_at,
        })
    }
}

const SA_COLS: &str = "uid, org, sa_id, name, description, scopes, created_at";

#[derive(FromRow)]
struct KeyRow {
    id: String,
    sa_uid: i64,
    public_key_pem: String,
    description: String,
    created_at: DateTime<Utc>,
}

impl From<KeyRow> for ServiceAccountKey {
    fn from(r: KeyRow) -> Self {
        ServiceAccountKey {
            id: r.id,
            sa_uid: r.sa_uid,
            public_key_pem: r.public_key_pem,
            description: r.description,
            created_at: r.created_at,
        }
    }
}

const KEY_COLS: &str = "id, sa_uid, public_key_pem, description, created_at";

#[derive(FromRow)]
struct AuditRow {
    id: i64,
    at: DateTime<Utc>,
    org: Option<i64>,
    uid: Option<i64>,
    action: String,
    target: String,
    detail: String,
    ip: String,
}

impl From<AuditRow> for AuditEvent {
    fn from(r: AuditRow) -> Self {
        AuditEvent {
            id: r.id,
            at: r.at,
            org: r.org,
            uid: r.uid,
            action: r.action,
            target: r.target,
            detail: r.detail,
            ip: r.ip,
        }
    }
}

const EPOCH_BUMP: &str = "UPDATE auth_epoch SET value = value + 1 WHERE id = 1";

fn collect<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> Result<Vec<T>> {
    rows.into_iter().map(T::try_from).collect()
}

#[async_trait]
impl OAuthStore for PostgresStore {
    async fn create_app(&self, new: &NewApp) -> Result<AppRecord> {
        sqlx::query_as::<_, AppRow>(&q(&format!(
            "INSERT INTO oauth_apps (client_id, secret_hash, name, org, owner_uid, redirect_uris, \
             confidential, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             RETURNING {APP_COLS}"
        )))
        .bind(&new.client_id)
        .bind(new.secret_hash.map(|h| h.to_hex()))
        .bind(&new.name)
        .bind(new.org)
        .bind(new.owner_uid)
        .bind(new.redirect_uris.join("\n"))
        .bind(new.confidential)
        .bind(new.scopes.to_list())
        .bind(new.created_at)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?
        .try_into()
    }

    async fn app_by_client_id(&self, client_id: &str) -> Result<Option<AppRecord>> {
        sqlx::query_as::<_, AppRow>(&q(&format!(
            "SELECT {APP_COLS} FROM oauth_apps WHERE client_id = ?"
        )))
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn app_by_id(&self, id: i64) -> Result<Option<AppRecord>> {
        sqlx::query_as::<_, AppRow>(&q(&format!(
            "SELECT {APP_COLS} FROM oauth_apps WHERE id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn list_apps(&self, org: i64, owner: Option<i64>) -> Result<Vec<AppRecord>> {
        let rows = match owner {
            Some(owner) => {
                sqlx::query_as::<_, AppRow>(&q(&format!(
                    "SELECT {APP_COLS} FROM oauth_apps WHERE org = ? AND owner_uid = ? ORDER BY id"
                )))
                .bind(org)
                .bind(owner)
                .fetch_all(&self.pool)
                .await
            }
            None => {
                sqlx::query_as::<_, AppRow>(&q(&format!(
                    "SELECT {APP_COLS} FROM oauth_apps WHERE org = ? ORDER BY id"
                )))
                .bind(org)
                .fetch_all(&self.pool)
                .await
            }
        }
        .map_err(db)?;
        collect(rows)
    }

    async fn list_apps_of_owner(&self, owner: i64) -> Result<Vec<AppRecord>> {
        let rows = sqlx::query_as::<_, AppRow>(&q(&format!(
            "SELECT {APP_COLS} FROM oauth_apps WHERE owner_uid = ? ORDER BY id"
        )))
        .bind(owner)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        collect(rows)
    }

    async fn update_app(&self, id: i64, update: &AppUpdate) -> Result<AppRecord> {
        sqlx::query_as::<_, AppRow>(&q(&format!(
            "UPDATE oauth_apps SET name = COALESCE(?, name), \
             redirect_uris = COALESCE(?, redirect_uris), scopes = COALESCE(?, scopes), \
             secret_hash = COALESCE(?, secret_hash) WHERE id = ? RETURNING {APP_COLS}"
        )))
        .bind(&update.name)
        .bind(update.redirect_uris.as_ref().map(|u| u.join("\n")))
        .bind(update.scopes.map(|s| s.to_list()))
        .bind(update.secret_hash.map(|h| h.to_hex()))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound("application"))?
        .try_into()
    }

    async fn delete_app(&self, id: i64) -> Result<bool> {
        let mut tx = tracker_store_sql::begin(&self.pool, None).await?;
        let done = sqlx::query(&q("DELETE FROM oauth_apps WHERE id = ?"))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(EPOCH_BUMP)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_grant(&self, new: &NewGrant) -> Result<GrantRecord> {
        sqlx::query_as::<_, GrantRow>(&q(&format!(
            "INSERT INTO oauth_grants (app_id, uid, scopes, flow, created_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING {GRANT_COLS}"
        )))
        .bind(new.app_id)
        .bind(new.uid)
        .bind(new.scopes.to_list())
        .bind(&new.flow)
        .bind(new.created_at)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?
        .try_into()
    }

    async fn grant_by_id(&self, id: i64) -> Result<Option<GrantRecord>> {
        sqlx::query_as::<_, GrantRow>(&q(&format!(
            "SELECT {GRANT_COLS} FROM oauth_grants WHERE id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn revoke_grant(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        let mut tx = tracker_store_sql::begin(&self.pool, None).await?;
        let done = sqlx::query(&q(
            "UPDATE oauth_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        ))
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        // IAM tokens made from these die with them (the access layer checks
        // the parent).
        sqlx::query(&q(
            "UPDATE tokens SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL",
        ))
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(EPOCH_BUMP)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_grant_token(&self, new: &NewToken, grant_id: i64) -> Result<TokenRecord> {
        let id: i64 = sqlx::query_scalar(&q(
            "INSERT INTO tokens (kind, hash, uid, scopes, parent_id, description, created_at, \
             expires_at, grant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        ))
        .bind(new.kind.as_str())
        .bind(new.hash.to_hex())
        .bind(new.uid)
        .bind(new.scopes.to_list())
        .bind(new.parent_id)
        .bind(&new.description)
        .bind(new.created_at)
        .bind(new.expires_at)
        .bind(grant_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        self.token_by_id(id).await
    }

    async fn grant_of_token(&self, token_id: i64) -> Result<Option<GrantRecord>> {
        let cols = GRANT_COLS
            .split(", ")
            .map(|c| format!("g.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query_as::<_, GrantRow>(&q(&format!(
            "SELECT {cols} FROM oauth_grants g JOIN tokens t ON t.grant_id = g.id WHERE t.id = ?"
        )))
        .bind(token_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn insert_auth_code(&self, new: &NewAuthCode) -> Result<i64> {
        sqlx::query_scalar(&q(
            "INSERT INTO oauth_codes (hash, app_id, uid, scopes, redirect_uri, code_challenge, \
             created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        ))
        .bind(new.hash.to_hex())
        .bind(new.app_id)
        .bind(new.uid)
        .bind(new.scopes.to_list())
        .bind(&new.redirect_uri)
        .bind(&new.code_challenge)
        .bind(new.created_at)
        .bind(new.expires_at)
        .fetch_one(&self.pool)
        .await
        .map_err(db)
    }

    async fn spend_auth_code(
        &self,
        hash: &TokenHash,
        at: DateTime<Utc>,
    ) -> Result<Spent<AuthCodeRecord>> {
        let fresh = sqlx::query_as::<_, CodeRow>(&q(&format!(
            "UPDATE oauth_codes SET used_at = ? WHERE hash = ? AND used_at IS NULL \
             RETURNING {CODE_COLS}"
        )))
        .bind(at)
        .bind(hash.to_hex())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        if let Some(row) = fresh {
            return Ok(Spent::Fresh(row.try_into()?));
        }
        let old = sqlx::query_as::<_, CodeRow>(&q(&format!(
            "SELECT {CODE_COLS} FROM oauth_codes WHERE hash = ?"
        )))
        .bind(hash.to_hex())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        Ok(match old {
            Some(row) => Spent::Replayed(row.try_into()?),
            None => Spent::Unknown,
        })
    }

    async fn set_auth_code_grant(&self, code_id: i64, grant_id: i64) -> Result<()> {
        sqlx::query(&q("UPDATE oauth_codes SET grant_id = ? WHERE id = ?"))
            .bind(grant_id)
            .bind(code_id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn insert_refresh_token(&self, new: &NewRefreshToken) -> Result<RefreshRecord> {
        sqlx::query_as::<_, RefreshRow>(&q(&format!(
            "INSERT INTO oauth_refresh_tokens (hash, grant_id, access_token_id, scopes, \
             created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING {REFRESH_COLS}"
        )))
        .bind(new.hash.to_hex())
        .bind(new.grant_id)
        .bind(new.access_token_id)
        .bind(new.scopes.to_list())
        .bind(new.created_at)
        .bind(new.expires_at)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?
        .try_into()
    }

    async fn refresh_token_by_hash(&self, hash: &TokenHash) -> Result<Option<RefreshRecord>> {
        sqlx::query_as::<_, RefreshRow>(&q(&format!(
            "SELECT {REFRESH_COLS} FROM oauth_refresh_tokens WHERE hash = ?"
        )))
        .bind(hash.to_hex())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn spend_refresh_token(
        &self,
        hash: &TokenHash,
        at: DateTime<Utc>,
    ) -> Result<Spent<RefreshRecord>> {
        let fresh = sqlx::query_as::<_, RefreshRow>(&q(&format!(
            "UPDATE oauth_refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL \
             RETURNING {REFRESH_COLS}"
        )))
        .bind(at)
        .bind(hash.to_hex())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        if let Some(row) = fresh {
            return Ok(Spent::Fresh(row.try_into()?));
        }
        Ok(match self.refresh_token_by_hash(hash).await? {
            Some(r) => Spent::Replayed(r),
            None => Spent::Unknown,
        })
    }

    async fn insert_device_code(&self, new: &NewDeviceCode) -> Result<DeviceRecord> {
        sqlx::query_as::<_, DeviceRow>(&q(&format!(
            "INSERT INTO oauth_device_codes (device_hash, user_code_hash, app_id, scopes, \
             interval_secs, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
             RETURNING {DEVICE_COLS}"
        )))
        .bind(new.device_hash.to_hex())
        .bind(new.user_code_hash.to_hex())
        .bind(new.app_id)
        .bind(new.scopes.to_list())
        .bind(new.interval_secs)
        .bind(new.created_at)
        .bind(new.expires_at)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?
        .try_into()
    }

    async fn device_by_hash(&self, device_hash: &TokenHash) -> Result<Option<DeviceRecord>> {
        sqlx::query_as::<_, DeviceRow>(&q(&format!(
            "SELECT {DEVICE_COLS} FROM oauth_device_codes WHERE device_hash = ?"
        )))
        .bind(device_hash.to_hex())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn device_by_user_code(
        &self,
        user_code_hash: &TokenHash,
    ) -> Result<Option<DeviceRecord>> {
        sqlx::query_as::<_, DeviceRow>(&q(&format!(
            "SELECT {DEVICE_COLS} FROM oauth_device_codes WHERE user_code_hash = ?"
        )))
        .bind(user_code_hash.to_hex())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn poll_device(
        &self,
        id: i64,
        at: DateTime<Utc>,
    ) -> Result<(Option<DateTime<Utc>>, DeviceRecord)> {
        let mut tx = tracker_store_sql::begin(&self.pool, None).await?;
        let before: Option<DateTime<Utc>> = sqlx::query_scalar(&q(
            "SELECT last_polled_at FROM oauth_device_codes WHERE id = ?",
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound("device code"))?;
        let row = sqlx::query_as::<_, DeviceRow>(&q(&format!(
            "UPDATE oauth_device_codes SET last_polled_at = ? WHERE id = ? RETURNING {DEVICE_COLS}"
        )))
        .bind(at)
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok((before, row.try_into()?))
    }

    async fn widen_device_interval(&self, id: i64, by_secs: i64) -> Result<()> {
        sqlx::query(&q(
            "UPDATE oauth_device_codes SET interval_secs = interval_secs + ? WHERE id = ?",
        ))
        .bind(by_secs)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn decide_device(&self, id: i64, uid: i64, approve: bool) -> Result<bool> {
        let status = if approve {
            DeviceStatus::Approved
        } else {
            DeviceStatus::Denied
        };
        let done = sqlx::query(&q(
            "UPDATE oauth_device_codes SET status = ?, uid = ? WHERE id = ? AND status = 'pending'",
        ))
        .bind(status.as_str())
        .bind(uid)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn finish_device(&self, id: i64) -> Result<bool> {
        let done = sqlx::query(&q(
            "UPDATE oauth_device_codes SET status = 'done' WHERE id = ? AND status = 'approved'",
        ))
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn consent(&self, uid: i64, app_id: i64) -> Result<Option<ConsentRecord>> {
        sqlx::query_as::<_, ConsentRow>(&q(
            "SELECT uid, app_id, scopes, granted_at FROM oauth_consents WHERE uid = ? AND app_id = ?",
        ))
        .bind(uid)
        .bind(app_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn put_consent(&self, c: &ConsentRecord) -> Result<()> {
        sqlx::query(&q(
            "INSERT INTO oauth_consents (uid, app_id, scopes, granted_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (uid, app_id) DO UPDATE SET scopes = excluded.scopes, \
             granted_at = excluded.granted_at",
        ))
        .bind(c.uid)
        .bind(c.app_id)
        .bind(c.scopes.to_list())
        .bind(c.granted_at)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn list_consents(&self, uid: i64) -> Result<Vec<ConsentRecord>> {
        let rows = sqlx::query_as::<_, ConsentRow>(&q(
            "SELECT uid, app_id, scopes, granted_at FROM oauth_consents WHERE uid = ? ORDER BY app_id",
        ))
        .bind(uid)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        collect(rows)
    }

    async fn withdraw_consent(&self, uid: i64, app_id: i64, at: DateTime<Utc>) -> Result<bool> {
        let mut tx = tracker_store_sql::begin(&self.pool, None).await?;
        let consent = sqlx::query(&q(
            "DELETE FROM oauth_consents WHERE uid = ? AND app_id = ?",
        ))
        .bind(uid)
        .bind(app_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(&q(
            "UPDATE tokens SET revoked_at = ? WHERE revoked_at IS NULL AND grant_id IN \
             (SELECT id FROM oauth_grants WHERE uid = ? AND app_id = ?)",
        ))
        .bind(at)
        .bind(uid)
        .bind(app_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let grants = sqlx::query(&q(
            "UPDATE oauth_grants SET revoked_at = ? WHERE uid = ? AND app_id = ? \
             AND revoked_at IS NULL",
        ))
        .bind(at)
        .bind(uid)
        .bind(app_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(EPOCH_BUMP)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(consent.rows_affected() + grants.rows_affected() > 0)
    }

    async fn list_grants(&self, uid: i64) -> Result<Vec<GrantRecord>> {
        let rows = sqlx::query_as::<_, GrantRow>(&q(&format!(
            "SELECT {GRANT_COLS} FROM oauth_grants WHERE uid = ? AND revoked_at IS NULL \
             ORDER BY id DESC"
        )))
        .bind(uid)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        collect(rows)
    }

    async fn create_session(
        &self,
        hash: &TokenHash,
        uid: i64,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<SessionRecord> {
        let r = sqlx::query_as::<_, SessionRow>(&q(
            "INSERT INTO web_sessions (hash, uid, created_at, expires_at) VALUES (?, ?, ?, ?) \
             RETURNING id, uid, created_at, expires_at",
        ))
        .bind(hash.to_hex())
        .bind(uid)
        .bind(created_at)
        .bind(expires_at)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok(SessionRecord {
            id: r.id,
            uid: r.uid,
            created_at: r.created_at,
            expires_at: r.expires_at,
        })
    }

    async fn session_by_hash(&self, hash: &TokenHash) -> Result<Option<SessionRecord>> {
        Ok(sqlx::query_as::<_, SessionRow>(&q(
            "SELECT id, uid, created_at, expires_at FROM web_sessions WHERE hash = ?",
        ))
        .bind(hash.to_hex())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(|r| SessionRecord {
            id: r.id,
            uid: r.uid,
            created_at: r.created_at,
            expires_at: r.expires_at,
        }))
    }

    async fn delete_session(&self, hash: &TokenHash) -> Result<()> {
        sqlx::query(&q("DELETE FROM web_sessions WHERE hash = ?"))
            .bind(hash.to_hex())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn record_signin_failure(&self, key: &str, at: DateTime<Utc>) -> Result<()> {
        sqlx::query(&q("INSERT INTO signin_failures (key, at) VALUES (?, ?)"))
            .bind(key)
            .bind(at.timestamp())
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn signin_failures_since(&self, key: &str, since: DateTime<Utc>) -> Result<i64> {
        sqlx::query_scalar(&q(
            "SELECT COUNT(*) FROM signin_failures WHERE key = ? AND at >= ?",
        ))
        .bind(key)
        .bind(since.timestamp())
        .fetch_one(&self.pool)
        .await
        .map_err(db)
    }

    async fn clear_signin_failures(&self, key: &str) -> Result<()> {
        sqlx::query(&q("DELETE FROM signin_failures WHERE key = ?"))
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn set_password(&self, uid: i64, hash: &str, must_change: bool) -> Result<()> {
        let done = sqlx::query(&q(
            "UPDATE users SET password_hash = ?, must_change_password = ? WHERE uid = ?",
        ))
        .bind(hash)
        .bind(must_change)
        .bind(uid)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        Ok(())
    }

    async fn must_change_password(&self, uid: i64) -> Result<bool> {
        Ok(sqlx::query_scalar::<_, bool>(&q(
            "SELECT must_change_password FROM users WHERE uid = ?",
        ))
        .bind(uid)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .unwrap_or(false))
    }

    async fn create_service_account(&self, new: &NewServiceAccount) -> Result<ServiceAccount> {
        let mut tx = tracker_store_sql::begin(&self.pool, None).await?;
        let uid: i64 = sqlx::query_scalar(&q(
            "INSERT INTO users (login, cloud_uid, first_name, last_name, email, created_at) \
             VALUES (?, ?, ?, '', '', ?) RETURNING uid",
        ))
        .bind(&new.sa_id)
        .bind(&new.sa_id)
        .bind(&new.name)
        .bind(new.created_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(&q(
            "INSERT INTO memberships (org, uid, admin) VALUES (?, ?, ?)",
        ))
        .bind(new.org)
        .bind(uid)
        .bind(new.admin)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let row = sqlx::query_as::<_, SaRow>(&q(&format!(
            "INSERT INTO service_accounts (uid, org, sa_id, name, description, scopes, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {SA_COLS}"
        )))
        .bind(uid)
        .bind(new.org)
        .bind(&new.sa_id)
        .bind(&new.name)
        .bind(&new.description)
        .bind(new.scopes.to_list())
        .bind(new.created_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        row.try_into()
    }

    async fn service_account_by_id(&self, sa_id: &str) -> Result<Option<ServiceAccount>> {
        sqlx::query_as::<_, SaRow>(&q(&format!(
            "SELECT {SA_COLS} FROM service_accounts WHERE sa_id = ?"
        )))
        .bind(sa_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn service_account_by_uid(&self, uid: i64) -> Result<Option<ServiceAccount>> {
        sqlx::query_as::<_, SaRow>(&q(&format!(
            "SELECT {SA_COLS} FROM service_accounts WHERE uid = ?"
        )))
        .bind(uid)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .map(TryInto::try_into)
        .transpose()
    }

    async fn list_service_accounts(&self, org: i64) -> Result<Vec<ServiceAccount>> {
        let rows = sqlx::query_as::<_, SaRow>(&q(&format!(
            "SELECT {SA_COLS} FROM service_accounts WHERE org = ? ORDER BY uid"
        )))
        .bind(org)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        collect(rows)
    }

    async fn insert_service_account_key(
        &self,
        new: &NewServiceAccountKey,
    ) -> Result<ServiceAccountKey> {
        sqlx::query_as::<_, KeyRow>(&q(&format!(
            "INSERT INTO service_account_keys (id, sa_uid, public_key_pem, description, created_at) \
             VALUES (?, ?, ?, ?, ?) RETURNING {KEY_COLS}"
        )))
        .bind(&new.id)
        .bind(new.sa_uid)
        .bind(&new.public_key_pem)
        .bind(&new.description)
        .bind(new.created_at)
        .fetch_one(&self.pool)
        .await
        .map(Into::into)
        .map_err(db)
    }

    async fn service_account_key(&self, id: &str) -> Result<Option<ServiceAccountKey>> {
        sqlx::query_as::<_, KeyRow>(&q(&format!(
            "SELECT {KEY_COLS} FROM service_account_keys WHERE id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map(|r| r.map(Into::into))
        .map_err(db)
    }

    async fn list_service_account_keys(&self, sa_uid: i64) -> Result<Vec<ServiceAccountKey>> {
        sqlx::query_as::<_, KeyRow>(&q(&format!(
            "SELECT {KEY_COLS} FROM service_account_keys WHERE sa_uid = ? ORDER BY created_at, id"
        )))
        .bind(sa_uid)
        .fetch_all(&self.pool)
        .await
        .map(|r| r.into_iter().map(Into::into).collect())
        .map_err(db)
    }

    async fn delete_service_account_key(&self, id: &str) -> Result<bool> {
        let done = sqlx::query(&q("DELETE FROM service_account_keys WHERE id = ?"))
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_audit_event(&self, e: &NewAuditEvent) -> Result<()> {
        sqlx::query(&q(
            "INSERT INTO audit_events (at, org, uid, action, target, detail, ip) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(e.at)
        .bind(e.org)
        .bind(e.uid)
        .bind(&e.action)
        .bind(&e.target)
        .bind(&e.detail)
        .bind(&e.ip)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn list_audit_events(
        &self,
        org: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<AuditEvent>, i64)> {
        const MINE: &str = "org = ? OR (org IS NULL AND uid IN \
                            (SELECT uid FROM memberships WHERE org = ?))";
        let total: i64 = sqlx::query_scalar(&q(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE {MINE}"
        )))
        .bind(org)
        .bind(org)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        let rows = sqlx::query_as::<_, AuditRow>(&q(&format!(
            "SELECT id, at, org, uid, action, target, detail, ip FROM audit_events \
             WHERE {MINE} ORDER BY id DESC LIMIT ? OFFSET ?"
        )))
        .bind(org)
        .bind(org)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        Ok((rows.into_iter().map(Into::into).collect(), total))
    }
}
