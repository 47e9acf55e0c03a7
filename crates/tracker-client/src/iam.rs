//! IAM tokens: exchanging an OAuth token or a service-account JWT for one,
//! and keeping one fresh.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tracker_api::{CreateIamTokenRequest, CreateIamTokenResponse};

use crate::error::{Error, Result};
use crate::Clock;

/// A service account's authorized key, as `yc iam key create` writes it
/// (and as trackerd returns it when an admin creates a key).
///
/// ```json
/// {"id": "aje…", "service_account_id": "aje…", "private_key": "-----BEGIN PRIVATE KEY-----\n…"}
/// ```
#[derive(Clone, Deserialize, Serialize)]
pub struct ServiceAccountKey {
    /// The key id: the JWT's `kid`.
    pub id: String,
    /// The JWT's `iss`.
    pub service_account_id: String,
    /// PEM, PKCS#8 or PKCS#1. Yandex Cloud puts a `PLEASE DO NOT REMOVE
    /// THIS LINE!` line before it, which is skipped.
    pub private_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_algorithm: Option<String>,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("id", &self.id)
            .field("service_account_id", &self.service_account_id)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// The longest JWT lifetime Yandex Cloud IAM accepts.
pub const MAX_JWT_LIFETIME: Duration = Duration::hours(1);

/// The claims of a service-account JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwtClaims {
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

impl ServiceAccountKey {
    /// Reads a key file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::ServiceAccountKey(format!("cannot read {}: {e}", path.display()))
        })?;
        Self::from_json(&text)
    }

    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json)
            .map_err(|e| Error::ServiceAccountKey(format!("not a service account key: {e}")))
    }

    /// A JWT for `POST /iam/v1/tokens` as Yandex Cloud IAM wants it: PS256,
    /// `kid` = key id, `iss` = service account id, `aud` = the IAM token URL,
    /// `exp − iat` = `lifetime` (at most [`MAX_JWT_LIFETIME`]).
    pub fn jwt(&self, audience: &str, now: DateTime<Utc>, lifetime: Duration) -> Result<String> {
        if lifetime > MAX_JWT_LIFETIME || lifetime <= Duration::zero() {
            return Err(Error::ServiceAccountKey(
                "a JWT lives between 1 second and 1 hour".into(),
            ));
        }
        let pem = match self.private_key.find("-----BEGIN") {
            Some(start) => &self.private_key[start..],
            None => {
                return Err(Error::ServiceAccountKey(
                    "private_key holds no PEM block".into(),
                ))
            }
        };
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| Error::ServiceAccountKey(format!("private_key: {e}")))?;
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::PS256);
        header.kid = Some(self.id.clone());
        let claims = JwtClaims {
            iss: self.service_account_id.clone(),
            aud: audience.to_owned(),
            iat: now.timestamp(),
            exp: (now + lifetime).timestamp(),
        };
        jsonwebtoken::encode(&header, &claims, &key)
            .map_err(|e| Error::ServiceAccountKey(format!("signing the JWT: {e}")))
    }
}

/// An IAM token and when it stops working.
#[derive(Clone, PartialEq, Eq)]
pub struct IamToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for IamToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamToken")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl IamToken {
    pub(crate) fn from_response(r: CreateIamTokenResponse, url: &str) -> Result<Self> {
        let expires_at = DateTime::parse_from_rfc3339(&r.expires_at)
            .map_err(|e| Error::Decode {
                url: url.to_owned(),
                message: format!("expiresAt {:?}: {e}", r.expires_at),
            })?
            .with_timezone(&Utc);
        Ok(Self {
            token: r.iam_token,
            expires_at,
        })
    }
}

/// Where automatically refreshed IAM tokens come from.
#[derive(Clone)]
pub(crate) enum IamSource {
    OAuth(String),
    ServiceAccount(Arc<ServiceAccountKey>),
}

struct Cached {
    token: IamToken,
    obtained_at: DateTime<Utc>,
}

/// Keeps one IAM token fresh for a client and everything cloned from it.
pub(crate) struct IamSession {
    pub(crate) source: IamSource,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) refresh_ahead: Duration,
    pub(crate) audience: String,
    // Held across the exchange, so concurrent callers that find the token
    // stale wait for one exchange instead of each making their own.
    cache: Mutex<Option<Cached>>,
}

impl IamSession {
    pub(crate) fn new(
        source: IamSource,
        clock: Arc<dyn Clock>,
        refresh_ahead: Duration,
        audience: String,
    ) -> Self {
        Self {
            source,
            clock,
            refresh_ahead,
            audience,
            cache: Mutex::new(None),
        }
    }

