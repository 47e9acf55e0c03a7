//! Paging as Tracker does it. By page number: `page` and `perPage` in, the
//! totals in `X-Total-Count`/`X-Total-Pages` and the neighbours in `Link`
//! out. By cursor: `perPage` after a named item in, a `next` `Link` out.

use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;

pub const DEFAULT_PER_PAGE: i64 = 50;
/// Larger pages are cut to this size rather than refused.
pub const MAX_PER_PAGE: i64 = 1000;

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PageParams {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The query of a cursor-paged list (comments of issues and of entities):
/// `perPage` items after the one `id` names.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CursorParams {
    pub id: Option<i64>,
    pub per_page: Option<i64>,
}

/// A page-numbered list's request: the page asked for (checked as
/// [`Page::from_params`] checks it) and the query its paging links carry on.
pub struct Paged {
    pub page: Page,
    pub query: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Paged {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        let crate::extract::ApiQuery(params) =
            crate::extract::ApiQuery::<PageParams>::from_request_parts(parts, state).await?;
        Ok(Paged {
            page: Page::from_params(&params)?,
            query: parts.uri.query().map(str::to_owned),
        })
    }
}

impl Paged {
    /// The answer with this page of a list of `total` items found at `url`.
    pub fn answer(&self, total: i64, url: &str, items: impl serde::Serialize) -> Response {
        let headers = self.page.headers(total, url, self.query.as_deref());
        (StatusCode::OK, headers, axum::Json(items)).into_response()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: i64,
    pub size: i64,
}

impl Page {
    pub fn from_params(p: &PageParams) -> Result<Self, ApiError> {
        let number = p.page.unwrap_or(1);
        let size = p.per_page.unwrap_or(DEFAULT_PER_PAGE);
        if number < 1 {
            return Err(ApiError::BadRequest("page must be 1 or more".into()));
        }
        if size < 1 {
            return Err(ApiError::BadRequest("perPage must be 1 or more".into()));
        }
        Ok(Page {
            number,
            size: size.min(MAX_PER_PAGE),
        })
    }

    pub fn offset(&self) -> i64 {
        (self.number - 1).saturating_mul(self.size)
    }

    /// This page of a list held whole in memory.
    pub fn of<'a, T>(&self, items: &'a [T]) -> impl Iterator<Item = &'a T> {
        items
            .iter()
            .skip(usize::try_from(self.offset()).unwrap_or(usize::MAX))
            .take(usize::try_from(self.size).unwrap_or(0))
    }

    /// The paging headers for a page of a list of `total` items found at
    /// `url` (absolute, without query) with `query` (the request's own
    /// query string, whose `page`/`perPage` are replaced).
    pub fn headers(&self, total: i64, url: &str, query: Option<&str>) -> HeaderMap {
        let pages = if total == 0 {
            1
        } else {
            (total + self.size - 1) / self.size
        };
        let mut kept: Vec<(String, String)> = query
            .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k != "page" && k != "perPage")
            .collect();
        kept.push(("perPage".into(), self.size.to_string()));
        let base_query = serde_urlencoded::to_string(&kept).unwrap_or_default();
        let link =
            |page: i64, rel: &str| format!("<{url}?{base_query}&page={page}>; rel=\"{rel}\"");

        let mut links = vec![link(1, "first")];
        if self.number > 1 {
            links.push(link((self.number - 1).min(pages), "prev"));
        }
        if self.number < pages {
            links.push(link(self.number + 1, "next"));
        }
        links.push(link(pages, "last"));
        // A URI template (RFC 6570) the official client fills in for get_page().
        links.push(format!("<{url}?{base_query}{{&page}}>; rel=\"seek\""));

        let mut h = HeaderMap::new();
        let mut put = |name: &'static str, value: String| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(HeaderName::from_static(name), v);
            }
        };
        put("x-total-count", total.to_string());
        put("x-total-pages", pages.to_string());
        put("link", links.join(", "));
        h
    }
}

