//! Typed calls, grouped by resource: `client.users().get("alice")`.

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tracker_api::{CreateQueueRequest, Queue, User};

use crate::client::{Client, RequestBuilder};
use crate::error::{Error, Result};
use crate::paging::ItemStream;

/// Options of page-number lists.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Items per page (the server's default is 50). Larger pages mean
    /// fewer requests; the stream yields items one by one either way.
    pub per_page: Option<u32>,
}

impl ListOptions {
    fn apply(&self, mut r: RequestBuilder) -> RequestBuilder {
        if let Some(n) = self.per_page {
            r = r.query("perPage", n);
        }
        r
    }
}

/// Everything but unreserved characters (RFC 3986 §2.3) is encoded, so a
/// login or key can never change the path.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `/v2/…` with each segment percent-encoded.
fn path(segments: &[&str]) -> String {
    let mut p = String::from("/v2");
    for s in segments {
        p.push('/');
        p.extend(percent_encoding::utf8_percent_encode(s, SEGMENT));
    }
    p
}

impl Client {
    /// `GET /v2/myself`: the account the token belongs to.
    pub async fn myself(&self) -> Result<User> {
        self.request(Method::GET, "/v2/myself").send_json().await
    }

    /// The items of any page-number list under `path`, page by page.
    ///
    /// ```no_run
    /// # async fn run(client: tracker_client::Client) -> tracker_client::Result<()> {
    /// use futures_util::TryStreamExt;
    /// let mut users = client.paginate::<serde_json::Value>("/v2/users");
    /// while let Some(user) = users.try_next().await? {
    ///     println!("{}", user["login"]);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn paginate<T: DeserializeOwned + Send + 'static>(&self, path: &str) -> ItemStream<T> {
        self.request(Method::GET, path).paginate()
    }

    pub fn users(&self) -> Users {
        Users(self.clone())
    }

    pub fn queues(&self) -> Queues {
        Queues(self.clone())
    }

    pub fn issues(&self) -> Issues {
        Issues(self.clone())
    }
}

/// `/v2/users`.
#[derive(Debug, Clone)]
pub struct Users(Client);

impl Users {
    /// Every user of the organization, page by page.
    pub fn list(&self, options: &ListOptions) -> ItemStream<User> {
        options
            .apply(self.0.request(Method::GET, &path(&["users"])))
            .paginate()
    }

    /// A user by uid or login.
    pub async fn get(&self, uid_or_login: &str) -> Result<User> {
        self.0
            .request(Method::GET, &path(&["users", uid_or_login]))
            .send_json()
            .await
    }
}

/// `/v2/queues`.
#[derive(Debug, Clone)]
pub struct Queues(Client);

impl Queues {
    pub fn list(&self, options: &ListOptions) -> ItemStream<Queue> {
        options
            .apply(self.0.request(Method::GET, &path(&["queues"])))
            .paginate()
    }

    /// A queue by key or id.
    pub async fn get(&self, key_or_id: &str) -> Result<Queue> {
        self.0
            .request(Method::GET, &path(&["queues", key_or_id]))
            .send_json()
            .await
    }

    /// Creates a queue. Not retried: a second attempt could meet the first
    /// one's queue.
    pub async fn create(&self, queue: &CreateQueueRequest) -> Result<Queue> {
        self.0
            .request(Method::POST, &path(&["queues"]))
            .json(queue)
            .send_json()
            .await
    }
}

/// A reference to another object, as issues carry them
/// (`{"self","id","key","display"}`); `id` is a string or a number
/// depending on the object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ref {
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// An issue as `GET /v2/issues/{key}` renders it. The common fields are
/// typed; every other field (local fields of a queue included) is kept in
/// `fields`, so nothing the server sent is lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    #[serde(rename = "self")]
    pub self_url: String,
    pub id: String,
    pub key: String,
    #[serde(default)]
    pub version: i64,
    #[serde(default)]
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<Ref>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Ref>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub issue_type: Option<Ref>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Ref>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Ref>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Ref>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(flatten)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// `POST /v2/issues/` body. Fields beyond these go in `fields`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewIssue {
    pub queue: String,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub issue_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// A value unique in the organization: a create that carries one can be
    /// retried safely, because the server refuses a second issue with it
    /// (`409`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique: Option<String>,
    #[serde(flatten)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// `POST /v2/issues/_search` body: give one of `queue`, `keys`, `filter`,
