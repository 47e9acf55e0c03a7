//! Getting an OAuth token with the device authorization grant (RFC 8628):
//! how a program without a browser of its own signs a person in.
//!
//! ```no_run
//! # async fn run() -> tracker_client::Result<()> {
//! use tracker_client::oauth::DeviceFlow;
//!
//! let flow = DeviceFlow::new("http://127.0.0.1:8080", "tracker-cli")?;
//! let auth = flow.start(Some("tracker:read tracker:write")).await?;
//! println!("Open {} and enter {}", auth.verification_uri, auth.user_code);
//! let token = flow.wait(&auth).await?;
//! println!("got a {} token", token.token_type);
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};

/// The real Yandex OAuth server.
pub const DEFAULT_OAUTH_URL: &str = "https://oauth.yandex.ru";

const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The answer of `POST /device/code` (RFC 8628 §3.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    /// Yandex OAuth names it `verification_url`.
    #[serde(alias = "verification_url")]
    pub verification_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_uri_complete: Option<String>,
    /// Seconds between polls; RFC 8628 says 5 when absent.
    #[serde(default)]
    pub interval: Option<u64>,
    pub expires_in: u64,
}

/// A token endpoint's success answer (RFC 6749 §5.1).
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default = "bearer")]
    pub token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

fn bearer() -> String {
    "bearer".into()
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// One poll's outcome.
#[derive(Debug)]
pub enum Poll {
    /// The person has not finished yet (`authorization_pending`).
    Pending,
    /// Poll less often (`slow_down`).
    SlowDown,
    Token(TokenResponse),
}

/// The device authorization grant against one OAuth server.
#[derive(Debug, Clone)]
pub struct DeviceFlow {
    http: reqwest::Client,
    device_code_url: Url,
    token_url: Url,
    client_id: String,
    client_secret: Option<String>,
    slow_down_step: Duration,
}

impl DeviceFlow {
    /// `oauth_url` is where `/device/code` and `/token` live: a trackerd's
    /// base URL, or [`DEFAULT_OAUTH_URL`].
    pub fn new(oauth_url: &str, client_id: impl Into<String>) -> Result<Self> {
        let mut base = Url::parse(oauth_url)
            .map_err(|e| Error::Config(format!("OAuth URL {oauth_url:?}: {e}")))?;
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let join = |p: &str| {
            base.join(p)
                .map_err(|e| Error::Config(format!("OAuth URL {oauth_url:?}: {e}")))
        };
        let http = reqwest::Client::builder()
            .user_agent(concat!("tracker-client/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            device_code_url: join("device/code")?,
            token_url: join("token")?,
            client_id: client_id.into(),
            client_secret: None,
            slow_down_step: Duration::from_secs(5),
        })
    }

    /// For confidential clients (Yandex OAuth wants it for every client).
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// How much longer to wait after each `slow_down`; RFC 8628 says 5 s.
    pub fn slow_down_step(mut self, step: Duration) -> Self {
        self.slow_down_step = step;
        self
    }

    async fn post_form(&self, url: &Url, form: &[(&str, &str)]) -> Result<reqwest::Response> {
        let mut form: Vec<(&str, &str)> = form.to_vec();
        form.push(("client_id", &self.client_id));
        if let Some(s) = &self.client_secret {
            form.push(("client_secret", s));
        }
        self.http
            .post(url.clone())
            .form(&form)
            .send()
            .await
            .map_err(Error::Transport)
    }

    async fn read<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> Result<T> {
        let status = response.status();
        let url = response.url().to_string();
        let body = response.bytes().await.map_err(Error::Transport)?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| Error::Decode {
                url,
                message: e.to_string(),
            });
        }
        match serde_json::from_slice::<OAuthErrorBody>(&body) {
            Ok(e) => Err(Error::OAuth {
                status: status.as_u16(),
                error: e.error,
                description: e.error_description,
            }),
            Err(_) => Err(Error::from_body(status.as_u16(), &body, None)),
        }
    }

    /// `POST /device/code`: a code for the person to enter and one for the
    /// program to poll with.
    pub async fn start(&self, scope: Option<&str>) -> Result<DeviceAuthorization> {
        let mut form = Vec::new();
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        Self::read(self.post_form(&self.device_code_url, &form).await?).await
    }

    /// One `POST /token` with the device code.
    pub async fn poll(&self, device_code: &str) -> Result<Poll> {
        let response = self
            .post_form(
                &self.token_url,
                &[
                    ("grant_type", DEVICE_CODE_GRANT),
                    ("device_code", device_code),
                ],
            )
            .await?;
        match Self::read::<TokenResponse>(response).await {
            Ok(t) => Ok(Poll::Token(t)),
            Err(Error::OAuth { error, .. }) if error == "authorization_pending" => {
                Ok(Poll::Pending)
            }
            Err(Error::OAuth { error, .. }) if error == "slow_down" => Ok(Poll::SlowDown),
            Err(e) => Err(e),
        }
    }

    /// Polls at the server's interval until the person approves (the
    /// token), denies (`access_denied`) or the code expires
    /// (`expired_token`, also when the code's lifetime passes here first).
    pub async fn wait(&self, auth: &DeviceAuthorization) -> Result<TokenResponse> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(auth.expires_in);
        let mut interval = Duration::from_secs(auth.interval.unwrap_or(5));
        loop {
            tokio::time::sleep(interval).await;
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::OAuth {
                    status: 400,
                    error: "expired_token".into(),
                    description: Some("the device code expired before it was approved".into()),
                });
            }
            match self.poll(&auth.device_code).await? {
                Poll::Token(t) => return Ok(t),
                Poll::Pending => {}
                Poll::SlowDown => interval += self.slow_down_step,
            }
        }
    }
}
