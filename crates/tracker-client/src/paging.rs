//! Lists as streams that fetch one page at a time.

use std::collections::VecDeque;
use std::pin::Pin;

use futures_util::Stream;
use reqwest::header::{HeaderMap, LINK};
use serde::de::DeserializeOwned;
use url::Url;

use crate::client::{decode, Client, Outgoing};
use crate::error::Result;

/// The items of a paged list, fetched page by page as the stream is read:
/// at most one page is held in memory.
pub type ItemStream<T> = Pin<Box<dyn Stream<Item = Result<T>> + Send + 'static>>;

struct State<T> {
    client: Client,
    next: Option<Outgoing>,
    items: VecDeque<T>,
}

pub(crate) fn stream<T: DeserializeOwned + Send + 'static>(
    client: Client,
    first: Outgoing,
) -> ItemStream<T> {
    let state = State {
        client,
        next: Some(first),
        items: VecDeque::new(),
    };
    Box::pin(futures_util::stream::try_unfold(
        state,
        |mut state| async move {
            loop {
                if let Some(item) = state.items.pop_front() {
                    return Ok(Some((item, state)));
                }
                let Some(request) = state.next.take() else {
                    return Ok(None);
                };
                // Later pages repeat the request (a search re-sends its
                // body) at the address the server linked.
                let template = request.clone();
                let response = state.client.execute(request).await?;
                let next = next_link(response.headers(), response.url());
                let page: Vec<T> = decode(response).await?;
                // An empty page ends the list even if a server links on.
                if !page.is_empty() {
                    state.next = next.map(|url| Outgoing {
                        url: state.client.rebase(&url),
                        query: Vec::new(),
                        ..template
                    });
                }
                state.items = page.into();
            }
        },
    ))
}

/// The `rel="next"` target of a `Link` header (RFC 8288), relative ones
/// resolved against the URL of the answer.
pub(crate) fn next_link(headers: &HeaderMap, base: &Url) -> Option<Url> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_links)
        .find(|(_, rels)| rels.split_ascii_whitespace().any(|r| r == "next"))
        .and_then(|(target, _)| base.join(&target).ok())
}

/// `<target>; rel="a b", <target2>; rel=c` → `[(target, "a b"), …]`.
fn parse_links(header: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let target = rest[open + 1..open + close].to_owned();
        rest = &rest[open + close + 1..];
        // Parameters run to the next link, which starts after a comma.
        let end = rest
            .find(", <")
            .or_else(|| rest.find(",<"))
            .unwrap_or(rest.len());
        let params = &rest[..end];
        let rel = params
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("rel"))
            .map(|(_, v)| v.trim().trim_matches('"').to_owned())
            .unwrap_or_default();
        out.push((target, rel));
        rest = &rest[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    /// The next page's address in an answer with these `Link` headers.
    fn next_of(links: &[&'static str]) -> Option<String> {
        let mut h = HeaderMap::new();
        for l in links {
            h.append(LINK, HeaderValue::from_static(l));
        }
        let base = Url::parse("http://h/v2/users?page=2").unwrap();
        next_link(&h, &base).map(String::from)
    }

    #[test]
    fn relative_next_links_resolve_against_the_answered_url() {
        assert_eq!(
            next_of(&["</v2/users?page=3>; rel=\"next\""]).as_deref(),
            Some("http://h/v2/users?page=3")
        );
    }

    #[test]
    fn next_is_found_among_trackers_links_including_the_seek_template() {
        let links = "<http://h/v2/users?perPage=2&page=1>; rel=\"first\", \
                     <http://h/v2/users?perPage=2&page=1>; rel=\"prev\", \
                     <http://h/v2/users?perPage=2&page=3>; rel=\"next\", \
                     <http://h/v2/users?perPage=2&page=3>; rel=\"last\", \
                     <http://h/v2/users?perPage=2{&page}>; rel=\"seek\"";
        assert_eq!(
            next_of(&[links]).as_deref(),
            Some("http://h/v2/users?perPage=2&page=3")
        );
    }

    #[test]
    fn no_next_link_on_the_last_page_or_without_a_header() {
        assert_eq!(next_of(&[]), None);
        let links = "<http://h/x?page=1>; rel=\"first\", <http://h/x?page=1>; rel=last";
        assert_eq!(next_of(&[links]), None);
    }

    #[test]
    fn several_link_headers_and_unquoted_multi_rels_are_read() {
        let links = [
            "<http://h/a>; rel=\"first\"",
            "<http://h/b>; title=\"x, y\"; rel=\"last next\"",
        ];
        assert_eq!(next_of(&links).as_deref(), Some("http://h/b"));
    }
}