/// `query`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IssueSearch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<serde_json::Map<String, serde_json::Value>>,
    /// Tracker's query language: `Queue: TEST Assignee: me()`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// `+field` or `-field`, with `filter` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
}

impl IssueSearch {
    pub fn query(q: impl Into<String>) -> Self {
        Self {
            query: Some(q.into()),
            ..Self::default()
        }
    }
}

/// `/v2/issues`.
#[derive(Debug, Clone)]
pub struct Issues(Client);

impl Issues {
    /// An issue by key or id.
    pub async fn get(&self, key_or_id: &str) -> Result<Issue> {
        self.0
            .request(Method::GET, &path(&["issues", key_or_id]))
            .send_json()
            .await
    }

    /// Creates an issue. Without `unique` it is sent once, never retried.
    /// With `unique` it is idempotent: retried on `429`/`5xx`, and when the
    /// server answers `409` because an issue with that value exists (made by
    /// an earlier attempt, or an earlier call), that issue is returned, found
    /// with `POST /v2/issues/_findByUnique`.
    pub async fn create(&self, issue: &NewIssue) -> Result<Issue> {
        let request = self
            .0
            .request(Method::POST, &path(&["issues"]))
            .json(issue)
            .idempotent(issue.unique.is_some());
        match request.send_json().await {
            Err(Error::Api { status: 409, .. }) if issue.unique.is_some() => {
                let unique = issue.unique.as_deref().unwrap_or_default();
                self.0
                    .request(Method::POST, &path(&["issues", "_findByUnique"]))
                    .query("unique", unique)
                    .idempotent(true)
                    .send_json()
                    .await
            }
            other => other,
        }
    }

    /// Changes fields with `PATCH`: plain values, or Tracker's
    /// `{"add": …, "remove": …, "set": …}` forms. With `version`, the change
    /// only applies to that version of the issue (else `409`).
    pub async fn update(
        &self,
        key_or_id: &str,
        changes: &serde_json::Map<String, serde_json::Value>,
        version: Option<i64>,
    ) -> Result<Issue> {
        let mut r = self
            .0
            .request(Method::PATCH, &path(&["issues", key_or_id]))
            .json(changes);
        if let Some(v) = version {
            // A PATCH pinned to a version cannot apply twice.
            r = r.query("version", v).idempotent(true);
        }
        r.send_json().await
    }

    /// Issues matching `search`, page by page. `POST _search` only reads, so
    /// it is retried like a `GET`.
    pub fn search(&self, search: &IssueSearch, options: &ListOptions) -> ItemStream<Issue> {
        options
            .apply(
                self.0
                    .request(Method::POST, &path(&["issues", "_search"]))
                    .json(search)
                    .idempotent(true),
            )
            .paginate()
    }

    /// How many issues match: `POST /v2/issues/_count`.
    pub async fn count(&self, search: &IssueSearch) -> Result<u64> {
        self.0
            .request(Method::POST, &path(&["issues", "_count"]))
            .json(search)
            .idempotent(true)
            .send_json()
            .await
    }
}

/// A comment on an issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    #[serde(rename = "self")]
    pub self_url: String,
    /// The numeric id used in paths and as the paging cursor.
    pub id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_id: Option<String>,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<Ref>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub version: i64,
    #[serde(flatten)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// `POST /v2/issues/{key}/comments` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewComment {
    pub text: String,
    /// Logins or uids to summon.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub summonees: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_add_to_followers: Option<bool>,
}

