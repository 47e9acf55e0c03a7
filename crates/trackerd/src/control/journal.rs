//! The request journal: the requests this node received (the plane's own
//! left out), newest last, in a bounded ring, with secrets redacted and
//! bodies cut at `control.journal_body_bytes`.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{faults::glob, plane};
use crate::error::ApiResult;
use crate::state::AppState;

/// One request and its answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: u64,
    /// When it arrived, by the server's clock.
    pub time: String,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// `X-Org-ID` or `X-Cloud-Org-ID` as sent.
    pub org: Option<String>,
    /// The login the token belongs to, when the request authenticated.
    pub account: Option<String>,
    pub status: u16,
    pub duration_ms: f64,
    pub request_headers: serde_json::Map<String, Value>,
    pub request_body: Option<String>,
    pub response_body: Option<String>,
    /// The fault rule that answered it, if any.
    pub fault: Option<String>,
}

pub struct Journal {
    capacity: usize,
    pub body_limit: usize,
    entries: Mutex<(u64, VecDeque<Entry>)>,
}

impl Journal {
    pub fn new(capacity: usize, body_limit: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            body_limit,
            entries: Mutex::new((0, VecDeque::new())),
        }
    }

    pub fn record(&self, mut entry: Entry) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.0 += 1;
        entry.id = entries.0;
        if entries.1.len() >= self.capacity {
            entries.1.pop_front();
        }
        entries.1.push_back(entry);
    }
}

/// Keys whose values are secrets, wherever they appear (JSON bodies, forms,
/// queries), compared without case.
const SECRET_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "client_secret",
    "password",
    "code",
    "device_code",
    "user_code",
    "code_verifier",
    "subjecttoken",
    "yandexpassportoauthtoken",
    "iamtoken",
    "jwt",
    "token",
    "private_key",
    "privatekey",
    "csrf",
];

const REDACTED: &str = "***";

fn secret(key: &str) -> bool {
    SECRET_KEYS.iter().any(|k| key.eq_ignore_ascii_case(k))
}

