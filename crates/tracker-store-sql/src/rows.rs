//! The row types the store's queries read (sqlx's `FromRow` is generic over
//! the database) and their conversions into the store's records.

use chrono::{DateTime, Utc};
use sqlx::FromRow;
use tracker_domain::{Scopes, TokenHash, TokenKind};
use tracker_store::*;

use crate::split;

#[derive(FromRow)]
pub struct OrgRow {
    pub id: i64,
    pub org_id: String,
    pub cloud_id: Option<String>,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(FromRow)]
pub struct UserRow {
    pub uid: i64,
    pub login: String,
    pub cloud_uid: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub dismissed: bool,
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub first_login_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
}

#[derive(FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub kind: String,
    pub hash: String,
    pub uid: i64,
    pub scopes: String,
    pub parent_id: Option<i64>,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub parent_revoked_at: Option<DateTime<Utc>>,
    pub parent_expires_at: Option<DateTime<Utc>>,
}

#[derive(FromRow)]
pub struct QueueRow {
    pub id: i64,
    pub org: i64,
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub lead_uid: i64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub default_type: String,
    pub default_priority: String,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl From<OrgRow> for Organization {
    fn from(r: OrgRow) -> Self {
        Organization {
            id: r.id,
            org_id: r.org_id,
            cloud_id: r.cloud_id,
            name: r.name,
            created_at: r.created_at,
        }
    }
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            uid: r.uid,
            login: r.login,
            cloud_uid: r.cloud_uid,
            first_name: r.first_name,
            last_name: r.last_name,
            email: r.email,
            dismissed: r.dismissed,
            password_hash: r.password_hash,
            created_at: r.created_at,
            first_login_at: r.first_login_at,
            last_login_at: r.last_login_at,
        }
    }
}

impl TryFrom<TokenRow> for TokenRecord {
    type Error = StoreError;

    fn try_from(r: TokenRow) -> Result<Self> {
        Ok(TokenRecord {
            id: r.id,
            kind: TokenKind::parse(&r.kind)
                .ok_or_else(|| StoreError::Invalid(format!("token kind {:?}", r.kind)))?,
            hash: TokenHash::from_hex(&r.hash)
                .ok_or_else(|| StoreError::Invalid("token hash".into()))?,
            uid: r.uid,
            scopes: Scopes::parse(&r.scopes).map_err(|e| StoreError::Invalid(e.to_string()))?,
            parent_id: r.parent_id,
            description: r.description,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            parent_revoked_at: r.parent_revoked_at,
            parent_expires_at: r.parent_expires_at,
        })
    }
}

impl From<QueueRow> for QueueRecord {
    fn from(r: QueueRow) -> Self {
        QueueRecord {
            id: r.id,
            org: r.org,
            key: r.key,
            name: r.name,
            description: r.description,
            lead_uid: r.lead_uid,
            version: r.version,
            created_at: r.created_at,
            default_type: r.default_type,
            default_priority: r.default_priority,
            deleted_at: r.deleted_at,
        }
    }
}

#[derive(FromRow)]
pub struct IssueRow {
    pub pk: i64,
    pub id: String,
    pub org: i64,
    pub queue_id: i64,
    pub key: String,
    pub version: i64,
    pub summary: String,
    pub description: Option<String>,
    pub issue_type: String,
    pub priority: String,
    pub status: String,
    pub previous_status: Option<String>,
    pub resolution: Option<String>,
    pub assignee: Option<i64>,
    pub author: i64,
    pub updated_by: i64,
    pub parent_pk: Option<i64>,
    pub unique_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub status_start_time: DateTime<Utc>,
    pub last_comment_updated_at: Option<DateTime<Utc>>,
    pub comment_count: i64,
    pub votes: i64,
    pub extra: String,
    pub followers: Option<String>,
    pub tags: Option<String>,
    pub aliases: Option<String>,
}

#[derive(FromRow)]
pub struct CommentRow {
    pub pk: i64,
    pub id: String,
    pub issue_pk: i64,
    pub text: String,
    pub summonees: String,
    pub author: i64,
    pub updated_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(FromRow)]
pub struct LinkRow {
    pub pk: i64,
    pub org: i64,
    pub type_id: String,
    pub source_pk: i64,
    pub target_pk: i64,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(FromRow)]
pub struct ChangelogRow {
    pub pk: i64,
    pub id: String,
    pub issue_pk: i64,
    pub kind: String,
    pub updated_by: i64,
    pub updated_at: DateTime<Utc>,
    pub fields: String,
    pub data: String,
}

impl From<IssueRow> for IssueRecord {
    fn from(r: IssueRow) -> Self {
        let mut followers: Vec<i64> = split(r.followers)
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        followers.sort_unstable();
        let mut tags = split(r.tags);
        tags.sort();
        let mut aliases = split(r.aliases);
        aliases.sort();
        IssueRecord {
            pk: r.pk,
            id: r.id,
            org: r.org,
            queue_id: r.queue_id,
            key: r.key,
            version: r.version,
            summary: r.summary,
            description: r.description,
            issue_type: r.issue_type,
            priority: r.priority,
            status: r.status,
            previous_status: r.previous_status,
            resolution: r.resolution,
            assignee: r.assignee,
            author: r.author,
            updated_by: r.updated_by,
            parent_pk: r.parent_pk,
            unique: r.unique_key,
            created_at: r.created_at,
            updated_at: r.updated_at,
            resolved_at: r.resolved_at,
            status_start_time: r.status_start_time,
            last_comment_updated_at: r.last_comment_updated_at,
            comment_count: r.comment_count,
            votes: r.votes,
            followers,
            tags,
            extra: r.extra,
            aliases,
        }
    }
}

impl From<CommentRow> for CommentRecord {
    fn from(r: CommentRow) -> Self {
        CommentRecord {
            pk: r.pk,
            id: r.id,
            issue_pk: r.issue_pk,
            text: r.text,
            summonees: r
                .summonees
                .split(',')
                .filter_map(|s| s.parse().ok())
                .collect(),
            author: r.author,
            updated_by: r.updated_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

impl From<LinkRow> for LinkRecord {
    fn from(r: LinkRow) -> Self {
        LinkRecord {
            pk: r.pk,
            org: r.org,
            type_id: r.type_id,
            source_pk: r.source_pk,
            target_pk: r.target_pk,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

impl From<ChangelogRow> for ChangelogRecord {
    fn from(r: ChangelogRow) -> Self {
        ChangelogRecord {
            pk: r.pk,
            id: r.id,
            issue_pk: r.issue_pk,
            kind: r.kind,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
            fields: r.fields,
            data: r.data,
        }
    }
}