/// A workflow transition available from the issue's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    #[serde(rename = "self")]
    pub self_url: String,
    pub id: String,
    #[serde(default)]
    pub display: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Ref>,
    #[serde(flatten)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// A link between two issues, seen from the issue it was listed on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    #[serde(rename = "self")]
    pub self_url: String,
    pub id: i64,
    /// `{"id","inward","outward"}`.
    #[serde(rename = "type")]
    pub link_type: serde_json::Value,
    /// `outward` or `inward`.
    #[serde(default)]
    pub direction: String,
    /// The other issue.
    pub object: Ref,
    #[serde(flatten)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// One change to an issue: fields, comments, links or a transition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangelogEntry {
    pub id: serde_json::Value,
    #[serde(rename = "self")]
    pub self_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<Ref>,
    /// `IssueUpdated`, `IssueWorkflow`, `IssueCommentAdded`, …
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(flatten)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl Issues {
    /// Comments, oldest first, page by page (the server's `id` cursor is
    /// followed through `Link: rel="next"`).
    pub fn comments(&self, key: &str, options: &ListOptions) -> ItemStream<Comment> {
        options
            .apply(
                self.0
                    .request(Method::GET, &path(&["issues", key, "comments"])),
            )
            .paginate()
    }

    /// Adds a comment. Not retried.
    pub async fn add_comment(&self, key: &str, comment: &NewComment) -> Result<Comment> {
        self.0
            .request(Method::POST, &path(&["issues", key, "comments"]))
            .json(comment)
            .send_json()
            .await
    }

    pub async fn edit_comment(&self, key: &str, id: i64, text: &str) -> Result<Comment> {
        self.0
            .request(
                Method::PATCH,
                &path(&["issues", key, "comments", &id.to_string()]),
            )
            .json(&serde_json::json!({ "text": text }))
            .idempotent(true)
            .send_json()
            .await
    }

    pub async fn delete_comment(&self, key: &str, id: i64) -> Result<()> {
        self.0
            .request(
                Method::DELETE,
                &path(&["issues", key, "comments", &id.to_string()]),
            )
            .send()
            .await
            .map(drop)
    }

    /// The transitions available from the issue's current status.
    pub async fn transitions(&self, key: &str) -> Result<Vec<Transition>> {
        self.0
            .request(Method::GET, &path(&["issues", key, "transitions"]))
            .send_json()
            .await
    }

    /// Executes a transition; `body` may carry fields to set and a
    /// `comment`. Answers the transitions available afterwards. Not retried:
    /// a second attempt would start from the new status.
    pub async fn execute_transition(
        &self,
        key: &str,
        transition: &str,
        body: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Vec<Transition>> {
        self.0
            .request(
                Method::POST,
                &path(&["issues", key, "transitions", transition, "_execute"]),
            )
            .json(body)
            .send_json()
            .await
    }

    pub async fn links(&self, key: &str) -> Result<Vec<Link>> {
        self.0
            .request(Method::GET, &path(&["issues", key, "links"]))
            .send_json()
            .await
    }

    /// Links `key` to `other` with `relationship` (`relates`, `depends on`,
    /// `is subtask for`, …). Linking twice answers `422`.
    pub async fn link(&self, key: &str, relationship: &str, other: &str) -> Result<Link> {
        self.0
            .request(Method::POST, &path(&["issues", key, "links"]))
            .json(&serde_json::json!({ "relationship": relationship, "issue": other }))
            .send_json()
            .await
    }

    pub async fn unlink(&self, key: &str, link_id: i64) -> Result<()> {
        self.0
            .request(
                Method::DELETE,
                &path(&["issues", key, "links", &link_id.to_string()]),
            )
            .send()
            .await
            .map(drop)
    }

    /// Every change to the issue, oldest first, page by page.
    pub fn changelog(&self, key: &str, options: &ListOptions) -> ItemStream<ChangelogEntry> {
        options
            .apply(
                self.0
                    .request(Method::GET, &path(&["issues", key, "changelog"])),
            )
            .paginate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(path(&["users", "alice"]), "/v2/users/alice");
        assert_eq!(path(&["users", "a/b c?"]), "/v2/users/a%2Fb%20c%3F");
    }

    #[test]
    fn issues_keep_fields_this_client_does_not_know() {
        let issue: Issue = serde_json::from_value(serde_json::json!({
            "self": "https://h/v2/issues/TEST-1", "id": "5f", "key": "TEST-1", "version": 3,
            "summary": "S", "queue": {"self": "https://h/v2/queues/TEST", "id": "1", "key": "TEST", "display": "Test"},
            "storyPoints": 5
        }))
        .unwrap();
        assert_eq!(issue.queue.unwrap().key.as_deref(), Some("TEST"));
        assert_eq!(issue.fields["storyPoints"], 5);
    }
}
