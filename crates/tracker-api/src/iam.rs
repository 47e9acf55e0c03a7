use serde::{Deserialize, Serialize};

/// `POST /iam/v1/tokens` body. Exactly one of the fields is expected.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateIamTokenRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yandex_passport_oauth_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<String>,
}

/// `POST /iam/v1/tokens` answer; `expiresAt` is RFC 3339 UTC with nanoseconds,
/// as Yandex Cloud IAM writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateIamTokenResponse {
    pub iam_token: String,
    pub expires_at: String,
}
