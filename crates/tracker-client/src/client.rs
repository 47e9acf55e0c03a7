//! [`Client`], its builder and the request path every call goes through.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tracker_api::{CreateIamTokenRequest, CreateIamTokenResponse};
use url::Url;

use crate::error::{Error, Result};
use crate::iam::{IamSession, IamSource, IamToken, ServiceAccountKey};
use crate::retry::{retry_after, RetryPolicy};
use crate::{Clock, SystemClock};

/// The real Tracker API.
pub const DEFAULT_BASE_URL: &str = "https://api.tracker.yandex.net";
/// The real Yandex Cloud IAM API.
pub const DEFAULT_IAM_URL: &str = "https://iam.api.cloud.yandex.net";

/// The organization requests act in: a Yandex 360 organization (`X-Org-ID`)
/// or a Yandex Cloud Organization (`X-Cloud-Org-ID`). Never both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Org {
    Id(String),
    Cloud(String),
}

/// How the client proves who it is.
#[derive(Clone)]
pub enum Auth {
    /// `Authorization: OAuth <token>`.
    OAuth(String),
    /// `Authorization: Bearer <token>` with an IAM token obtained elsewhere;
    /// it is not refreshed.
    Iam(String),
    /// IAM tokens exchanged from this OAuth token at the IAM URL, and
    /// exchanged again before they expire.
    IamFromOAuth(String),
    /// IAM tokens exchanged from JWTs signed with a service account's key,
    /// refreshed the same way.
    ServiceAccount(ServiceAccountKey),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::OAuth(_) => "Auth::OAuth(<redacted>)",
            Auth::Iam(_) => "Auth::Iam(<redacted>)",
            Auth::IamFromOAuth(_) => "Auth::IamFromOAuth(<redacted>)",
            Auth::ServiceAccount(_) => "Auth::ServiceAccount(<redacted>)",
        })
    }
}

/// Builds a [`Client`]; see [`Client::builder`].
#[derive(Debug)]
pub struct ClientBuilder {
    base_url: String,
    iam_url: Option<String>,
    org_id: Option<String>,
    cloud_org_id: Option<String>,
    auth: Option<Auth>,
    retry: RetryPolicy,
    timeout: Duration,
    refresh_ahead: chrono::Duration,
    clock: Arc<dyn Clock>,
    user_agent: String,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.into(),
            iam_url: None,
            org_id: None,
            cloud_org_id: None,
            auth: None,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(60),
            refresh_ahead: chrono::Duration::minutes(5),
            clock: Arc::new(SystemClock),
            user_agent: concat!("tracker-client/", env!("CARGO_PKG_VERSION")).into(),
        }
    }
}

impl ClientBuilder {
    /// Where the Tracker API is; default [`DEFAULT_BASE_URL`].
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Where `POST /iam/v1/tokens` is. Default: [`DEFAULT_IAM_URL`] for the
    /// real Tracker, otherwise the base URL (trackerd serves both).
    pub fn iam_url(mut self, url: impl Into<String>) -> Self {
        self.iam_url = Some(url.into());
        self
    }

    /// Sends `X-Org-ID`. Conflicts with [`cloud_org_id`](Self::cloud_org_id).
    pub fn org_id(mut self, id: impl Into<String>) -> Self {
        self.org_id = Some(id.into());
        self
    }

    /// Sends `X-Cloud-Org-ID`. Conflicts with [`org_id`](Self::org_id).
    pub fn cloud_org_id(mut self, id: impl Into<String>) -> Self {
        self.cloud_org_id = Some(id.into());
        self
    }

    pub fn org(self, org: Org) -> Self {
        match org {
            Org::Id(id) => self.org_id(id),
            Org::Cloud(id) => self.cloud_org_id(id),
        }
    }

    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The limit for one attempt of one request; default 60 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long before `expiresAt` an automatic IAM token is replaced;
    /// default 5 minutes, and never more than half the token's lifetime.
    pub fn refresh_ahead(mut self, ahead: Duration) -> Self {
        self.refresh_ahead = chrono::Duration::from_std(ahead).unwrap_or(chrono::Duration::zero());
        self
    }