    fn is_fresh(&self, c: &Cached, now: DateTime<Utc>) -> bool {
        // Short-lived tokens would otherwise be refreshed on every call.
        let lifetime = c.token.expires_at - c.obtained_at;
        let ahead = self.refresh_ahead.min(lifetime / 2);
        now < c.token.expires_at - ahead
    }

    /// The current token, exchanging for a new one when it is about to expire.
    pub(crate) async fn token<F, Fut>(&self, exchange: F) -> Result<IamToken>
    where
        F: FnOnce(CreateIamTokenRequest) -> Fut,
        Fut: std::future::Future<Output = Result<IamToken>>,
    {
        let mut cache = self.cache.lock().await;
        let now = self.clock.now();
        if let Some(c) = cache.as_ref() {
            if self.is_fresh(c, now) {
                return Ok(c.token.clone());
            }
        }
        let request = self.request(now)?;
        let token = exchange(request).await?;
        tracing::debug!(expires_at = %token.expires_at, "obtained an IAM token");
        *cache = Some(Cached {
            token: token.clone(),
            obtained_at: self.clock.now(),
        });
        Ok(token)
    }

    /// Forgets `token` after the server refused it, unless another caller
    /// already replaced it.
    pub(crate) async fn invalidate(&self, token: &str) {
        let mut cache = self.cache.lock().await;
        if cache.as_ref().is_some_and(|c| c.token.token == token) {
            *cache = None;
        }
    }

    /// The exchange request: the OAuth token, or a fresh JWT addressed to
    /// `audience` (the IAM token URL).
    pub(crate) fn request(&self, now: DateTime<Utc>) -> Result<CreateIamTokenRequest> {
        Ok(match &self.source {
            IamSource::OAuth(t) => CreateIamTokenRequest {
                yandex_passport_oauth_token: Some(t.clone()),
                jwt: None,
            },
            IamSource::ServiceAccount(key) => CreateIamTokenRequest {
                yandex_passport_oauth_token: None,
                jwt: Some(key.jwt(&self.audience, now, MAX_JWT_LIFETIME)?),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const KEY: &str = include_str!("../tests/data/test-service-account-key.json");

    fn public_key() -> jsonwebtoken::DecodingKey {
        let v: serde_json::Value = serde_json::from_str(KEY).unwrap();
        jsonwebtoken::DecodingKey::from_rsa_pem(v["public_key"].as_str().unwrap().as_bytes())
            .unwrap()
    }

    #[test]
    fn a_service_account_jwt_is_ps256_with_kid_iss_aud_and_an_hour_of_life() {
        let key = ServiceAccountKey::from_json(KEY).unwrap();
        let aud = "https://iam.api.cloud.yandex.net/iam/v1/tokens";
        // A fixed time well in the past: validate the signature and claims
        // ourselves rather than against the wall clock.
        let now = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
        let jwt = key.jwt(aud, now, MAX_JWT_LIFETIME).unwrap();

        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::PS256);
        assert_eq!(header.kid.as_deref(), Some("ajetestkey0000000001"));

        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::PS256);
        validation.validate_exp = false;
        validation.set_audience(&[aud]);
        validation.set_issuer(&["ajetestsa00000000001"]);
        let data = jsonwebtoken::decode::<JwtClaims>(&jwt, &public_key(), &validation).unwrap();
        assert_eq!(data.claims.iat, now.timestamp());
        assert_eq!(data.claims.exp - data.claims.iat, 3600);
    }

    #[test]
    fn a_tampered_jwt_does_not_verify() {
        let key = ServiceAccountKey::from_json(KEY).unwrap();
        let jwt = key.jwt("aud", Utc::now(), Duration::minutes(5)).unwrap();
        // Flip one character of the signature.
        let mut bad = jwt.clone().into_bytes();
        let last = bad.len() - 2;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::PS256);
        validation.set_audience(&["aud"]);
        assert!(jsonwebtoken::decode::<JwtClaims>(
            std::str::from_utf8(&bad).unwrap(),
            &public_key(),
            &validation
        )
        .is_err());
    }

    #[test]
    fn lifetimes_over_an_hour_and_keys_without_pem_are_refused() {
        let key = ServiceAccountKey::from_json(KEY).unwrap();
        assert!(key.jwt("aud", Utc::now(), Duration::minutes(61)).is_err());
        let broken = ServiceAccountKey {
            private_key: "nothing here".into(),
            ..key.clone()
        };
        assert!(matches!(
            broken.jwt("aud", Utc::now(), Duration::minutes(5)),
            Err(Error::ServiceAccountKey(_))
        ));
        assert!(!format!("{key:?}").contains("PRIVATE KEY"));
    }
}
