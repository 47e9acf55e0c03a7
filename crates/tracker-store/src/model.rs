use chrono::{DateTime, Utc};
use tracker_domain::{Scopes, TokenHash, TokenKind};

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Organization {
    /// Internal key; never leaves the server.
    pub id: i64,
    /// The `X-Org-ID` value.
    pub org_id: String,
    /// The `X-Cloud-Org-ID` value.
    pub cloud_id: Option<String>,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub org_id: String,
    pub cloud_id: Option<String>,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct User {
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

impl User {
    pub fn display(&self) -> String {
        let name = format!("{} {}", self.first_name, self.last_name);
        let name = name.trim();
        if name.is_empty() {
            self.login.clone()
        } else {
            name.to_owned()
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: String,
    pub cloud_uid: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    pub org: i64,
    pub uid: i64,
    pub admin: bool,
}

#[derive(Debug, Clone)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct NewToken {
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "String"))]
    pub kind: TokenKind,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "String"))]
    pub hash: TokenHash,
    pub uid: i64,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "String"))]
    pub scopes: Scopes,
    pub parent_id: Option<i64>,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A stored token: what it was minted as, and what has happened since.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct TokenRecord {
    pub id: i64,
    #[cfg_attr(feature = "sqlx", sqlx(flatten))]
    pub minted: NewToken,
    pub revoked_at: Option<DateTime<Utc>>,
    /// When the parent token (if any) was revoked; a child dies with its parent.
    pub parent_revoked_at: Option<DateTime<Utc>>,
    /// When the parent token (if any) expires.
    pub parent_expires_at: Option<DateTime<Utc>>,
}

impl TokenRecord {
    /// Whether the token still grants access at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        let expired = |t: Option<DateTime<Utc>>| t.is_some_and(|t| t <= now);
        self.revoked_at.is_none()
            && self.parent_revoked_at.is_none()
            && !expired(self.minted.expires_at)
            && !expired(self.parent_expires_at)
    }
}

#[derive(Debug, Clone)]
pub struct NewQueue {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub lead_uid: i64,
    pub default_type: String,
    pub default_priority: String,
    pub created_at: DateTime<Utc>,
    /// `issueTypesConfig` as JSON; empty for every type.
    pub issue_types: String,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct QueueRecord {
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
    /// `issueTypesConfig` as JSON; empty for every type.
    pub issue_types: String,
    /// How many triggers (templates of kind [`TRIGGER_KIND`](crate::TRIGGER_KIND)) the queue
    /// had when this record was read: a create looks for triggers to fire
    /// only when there are some, which spares the lookup on every create
    /// in a queue without any.
    pub triggers: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn token(expires: Option<i64>, revoked: bool, parent_expires: Option<i64>) -> TokenRecord {
        let t = |s: i64| Utc.timestamp_opt(s, 0).unwrap();
        TokenRecord {
            id: 1,
            minted: NewToken {
                kind: TokenKind::Iam,
                hash: TokenHash::of("x"),
                uid: 1,
                scopes: Scopes::READ_ONLY,
                parent_id: Some(0),
                description: String::new(),
                created_at: t(0),
                expires_at: expires.map(t),
            },
            revoked_at: revoked.then(|| t(1)),
            parent_revoked_at: None,
            parent_expires_at: parent_expires.map(t),
        }
    }

    #[test]
    fn a_token_is_live_until_the_instant_it_expires() {
        let at = |s: i64| Utc.timestamp_opt(s, 0).unwrap();
        let tok = token(Some(100), false, None);
        assert!(tok.is_live(at(99)));
        assert!(!tok.is_live(at(100)));
        assert!(token(None, false, None).is_live(at(i32::MAX as i64)));
    }

    #[test]
    fn a_revoked_token_or_one_whose_parent_expired_is_dead() {
        let at = Utc.timestamp_opt(50, 0).unwrap();
        assert!(!token(Some(100), true, None).is_live(at));
        assert!(!token(Some(100), false, Some(50)).is_live(at));
        let mut orphan = token(Some(100), false, None);
        orphan.parent_revoked_at = Some(at);
        assert!(!orphan.is_live(at));
    }
}