fn redact_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if secret(k) && !v.is_null() {
                    *v = Value::String(REDACTED.into());
                } else {
                    redact_json(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// A query string or form body with its secret values replaced.
pub fn redact_pairs(text: &str) -> String {
    text.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if secret(&percent_decoded(k)) => format!("{k}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_decoded(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// A body as the journal keeps it: redacted (JSON and forms), cut to
/// `limit` bytes, or a note of its size when it is not text.
pub fn body_text(bytes: &[u8], content_type: Option<&str>, limit: usize) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let ct = content_type.unwrap_or("");
    let text = if let Ok(mut json) = serde_json::from_slice::<Value>(bytes) {
        redact_json(&mut json);
        json.to_string()
    } else if let Ok(text) = std::str::from_utf8(bytes) {
        if ct.starts_with("application/x-www-form-urlencoded") || !ct.contains('/') {
            redact_pairs(text)
        } else if ct.starts_with("text/") || ct.contains("json") || ct.contains("yaml") {
            text.to_owned()
        } else {
            return Some(format!("<{} bytes of {ct}>", bytes.len()));
        }
    } else {
        return Some(format!("<{} bytes of {ct}>", bytes.len()));
    };
    Some(cut(text, limit))
}

fn cut(mut text: String, limit: usize) -> String {
    if text.len() > limit {
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let total = text.len();
        text.truncate(end);
        text.push_str(&format!("… <{total} bytes in all>"));
    }
    text
}

/// The request's headers with credentials and cookies redacted (the
/// scheme of `Authorization` kept).
pub fn headers_view(headers: &HeaderMap) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for (name, value) in headers {
        let value = value.to_str().unwrap_or("<not text>");
        let shown = match name.as_str() {
            "authorization" | "proxy-authorization" => match value.trim().split_once(' ') {
                Some((scheme, _)) => format!("{scheme} {REDACTED}"),
                None => REDACTED.to_owned(),
            },
            "cookie" | "set-cookie" => REDACTED.to_owned(),
            _ => cut(value.to_owned(), 1024),
        };
        out.insert(name.as_str().to_owned(), Value::String(shown));
    }
    out
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    method: Option<String>,
    /// A pattern as the fault rules' (`*`, `**`).
    path: Option<String>,
    status: Option<u16>,
    account: Option<String>,
    org: Option<String>,
    /// Entries after this id only.
    since: Option<u64>,
    /// The newest this many (after the other filters).
    limit: Option<usize>,
}

/// `GET /_trackerd/requests`: oldest first.
pub async fn list(
    State(state): State<AppState>,
    Query(filter): Query<Filter>,
) -> ApiResult<Json<Vec<Entry>>> {
    let control = plane(&state)?;
    let entries = control
        .journal
        .entries
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut found: Vec<Entry> = entries
        .1
        .iter()
        .filter(|e| {
            filter
                .method
                .as_ref()
                .is_none_or(|m| m.eq_ignore_ascii_case(&e.method))
                && filter.path.as_ref().is_none_or(|p| glob(p, &e.path))
                && filter.status.is_none_or(|s| s == e.status)
                && filter.account.as_ref().is_none_or(|a| {
                    e.account
                        .as_ref()
                        .is_some_and(|x| x.eq_ignore_ascii_case(a))
                })
                && filter
                    .org
                    .as_ref()
                    .is_none_or(|o| e.org.as_ref() == Some(o))
                && filter.since.is_none_or(|s| e.id > s)
        })
        .cloned()
        .collect();
    if let Some(limit) = filter.limit {
        let skip = found.len().saturating_sub(limit);
        found.drain(..skip);
    }
    Ok(Json(found))
}

/// `DELETE /_trackerd/requests`.
pub async fn clear(State(state): State<AppState>) -> ApiResult<StatusCode> {
    plane(&state)?
        .journal
        .entries
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .1
        .clear();
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_json_forms_and_queries() {
        let body =
            br#"{"yandexPassportOauthToken":"y0_secret","nested":{"password":"p"},"summary":"s"}"#;
        let text = body_text(body, Some("application/json"), 1000).unwrap();
        assert!(
            !text.contains("y0_secret") && !text.contains("\"p\""),
            "{text}"
        );
        assert!(text.contains("\"summary\":\"s\""));
        let form = b"grant_type=authorization_code&code=abc&client_secret=s3";
        let text = body_text(form, Some("application/x-www-form-urlencoded"), 1000).unwrap();
        assert_eq!(
            text,
            "grant_type=authorization_code&code=***&client_secret=***"
        );
        assert_eq!(redact_pairs("a=1&access_token=x"), "a=1&access_token=***");
    }

    #[test]
    fn the_journal_keeps_the_newest_entries_up_to_its_size() {
        let journal = Journal::new(2, 100);
        let entry = |path: &str| Entry {
            id: 0,
            time: String::new(),
            method: "GET".into(),
            path: path.into(),
            query: None,
            org: None,
            account: None,
            status: 200,
            duration_ms: 0.0,
            request_headers: serde_json::Map::new(),
            request_body: None,
            response_body: None,
            fault: None,
        };
        for path in ["/a", "/b", "/c"] {
            journal.record(entry(path));
        }
        let kept = journal.entries.lock().unwrap();
        let kept: Vec<(u64, &str)> = kept.1.iter().map(|e| (e.id, e.path.as_str())).collect();
        assert_eq!(kept, [(2, "/b"), (3, "/c")]);
    }

    #[test]
    fn long_bodies_are_cut_at_the_limit() {
        let text = body_text(&[b'a'; 100], Some("text/plain"), 10).unwrap();
        assert!(text.starts_with("aaaaaaaaaa…"), "{text}");
    }
}