    /// The clock IAM token expiry is judged by (tests move it).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    pub fn build(self) -> Result<Client> {
        let base = parse_base(&self.base_url, "base URL")?;
        let iam_base = match &self.iam_url {
            Some(u) => parse_base(u, "IAM URL")?,
            None if base.as_str().trim_end_matches('/') == DEFAULT_BASE_URL => {
                parse_base(DEFAULT_IAM_URL, "IAM URL")?
            }
            None => base.clone(),
        };
        let iam_tokens_url = join(&iam_base, "iam/v1/tokens")?;
        let org = match (self.org_id, self.cloud_org_id) {
            (Some(_), Some(_)) => {
                return Err(Error::Config(
                    "give an organization id or a cloud organization id, never both".into(),
                ))
            }
            (Some(id), None) => Some(Org::Id(id)),
            (None, Some(id)) => Some(Org::Cloud(id)),
            (None, None) => None,
        };
        let mut org_headers = HeaderMap::new();
        match &org {
            Some(Org::Id(id)) => {
                org_headers.insert("x-org-id", header_value(id, "organization id")?);
            }
            Some(Org::Cloud(id)) => {
                org_headers.insert("x-cloud-org-id", header_value(id, "cloud organization id")?);
            }
            None => {}
        }
        let credentials = match self.auth {
            None => Credentials::None,
            Some(Auth::OAuth(t)) => {
                Credentials::Static(header_value(&format!("OAuth {t}"), "token")?)
            }
            Some(Auth::Iam(t)) => {
                Credentials::Static(header_value(&format!("Bearer {t}"), "token")?)
            }
            Some(Auth::IamFromOAuth(t)) => Credentials::Iam(IamSession::new(
                IamSource::OAuth(t),
                self.clock.clone(),
                self.refresh_ahead,
                iam_tokens_url.to_string(),
            )),
            Some(Auth::ServiceAccount(key)) => Credentials::Iam(IamSession::new(
                IamSource::ServiceAccount(Arc::new(key)),
                self.clock.clone(),
                self.refresh_ahead,
                iam_tokens_url.to_string(),
            )),
        };
        let http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .timeout(self.timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                iam_tokens_url,
                org,
                org_headers,
                credentials,
                retry: self.retry,
            }),
        })
    }
}

