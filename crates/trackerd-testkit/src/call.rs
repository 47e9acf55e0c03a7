//! Requests to a [`TestApp`] in one expression, so that a test reads as the
//! exchange it checks: `app.get(path).token(BOB_RO).await.status(200).json()`.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::{TestApp, ACME, ALICE};

/// A request on its way: sent as alice in Acme, the caller most tests are,
/// unless [`Call::token`], [`Call::org`] or [`Call::anonymous`] say otherwise.
/// Awaiting it sends it.
#[must_use]
pub struct Call {
    req: RequestBuilder,
    token: Option<String>,
    org: Option<String>,
}

impl Call {
    /// Sends `token` (as `OAuth token`) instead of alice's.
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Names organization `org` (`X-Org-ID`) instead of Acme.
    pub fn org(mut self, org: &str) -> Self {
        self.org = Some(org.to_owned());
        self
    }

    /// Sends neither a token nor an organization.
    pub fn anonymous(mut self) -> Self {
        self.token = None;
        self.org = None;
        self
    }

    /// `body` as JSON.
    pub fn json(mut self, body: impl Serialize) -> Self {
        self.req = self.req.json(&body);
        self
    }

    /// `body` as it is: for bodies that are not JSON, or not valid.
    pub fn body(mut self, body: impl Into<reqwest::Body>) -> Self {
        self.req = self.req.body(body);
        self
    }

    pub fn header(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.req = self.req.header(name, value.as_ref());
        self
    }

    /// Sends the request and reads the whole answer.
    pub async fn send(self) -> Reply {
        let mut req = self.req;
        if let Some(token) = self.token {
            req = req.header("Authorization", format!("OAuth {token}"));
        }
        if let Some(org) = self.org {
            req = req.header("X-Org-ID", org);
        }
        Reply::read(req.send().await.expect("the app answers")).await
    }
}

impl IntoFuture for Call {
    type Output = Reply;
    type IntoFuture = Pin<Box<dyn Future<Output = Reply> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// An answer, read whole: checks on it name the body when they fail.
#[derive(Debug)]
pub struct Reply {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    /// Reads `r` whole: for requests made some other way than [`Call`].
    pub async fn read(r: reqwest::Response) -> Reply {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.text().await.expect("the answer's body");
        Reply {
            status,
            headers,
            body,
        }
    }

    /// The status code.
    pub fn code(&self) -> u16 {
        self.status
    }

    /// Checks the status is `want`, and answers the reply for more checks.
    #[track_caller]
    pub fn status(self, want: u16) -> Self {
        assert_eq!(self.status, want, "{}", self.body);
        self
    }

    /// The body as JSON.
    #[track_caller]
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("a JSON body ({e}): {}", self.body))
    }

    pub fn text(&self) -> &str {
        &self.body
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Header `name`, which must be there.
    #[track_caller]
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header: {:?}", self.headers))
            .to_str()
            .expect("a text header")
    }

    /// Checks a page's totals (`X-Total-Count`, `X-Total-Pages`), and
    /// answers its `Link` header.
    #[track_caller]
    pub fn paged(&self, total: &str, pages: &str) -> &str {
        assert_eq!(self.header("x-total-count"), total, "{:?}", self.headers);
        assert_eq!(self.header("x-total-pages"), pages, "{:?}", self.headers);
        self.header("link")
    }

    /// Checks the reply is Tracker's error envelope with `status`, and
    /// answers the envelope.
    #[track_caller]
    pub fn error(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.body);
        let body: Value = self.json();
        check_envelope(&body, status);
        body
    }

    /// [`Reply::error`] whose field errors name `field`.
    #[track_caller]
    pub fn error_naming(&self, status: u16, field: &str) -> Value {
        let body = self.error(status);
        assert!(
            body["errors"][field].is_string(),
            "no {field} error: {body}"
        );
        body
    }

    /// [`Reply::error`] whose first message mentions `words`.
    #[track_caller]
    pub fn error_saying(&self, status: u16, words: &str) -> Value {
        let body = self.error(status);
        let first = body["errorMessages"][0].as_str().unwrap_or_default();
        assert!(first.contains(words), "{body}");
        body
    }
}

/// Field `field` of each element of the JSON array `list`, as it is.
#[track_caller]
pub fn each_of(list: &Value, field: &str) -> Vec<Value> {
    list.as_array()
        .unwrap_or_else(|| panic!("an array: {list}"))
        .iter()
        .map(|e| e[field].clone())
        .collect()
}

/// Sends each of `calls` in turn and checks each is refused with `status`
/// in Tracker's envelope; a failure names the call by its place in the list.
pub async fn each_refused(calls: impl IntoIterator<Item = Call>, status: u16) {
    for (row, call) in calls.into_iter().enumerate() {
        let r = call.send().await;
        assert_eq!(r.code(), status, "call {row} of the list: {}", r.text());
        r.error(status);
    }
}

/// Field `field` of each element of the JSON array `list`, which must be
/// text: lists are compared by the names or keys they hold.
#[track_caller]
pub fn each_str<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap_or_else(|| panic!("an array: {list}"))
        .iter()
        .map(|e| {
            e[field]
                .as_str()
                .unwrap_or_else(|| panic!("no text {field} in {e}"))
        })
        .collect()
}

