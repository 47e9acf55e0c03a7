//! Scroll parameters and the links that lead from page to page. The
//! snapshots themselves are kept by the store (`tracker_store::ScrollStore`),
//! so any node serves the next page.

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_PER_SCROLL: usize = 100;
pub const MAX_PER_SCROLL: usize = 1000;
pub const DEFAULT_SCROLL_TTL_MS: i64 = 60_000;
/// A scroll lives at most this long between two pages, whatever it asks for.
pub const MAX_SCROLL_TTL_MS: i64 = 3_600_000;

pub(super) fn scroll_ttl(v: Option<i64>) -> ApiResult<i64> {
    match v {
        None => Ok(DEFAULT_SCROLL_TTL_MS),
        Some(n) if (1..=MAX_SCROLL_TTL_MS).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::BadRequest(format!(
            "scrollTTLMillis must be between 1 and {MAX_SCROLL_TTL_MS}, not {n}"
        ))),
    }
}

/// The request's query without `drop`ped parameters, plus `add`.
pub(super) fn link_query(raw: Option<&str>, drop: &[&str], add: &[(&str, String)]) -> String {
    let mut kept: Vec<(String, String)> = raw
        .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !drop.contains(&k.as_str()))
        .collect();
    kept.extend(add.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    serde_urlencoded::to_string(&kept).unwrap_or_default()
}

pub(super) fn next_link(
    url: &str,
    raw: Option<&str>,
    id: &str,
    token: Option<&str>,
    ttl: i64,
) -> String {
    let mut add = vec![
        ("scrollTTLMillis", ttl.to_string()),
        ("scrollId", id.to_owned()),
    ];
    if let Some(token) = token {
        add.push(("scrollToken", token.to_owned()));
    }
    let q = link_query(
        raw,
        &[
            "scrollType",
            "perScroll",
            "scrollId",
            "scrollToken",
            "scrollTTLMillis",
            "page",
            "perPage",
        ],
        &add,
    );
    format!("<{url}?{q}>; rel=\"next\"")
}

pub(super) fn random_hex() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..2)
        .map(|_| format!("{:016x}", rng.gen::<u64>()))
        .collect()
}
