//! Webhook actions: the request is written to the outbox
//! (`webhook_deliveries`) right after the change that asked for it, and
//! delivered by whichever node's loop claims it first (a lease per row), with
//! retries and a doubling pause, each attempt recorded. A target resolving
//! to a loopback, private or otherwise non-public address is refused unless
//! `automation.allow_private_webhook_targets` allows it; the check is made on
//! the addresses resolved at delivery time, and the request goes to exactly
//! the address checked (a name re-resolving elsewhere cannot slip past).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Map, Value};
use tracker_store::{Attempt, IssueRecord, NewDelivery, TemplateRecord};

use super::actions::{fill, fill_json, Webhook};
use crate::error::ApiResult;
use crate::state::AppState;

/// Deliveries a node claims at once.
const BATCH: i64 = 20;

/// Writes the request the action makes on `issue` to the outbox.
pub async fn enqueue(
    state: &AppState,
    t: &TemplateRecord,
    hook: &Webhook,
    issue: &IssueRecord,
    event: &str,
    vars: &Map<String, Value>,
) -> ApiResult<()> {
    let mut headers: Map<String, Value> = hook
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                Value::String(fill(v.as_str().unwrap_or(""), vars)),
            )
        })
        .collect();
    let text = |k: &str| {
        hook.auth
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    match hook.auth.get("type").and_then(Value::as_str) {
        Some("basic") => {
            let pair = format!("{}:{}", text("login"), text("password"));
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            headers.insert(
                "Authorization".into(),
                Value::String(format!("Basic {encoded}")),
            );
        }
        Some("oauth") => {
            let name = Some(text("headerName"))
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "Authorization".into());
            let kind = Some(text("tokenType"))
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "Bearer".into());
            headers.insert(
                name,
                Value::String(format!("{kind} {}", text("accessToken"))),
            );
        }
        _ => {}
    }
    let body = match &hook.body {
        None => None,
        Some(Value::String(s)) => Some(fill(s, vars)),
        Some(v) => Some(fill_json(v, vars).to_string()),
    };
    if body.is_some() {
        headers
            .entry("Content-Type")
            .or_insert_with(|| Value::String(hook.content_type.clone()));
    }
    let now_ms = state.clock.now().timestamp_millis();
    let d = NewDelivery {
        org: t.org,
        template_pk: t.pk,
        issue_key: issue.key.clone(),
        event: event.to_owned(),
        method: hook.method.clone(),
        url: fill(&hook.endpoint, vars),
        headers: Value::Object(headers).to_string(),
        body,
        created_ms: now_ms,
    };
    state.store.enqueue_delivery(&d).await?;
    Ok(())
}

/// Whether an address is one a webhook may not reach by default: loopback,
/// private, link-local, shared (CGNAT), unspecified, multicast, broadcast,
/// documentation, or their IPv6 counterparts (IPv4-mapped ones as IPv4).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || (seg[0] == 0x2001 && seg[1] == 0x0db8)
        }
    }
}

/// The address to send the request to: the first the URL's host resolves
/// to, unless a resolved address is private and they are not allowed.
pub async fn target(url: &reqwest::Url, allow_private: bool) -> Result<SocketAddr, String> {
    let host = url.host_str().ok_or("the URL has no host")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = url.port_or_known_default().ok_or("the URL has no port")?;
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("{host} does not resolve: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    if !allow_private {
        if let Some(a) = addrs.iter().find(|a| is_private(a.ip())) {
            return Err(format!(
                "{host} resolves to {}, a private or loopback address \
                 (automation.allow_private_webhook_targets is off)",
                a.ip()
            ));
        }
    }
    Ok(addrs[0])
}

/// One attempt at a delivery: the response's status, or why there is none.
async fn attempt(state: &AppState, d: &NewDelivery) -> (Option<i64>, Result<(), String>) {
    let cfg = &state.config.automation;
    let url = match reqwest::Url::parse(&d.url) {
        Ok(u) => u,
        Err(e) => return (None, Err(format!("not a URL: {e}"))),
    };
    let addr = match target(&url, cfg.allow_private_webhook_targets).await {
        Ok(a) => a,
        Err(e) => return (None, Err(e)),
    };
    let host = url.host_str().unwrap_or_default().to_owned();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(cfg.webhook_timeout_ms))
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&host, addr)
        .build();
    let client = match client {
        Ok(c) => c,
        Err(e) => return (None, Err(format!("no HTTP client: {e}"))),
    };
    let method = reqwest::Method::from_bytes(d.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut req = client.request(method, url);
    let headers: Map<String, Value> = serde_json::from_str(&d.headers).unwrap_or_default();
    for (k, v) in &headers {
        if let Some(v) = v.as_str() {
            req = req.header(k.as_str(), v);
        }
    }
    if let Some(b) = &d.body {
        req = req.body(b.clone());
    }
    match req.send().await {
        Ok(r) => {
            let status = i64::from(r.status().as_u16());
            if r.status().is_success() {
                (Some(status), Ok(()))
            } else {
                (Some(status), Err(format!("the receiver answered {status}")))
            }
        }
        Err(e) => (None, Err(format!("the request failed: {e}"))),
    }
}

/// Claims the deliveries due now and makes one attempt at each; answers
/// how many it tried.
pub async fn deliver_due(state: &AppState, owner: &str) -> anyhow::Result<usize> {
    let cfg = &state.config.automation;
    let now = state.clock.now().timestamp_millis();
    let lease = i64::try_from(cfg.webhook_timeout_ms.saturating_mul(2)).unwrap_or(i64::MAX / 4);
    let due = state
        .store
        .claim_deliveries(owner, now, now.saturating_add(lease), BATCH)
        .await?;
    for d in &due {
        let (status, outcome) = attempt(state, &d.request).await;
        let attempts = d.attempts + 1;
        let now = state.clock.now().timestamp_millis();
        let (state_name, error, next) = match outcome {
            Ok(()) => ("delivered", None, now),
            Err(e) if attempts >= i64::from(cfg.webhook_max_attempts) => ("failed", Some(e), now),
            Err(e) => {
                let factor = 1_i64 << (attempts - 1).clamp(0, 20);
                let pause = i64::try_from(cfg.webhook_backoff_ms)
                    .unwrap_or(i64::MAX / 4)
                    .saturating_mul(factor);
                ("pending", Some(e), now.saturating_add(pause))
            }
        };
        if let Some(e) = &error {
            tracing::info!(delivery = d.pk, url = %d.request.url, attempts, error = %e, "a webhook attempt failed");
        }
        let a = Attempt {
            status,
            error,
            state: state_name.to_owned(),
            next_attempt_ms: next,
            now_ms: now,
        };
        state.store.record_attempt(d.pk, owner, &a).await?;
    }
    Ok(due.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_private_and_link_local_addresses_are_private_and_public_ones_are_not() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "93.184.216.34", "2a00:1450:4001::1"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_unless_allowed() {
        let url = reqwest::Url::parse("http://localhost:9/x").unwrap();
        let e = target(&url, false).await.unwrap_err();
        assert!(e.contains("allow_private_webhook_targets"), "{e}");
        assert!(target(&url, true).await.is_ok());
    }
}