/// The fields every error envelope has, whatever the error.
#[track_caller]
pub(crate) fn check_envelope(body: &Value, status: u16) {
    assert_eq!(body["statusCode"], status, "{body}");
    assert!(body["errors"].is_object(), "{body}");
    assert!(body["errorsData"].is_object(), "{body}");
    assert!(body["errorMessages"].is_array(), "{body}");
}

impl TestApp {
    /// `method path`, as alice in Acme until told otherwise.
    pub fn call(&self, method: Method, path: &str) -> Call {
        Call {
            req: self.request(method, path),
            token: Some(ALICE.to_owned()),
            org: Some(ACME.to_owned()),
        }
    }

    pub fn get(&self, path: &str) -> Call {
        self.call(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call {
        self.call(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> Call {
        self.call(Method::PATCH, path)
    }

    pub fn put(&self, path: &str) -> Call {
        self.call(Method::PUT, path)
    }

    pub fn delete(&self, path: &str) -> Call {
        self.call(Method::DELETE, path)
    }

    /// `GET path` as alice, which must answer 200: the body as JSON.
    pub async fn read<T: DeserializeOwned>(&self, path: &str) -> T {
        self.get(path).await.status(200).json()
    }

    /// The id of `object`, which must be a number, with `self` at
    /// `{base}{collection}/{id}`: what Tracker answers for a created object.
    #[track_caller]
    pub fn numeric_id(&self, object: &Value, collection: &str) -> i64 {
        let id = object["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("the id is not a number: {object}"));
        assert_eq!(object["self"], format!("{}{collection}/{id}", self.base));
        id
    }

    /// `GET path` with `token` in Acme, which must answer 200: the body as
    /// JSON.
    pub async fn read_as<T: DeserializeOwned>(&self, path: &str, token: &str) -> T {
        self.get(path).token(token).await.status(200).json()
    }

    /// `GET path` with `token` in organization `org`, which must answer 200:
    /// the body as JSON.
    pub async fn read_in<T: DeserializeOwned>(&self, path: &str, token: &str, org: &str) -> T {
        self.get(path)
            .token(token)
            .org(org)
            .await
            .status(200)
            .json()
    }

    /// `PATCH path` with `body` as alice, which must answer 200: the edited
    /// object.
    pub async fn edit<T: DeserializeOwned>(&self, path: &str, body: impl Serialize) -> T {
        self.patch(path).json(body).await.status(200).json()
    }

    /// `POST path` with `body` as alice, which must answer `status`: the
    /// body as JSON (a creation answers 201, a search or an action 200).
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: impl Serialize,
        status: u16,
    ) -> T {
        self.post(path).json(body).await.status(status).json()
    }

    /// `POST /v2/issues/_search` with `body` as alice, which must answer
    /// 200: the keys of the issues found, in order.
    pub async fn found_keys(&self, body: Value) -> Vec<String> {
        let found: Value = self.post_json("/v2/issues/_search", body, 200).await;
        each_str(&found, "key")
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// `POST path` as alice with `text` as the body as it is: for bodies that
    /// are not JSON, or not valid.
    pub async fn post_text(&self, path: &str, text: &'static str) -> Reply {
        self.post(path).body(text).await
    }

    /// Deletes `path` as alice (204), then checks it is gone for good:
    /// reading it and deleting it again both answer 404.
    pub async fn delete_for_good(&self, path: &str) {
        self.delete(path).await.status(204);
        self.get(path).await.error(404);
        self.delete(path).await.error(404);
    }

    /// Creates an issue as alice, which must answer 201: the issue.
    pub async fn create_issue(&self, body: Value) -> Value {
        self.post("/v2/issues/").json(body).await.status(201).json()
    }

    /// Creates an issue in queue TEST with only a summary, as alice, which
    /// must answer 201: the issue.
    pub async fn create_test_issue(&self, summary: &str) -> Value {
        self.create_issue(json!({"queue": "TEST", "summary": summary}))
            .await
    }

    /// Creates queue `key` led by alice, which must answer 201: the queue.
    pub async fn create_queue(&self, key: &str, name: &str) -> Value {
        self.post("/v2/queues/")
            .json(json!({"key": key, "name": name, "lead": "alice"}))
            .await
            .status(201)
            .json()
    }

    /// Comments on issue `key` as alice, which must answer 201: the comment.
    pub async fn comment(&self, key: &str, text: &str) -> Value {
        self.post(&format!("/v2/issues/{key}/comments"))
            .json(json!({ "text": text }))
            .await
            .status(201)
            .json()
    }

    /// Waits until `GET /v2/myself` with header `Authorization: authorization`
    /// answers 401: a revocation reaches a node at its next auth-epoch check,
    /// not at once.
    pub async fn eventually_unauthorized(&self, authorization: &str) {
        let myself = || {
            self.request(Method::GET, "/v2/myself")
                .header("Authorization", authorization)
                .header("X-Org-ID", ACME)
        };
        self.eventually_status(myself, 401).await;
    }
}
