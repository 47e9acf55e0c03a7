//! The row types the store's queries read where a record is not stored
//! field by field (sqlx's `FromRow` is generic over the database), and their
//! conversions into the store's records. Records that are stored field by
//! field derive `FromRow` themselves (tracker-store's `sqlx` feature).

use chrono::{DateTime, Utc};
use sqlx::FromRow;
use tracker_domain::{Scopes, TokenHash, TokenKind};
use tracker_store::*;

use crate::split;

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
    pub components: Option<String>,
    pub fix_versions: Option<String>,
    pub affected_versions: Option<String>,
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

impl From<IssueRow> for IssueRecord {
    fn from(r: IssueRow) -> Self {
        let mut followers: Vec<i64> = split(r.followers)
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect();
        followers.sort_unstable();
        let ids = |s: Option<String>| -> Vec<i64> {
            let mut ids: Vec<i64> = split(s).iter().filter_map(|s| s.parse().ok()).collect();
            ids.sort_unstable();
            ids
        };
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
            components: ids(r.components),
            fix_versions: ids(r.fix_versions),
            affected_versions: ids(r.affected_versions),
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
            summonees: crate::split_ids(&r.summonees),
            author: r.author,
            updated_by: r.updated_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}
