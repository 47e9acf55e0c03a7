use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A user as `GET /v2/myself`, `/v2/users` and `/v2/users/{id}` render it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(rename = "self")]
    pub self_url: String,
    pub uid: i64,
    pub login: String,
    pub tracker_uid: i64,
    pub passport_uid: i64,
    pub cloud_uid: String,
    pub first_name: String,
    pub last_name: String,
    pub display: String,
    pub email: String,
    pub external: bool,
    pub has_license: bool,
    pub dismissed: bool,
    pub use_new_filters: bool,
    pub disable_notifications: bool,
    #[serde(with = "crate::time::option", default)]
    pub first_login_date: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::option", default)]
    pub last_login_date: Option<DateTime<Utc>>,
    pub welcome_mail_sent: bool,
}