/// Cursor paging (comments, changelog): `perPage` items after the one the
/// request names, and a `next` link while more follow. Unlike [`Page`], a
/// size out of range is refused, as Tracker does for these lists.
#[derive(Debug, Clone, Copy)]
pub struct Cursor {
    pub size: i64,
}

impl Cursor {
    pub fn new(per_page: Option<i64>) -> Result<Self, ApiError> {
        let size = per_page.unwrap_or(DEFAULT_PER_PAGE);
        if !(1..=MAX_PER_PAGE).contains(&size) {
            return Err(ApiError::BadRequest(
                "perPage must be between 1 and 1000".into(),
            ));
        }
        Ok(Cursor { size })
    }

    /// How many rows to read: one more than the page tells whether a next
    /// page exists.
    pub fn fetch(&self) -> i64 {
        self.size + 1
    }

    /// Cuts what [`Cursor::fetch`] read to the page; the last row kept when
    /// more follow, where the next page starts.
    pub fn cut<'a, T>(&self, rows: &'a mut Vec<T>) -> Option<&'a T> {
        let more = rows.len() as i64 > self.size;
        rows.truncate(self.size as usize);
        if more {
            rows.last()
        } else {
            None
        }
    }

    /// Cuts the rows to the page, as [`Cursor::cut`] does; when more follow,
    /// the next page's address: the list's `url`, from the last row's `id`.
    pub fn next<T, I: std::fmt::Display>(
        &self,
        rows: &mut Vec<T>,
        url: &str,
        id: impl FnOnce(&T) -> I,
    ) -> Option<String> {
        self.cut(rows)
            .map(|last| format!("{url}?id={}&perPage={}", id(last), self.size))
    }
}

/// A JSON array answer, with `next` (an absolute URL with its query) as a
/// `Link: <…>; rel="next"` header when there is a next page.
pub fn array_with_next(items: Vec<Value>, next: Option<String>) -> Response {
    let mut headers = HeaderMap::new();
    if let Some(Ok(v)) = next.map(|n| HeaderValue::from_str(&format!("<{n}>; rel=\"next\""))) {
        headers.insert(axum::http::header::LINK, v);
    }
    (StatusCode::OK, headers, axum::Json(Value::Array(items))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_page_one_of_fifty() {
        let p = Page::from_params(&PageParams::default()).unwrap();
        assert_eq!(
            p,
            Page {
                number: 1,
                size: 50
            }
        );
        assert_eq!(p.offset(), 0);
    }

    #[test]
    fn zero_or_negative_pages_are_refused() {
        assert!(Page::from_params(&PageParams {
            page: Some(0),
            per_page: None
        })
        .is_err());
        assert!(Page::from_params(&PageParams {
            page: None,
            per_page: Some(0)
        })
        .is_err());
    }

    #[test]
    fn the_middle_page_links_to_its_neighbours_and_keeps_other_parameters() {
        let p = Page { number: 2, size: 2 };
        let h = p.headers(
            5,
            "http://h/v2/users",
            Some("expand=groups&page=2&perPage=2"),
        );
        assert_eq!(h["x-total-count"], "5");
        assert_eq!(h["x-total-pages"], "3");
        let link = h["link"].to_str().unwrap();
        assert!(
            link.contains("<http://h/v2/users?expand=groups&perPage=2&page=1>; rel=\"prev\""),
            "{link}"
        );
        assert!(
            link.contains("<http://h/v2/users?expand=groups&perPage=2&page=3>; rel=\"next\""),
            "{link}"
        );
        assert!(
            link.contains("<http://h/v2/users?expand=groups&perPage=2{&page}>; rel=\"seek\""),
            "{link}"
        );
    }

    #[test]
    fn the_last_page_has_no_next_link() {
        let h = Page { number: 3, size: 2 }.headers(5, "http://h/x", None);
        assert!(!h["link"].to_str().unwrap().contains("rel=\"next\""));
    }
}
