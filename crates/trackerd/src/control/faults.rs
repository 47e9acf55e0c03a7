//! Fault injection: rules by method and path pattern (and optionally the
//! caller's token) that answer an error status (`429` with `Retry-After`, a
//! `5xx`), wait, or drop the connection, for the next N matching requests
//! or a share of them. Rules are this node's own.

use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tracker_domain::TokenHash;

use super::{parse_body, plane};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What a rule does to a request it picks.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// Waits this long first.
    pub delay_ms: u64,
    /// Then answers this status (else the request goes on, or is dropped).
    pub status: Option<StatusCode>,
    /// `Retry-After` with the status, in seconds.
    pub retry_after: Option<u64>,
    /// Then closes the connection without an answer.
    pub drop: bool,
}

#[derive(Debug, Clone)]
struct Rule {
    id: u64,
    method: Option<Method>,
    path: String,
    /// The caller's token, as a hash: the rule applies to its requests only.
    token: Option<TokenHash>,
    action: Action,
    /// Matches left; `None`: no limit.
    remaining: Option<u64>,
    share: f64,
    hits: u64,
}

impl Rule {
    fn view(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "method": self.method.as_ref().map(Method::as_str),
            "path": self.path,
            "token": self.token.is_some(),
            "status": self.action.status.map(|s| s.as_u16()),
            "retryAfter": self.action.retry_after,
            "delayMs": self.action.delay_ms,
            "drop": self.action.drop,
            "remaining": self.remaining,
            "share": self.share,
            "hits": self.hits,
        })
    }
}

#[derive(Default)]
pub struct Faults {
    rules: Mutex<(u64, Vec<Rule>)>,
}

impl Faults {
    /// The action of the first rule that takes this request, counted
    /// against that rule: (rule id, action).
    pub fn pick(
        &self,
        method: &Method,
        path: &str,
        token: Option<&TokenHash>,
    ) -> Option<(u64, Action)> {
        let mut rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        if rules.1.is_empty() {
            return None;
        }
        for rule in rules.1.iter_mut() {
            if rule.remaining == Some(0)
                || rule.method.as_ref().is_some_and(|m| m != method)
                || !glob(&rule.path, path)
                || rule.token.as_ref().is_some_and(|t| Some(t) != token)
            {
                continue;
            }
            // 0 never and 1 always, whatever the draw.
            if rule.share < 1.0 && rand::random::<f64>() >= rule.share {
                continue;
            }
            if let Some(n) = rule.remaining.as_mut() {
                *n -= 1;
            }
            rule.hits += 1;
            return Some((rule.id, rule.action.clone()));
        }
        None
    }
}

/// Whether `path` matches `pattern`: `*` stands for any text within one
/// path segment, `**` for any text at all.
pub fn glob(pattern: &str, path: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p {
            [] => s.is_empty(),
            [b'*', b'*', rest @ ..] => (0..=s.len()).any(|i| go(rest, &s[i..])),
            [b'*', rest @ ..] => (0..=s.len())
                .take_while(|&i| i == 0 || s[i - 1] != b'/')
                .any(|i| go(rest, &s[i..])),
            [c, rest @ ..] => s.first() == Some(c) && go(rest, &s[1..]),
        }
    }
    go(pattern.as_bytes(), path.as_bytes())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NewRule {
    #[serde(default)]
    method: Option<String>,
    path: String,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    retry_after: Option<u64>,
    #[serde(default)]
    delay_ms: Option<u64>,
    #[serde(default)]
    drop: bool,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    share: Option<f64>,
}

/// The longest delay a rule may ask for: ten minutes.
const MAX_DELAY_MS: u64 = 600_000;

fn bad(message: &str) -> ApiError {
    ApiError::BadRequest(message.to_owned())
}

fn rule_from(new: NewRule, id: u64) -> ApiResult<Rule> {
    let method = match new.method.as_deref() {
        None | Some("*") => None,
        Some(m) => Some(
            Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                .map_err(|_| bad("\"method\" is an HTTP method, or \"*\""))?,
        ),
    };
    if !new.path.starts_with('/') || new.path.len() > 1000 {
        return Err(bad("\"path\" is a pattern starting with '/'"));
    }
    let status = match new.status {
        None => None,
        Some(s @ 400..=599) => StatusCode::from_u16(s).ok(),
        Some(_) => return Err(bad("\"status\" is an error status, 400 to 599")),
    };
    if new.drop && status.is_some() {
        return Err(bad(
            "A rule answers a \"status\" or \"drop\"s the connection, not both",
        ));
    }
    if new.retry_after.is_some() && status.is_none() {
        return Err(bad("\"retryAfter\" goes with a \"status\""));
    }
    let delay_ms = new.delay_ms.unwrap_or(0);
    if delay_ms > MAX_DELAY_MS {
        return Err(bad("\"delayMs\" is at most 600000"));
    }
    if status.is_none() && !new.drop && delay_ms == 0 {
        return Err(bad(
            "A rule needs a \"status\", a \"delayMs\" or \"drop\": true",
        ));
    }
    if new.count == Some(0) {
        return Err(bad(
            "\"count\" is at least 1 (leave it out for every request)",
        ));
    }
    let share = new.share.unwrap_or(1.0);
    if !(0.0..=1.0).contains(&share) {
        return Err(bad("\"share\" is between 0 and 1"));
    }
    Ok(Rule {
        id,
        method,
        path: new.path,
        token: new.token.as_deref().map(|t| TokenHash::of(t.trim())),
        action: Action {
            delay_ms,
            status,
            retry_after: new.retry_after,
            drop: new.drop,
        },
        remaining: new.count,
        share,
        hits: 0,
    })
}

/// `GET /_trackerd/faults`: the rules in the order they are tried.
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let rules = plane(&state)?
        .faults
        .rules
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    Ok(Json(Value::Array(rules.1.iter().map(Rule::view).collect())))
}

/// `POST /_trackerd/faults`: adds a rule after the others.
pub async fn create(
    State(state): State<AppState>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let new: NewRule = parse_body(&body)?;
    let mut rules = plane(&state)?
        .faults
        .rules
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    rules.0 += 1;
    let rule = rule_from(new, rules.0)?;
    let view = rule.view();
    rules.1.push(rule);
    Ok((StatusCode::CREATED, Json(view)))
}

/// `DELETE /_trackerd/faults`: every rule.
pub async fn clear(State(state): State<AppState>) -> ApiResult<StatusCode> {
    plane(&state)?
        .faults
        .rules
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .1
        .clear();
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /_trackerd/faults/{id}`.
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut rules = plane(&state)?
        .faults
        .rules
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let before = rules.1.len();
    rules.1.retain(|r| r.id.to_string() != id);
    if rules.1.len() == before {
        return Err(ApiError::NotFound(format!("Fault rule {id} not found")));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_stays_within_a_segment_and_two_stars_do_not() {
        assert!(glob("/v2/issues/*", "/v2/issues/TEST-1"));
        assert!(!glob("/v2/issues/*", "/v2/issues/TEST-1/comments"));
        assert!(glob("/v2/issues/**", "/v2/issues/TEST-1/comments"));
        assert!(glob("/v*/myself", "/v3/myself"));
        assert!(!glob("/v2/myself", "/v2/myselfish"));
        assert!(glob("**", "/anything/at/all"));
    }
}