fn parse_base(s: &str, what: &str) -> Result<Url> {
    let mut url = Url::parse(s).map_err(|e| Error::Config(format!("{what} {s:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(Error::Config(format!("{what} {s:?} is not an http(s) URL")));
    }
    // A trailing slash makes joining keep the last path segment.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

fn join(base: &Url, path: &str) -> Result<Url> {
    base.join(path.trim_start_matches('/'))
        .map_err(|e| Error::Config(format!("path {path:?}: {e}")))
}

fn header_value(s: &str, what: &str) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(s)
        .map_err(|_| Error::Config(format!("the {what} holds characters a header cannot")))?;
    v.set_sensitive(true);
    Ok(v)
}

enum Credentials {
    None,
    Static(HeaderValue),
    Iam(IamSession),
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    iam_tokens_url: Url,
    org: Option<Org>,
    org_headers: HeaderMap,
    credentials: Credentials,
    retry: RetryPolicy,
}

/// A Tracker API client. Cheap to clone; clones share connections and the
/// IAM token.
///
/// ```no_run
/// # async fn run() -> tracker_client::Result<()> {
/// use tracker_client::{Auth, Client};
///
/// let client = Client::builder()
///     .base_url("http://127.0.0.1:8080")
///     .org_id("7000001")
///     .auth(Auth::IamFromOAuth(std::env::var("TRACKER_TOKEN").unwrap_or_default()))
///     .build()?;
/// let me = client.myself().await?;
/// println!("{} <{}>", me.display, me.email);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base.as_str())
            .field("org", &self.inner.org)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The full `…/iam/v1/tokens` URL (also the `aud` of service-account JWTs).
    pub fn iam_tokens_url(&self) -> &Url {
        &self.inner.iam_tokens_url
    }

    pub fn org(&self) -> Option<&Org> {
        self.inner.org.as_ref()
    }

    /// A request to a path under the base URL (`"/v2/myself"`), for
    /// anything the typed calls do not cover yet. `GET`, `HEAD`, `PUT` and
    /// `DELETE` are retried; other methods only after
    /// [`RequestBuilder::idempotent`].
    ///
    /// ```no_run
    /// # async fn run(client: tracker_client::Client) -> tracker_client::Result<()> {
    /// use reqwest::Method;
    /// let priorities: serde_json::Value =
    ///     client.request(Method::GET, "/v2/priorities").send_json().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let url = self.url(path);
        let idempotent = matches!(
            method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        RequestBuilder {
            client: self.clone(),
            method,
            url,
            query: Vec::new(),
            body: None,
            headers: HeaderMap::new(),
            idempotent,
        }
    }

    /// `path` under the base URL. An absolute URL is accepted but always
    /// sent to the base URL's host, so a token never leaves for another one.
    pub(crate) fn url(&self, path: &str) -> Result<Url> {
        if let Ok(abs) = Url::parse(path) {
            return Ok(self.rebase(&abs));
        }
        join(&self.inner.base, path)
    }

    /// Moves `url` to the base URL's scheme, host and port, keeping its path
    /// and query (servers behind proxies often link to their inner name).
    pub(crate) fn rebase(&self, url: &Url) -> Url {
        let base = &self.inner.base;
        if url.origin() == base.origin() {
            return url.clone();
        }
        let mut moved = base.clone();
        moved.set_path(url.path());
        moved.set_query(url.query());
        moved
    }

    async fn authorization(&self) -> Result<Option<(HeaderValue, Option<String>)>> {
        match &self.inner.credentials {
            Credentials::None => Ok(None),
            Credentials::Static(v) => Ok(Some((v.clone(), None))),
            Credentials::Iam(session) => {
                let token = session.token(|req| self.exchange_iam(req)).await?;
                let v = header_value(&format!("Bearer {}", token.token), "IAM token")?;
                Ok(Some((v, Some(token.token))))
            }
        }
    }

    /// `POST /iam/v1/tokens` at the IAM URL, without the client's own
    /// credentials. Retried like an idempotent call: a second IAM token is
    /// harmless, and Yandex Cloud's SDKs retry this call the same way.
    pub async fn create_iam_token(&self, request: &CreateIamTokenRequest) -> Result<IamToken> {
        self.exchange_iam(request.clone()).await
    }

    // Boxed: sending a request may need an IAM token, which is a request.
    fn exchange_iam(
        &self,
        request: CreateIamTokenRequest,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<IamToken>> + std::marker::Send + '_>,
    > {
        Box::pin(async move {
            let url = self.inner.iam_tokens_url.clone();
            let body = serde_json::to_vec(&request).map_err(|e| Error::Config(e.to_string()))?;
            let send = Outgoing {
                method: Method::POST,
                url: url.clone(),
                query: Vec::new(),
                body: Some(body),
                headers: HeaderMap::new(),
                idempotent: true,
                authenticate: false,
            };
            let response = self.execute(send).await?;
            let parsed: CreateIamTokenResponse = decode(response).await?;
            IamToken::from_response(parsed, url.as_str())
        })
    }

    /// The IAM token requests are sent with: the automatic one (obtained or
    /// refreshed as needed), or the static one. With an OAuth token, one is
    /// exchanged for it.
    pub async fn iam_token(&self) -> Result<IamToken> {
        match &self.inner.credentials {
            Credentials::Iam(session) => session.token(|req| self.exchange_iam(req)).await,
            Credentials::Static(v) => {
                let v = v.to_str().unwrap_or_default();
                if let Some(oauth) = v.strip_prefix("OAuth ") {
                    self.create_iam_token(&CreateIamTokenRequest {
                        yandex_passport_oauth_token: Some(oauth.to_owned()),
                        jwt: None,
                    })
                    .await
                } else {
                    Err(Error::Config(
                        "a static IAM token has no known expiry; use it as it is".into(),
                    ))
                }
            }
            Credentials::None => Err(Error::Config("no credentials configured".into())),
        }
    }

    /// Sends with retries; answers only successes, everything else is an
    /// [`Error`].
    pub(crate) async fn execute(&self, send: Outgoing) -> Result<reqwest::Response> {
        let policy = &self.inner.retry;
        let mut attempt: u32 = 0;
        let mut reauthenticated = false;
        loop {
            let mut req = self
                .inner
                .http
                .request(send.method.clone(), send.url.clone())
                .headers(send.headers.clone());
            if !send.query.is_empty() {
                req = req.query(&send.query);
            }
            let mut sent_iam = None;
            if send.authenticate {
                req = req.headers(self.inner.org_headers.clone());
                if let Some((auth, iam)) = self.authorization().await? {
                    req = req.header(AUTHORIZATION, auth);
                    sent_iam = iam;
                }
            }
            if let Some(body) = &send.body {
                req = req
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let wait = match req.send().await {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) => {
                    let status = resp.status();
                    let after = retry_after(resp.headers());
                    // A refused credential means the request was not acted on,
                    // so even a POST may go again with a fresh IAM token.
                    if status == StatusCode::UNAUTHORIZED && !reauthenticated {
                        if let (Some(token), Credentials::Iam(session)) =
                            (&sent_iam, &self.inner.credentials)
                        {
                            tracing::debug!("IAM token refused; exchanging for a new one");
                            session.invalidate(token).await;
                            reauthenticated = true;
                            continue;
                        }
                    }
                    let retry = send.idempotent
                        && RetryPolicy::retryable_status(status)
                        && attempt < policy.max_retries
                        && after.is_none_or(|d| d <= policy.max_retry_after);
                    if !retry {
                        let body = resp.bytes().await.unwrap_or_default();
                        return Err(Error::from_body(status.as_u16(), &body, after));
                    }
                    let wait = after.unwrap_or_else(|| policy.backoff(attempt));
                    tracing::debug!(%status, ?wait, attempt, url = %send.url, "retrying");
                    wait
                }
                Err(e) => {
                    let transient = e.is_connect() || e.is_timeout();
                    if !(send.idempotent && transient && attempt < policy.max_retries) {
                        return Err(Error::Transport(e));
                    }
                    let wait = policy.backoff(attempt);
                    tracing::debug!(error = %e, ?wait, attempt, url = %send.url, "retrying");
                    wait
                }
            };
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

/// One request, kept whole so it can be sent again.
#[derive(Clone)]
pub(crate) struct Outgoing {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) headers: HeaderMap,
    pub(crate) idempotent: bool,
    pub(crate) authenticate: bool,
}

pub(crate) async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T> {
    let url = response.url().to_string();
    let bytes = response.bytes().await.map_err(Error::Transport)?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
        url,
        message: e.to_string(),
    })
}

/// A raw request; see [`Client::request`].
#[must_use]
pub struct RequestBuilder {
    client: Client,
    method: Method,
    url: Result<Url>,
    query: Vec<(String, String)>,
    body: Option<Result<Vec<u8>>>,
    headers: HeaderMap,
    idempotent: bool,
}

impl RequestBuilder {
    pub fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_owned(), value.to_string()));
        self
    }

    /// A JSON body.
    pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Self {
        self.body = Some(serde_json::to_vec(body).map_err(|e| Error::Config(e.to_string())));
        self
    }

    /// An extra header (`If-Match`, `Accept-Language`, …).
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }

    /// Marks the call safe to retry. Only say so when repeating it cannot
    /// do harm: a read through `POST` (`_search`, `_count`) or a create
    /// carrying a `unique` value.
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = yes;
        self
    }

    fn into_send(self) -> Result<(Client, Outgoing)> {
        let body = self.body.transpose()?;
        Ok((
            self.client,
            Outgoing {
                method: self.method,
                url: self.url?,
                query: self.query,
                body,
                headers: self.headers,
                idempotent: self.idempotent,
                authenticate: true,
            },
        ))
    }

    /// Sends; a non-success answer is an [`Error::Api`].
    pub async fn send(self) -> Result<reqwest::Response> {
        let (client, send) = self.into_send()?;
        client.execute(send).await
    }

    /// Sends and reads the answer as JSON.
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T> {
        decode(self.send().await?).await
    }

    /// Sends a `GET` and yields the items of every page, following
    /// `Link: <…>; rel="next"`; see [`Client::paginate`].
    pub fn paginate<T: DeserializeOwned + Send + 'static>(self) -> crate::paging::ItemStream<T> {
        match self.into_send() {
            Ok((client, send)) => crate::paging::stream(client, send),
            Err(e) => Box::pin(futures_util::stream::once(async move { Err(e) })),
        }
    }
}
