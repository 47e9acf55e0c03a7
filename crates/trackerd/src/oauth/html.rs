//! Server-rendered pages: one stylesheet inline, no scripts, no external
//! assets. Every value that reaches a page goes through [`esc`].

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Escapes text for HTML element content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;\
padding:0 1rem;line-height:1.5;color:#1a1a1a}h1{font-size:1.5rem}label{display:block;\
margin-top:.75rem;font-weight:600}input[type=text],input[type=password],textarea,select\
{width:100%;padding:.4rem;font-size:1rem;box-sizing:border-box}button{margin:.75rem .5rem 0 0;\
padding:.5rem 1rem;font-size:1rem}.error{color:#a40000;border-left:4px solid #a40000;\
padding-left:.5rem}.secret{font-family:monospace;word-break:break-all;background:#f3f3f3;\
padding:.25rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;\
padding:.3rem;text-align:left;vertical-align:top}:focus{outline:3px solid #1a5fb4}";

/// A whole page. `body` is trusted markup built with [`esc`].
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{t} · trackerd</title><style>{STYLE}</style></head>\
         <body><main id=\"main\"><h1>{t}</h1>\n{body}\n</main></body></html>",
        t = esc(title),
    );
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // Pages may not be framed (clickjacking on the consent page), load
    // nothing from elsewhere and run no scripts.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    page(
        status,
        title,
        &format!("<p class=\"error\" role=\"alert\">{}</p>", esc(message)),
    )
}

/// The alert a form page shows above its form when the last submission
/// failed; empty when there is nothing to say.
pub fn form_error(error: Option<&str>) -> String {
    error
        .map(|e| {
            format!(
                "<p class=\"error\" role=\"alert\" id=\"error\">{}</p>",
                esc(e)
            )
        })
        .unwrap_or_default()
}

pub fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        esc(name),
        esc(value)
    )
}

/// Why a page could not be shown as asked. Each variant renders itself, so
/// handlers answer with `?`; internal causes go to the log and the browser
/// sees only a generic message.
#[derive(Debug)]
pub enum PageError {
    /// No session: sign in first, then come back to this path.
    SignIn(String),
    /// Something must happen on another page first (a required password
    /// change): see other.
    Detour(String),
    /// A refusal the user can act on, shown as it is.
    Refused {
        status: StatusCode,
        title: &'static str,
        message: String,
    },
    /// A failure the user cannot act on.
    Internal {
        cause: String,
        message: &'static str,
    },
}

impl PageError {
    pub fn refused(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        PageError::Refused {
            status,
            title,
            message: message.into(),
        }
    }

    /// A form whose CSRF token does not belong to the browser's session.
    pub fn expired(message: &'static str) -> Self {
        Self::refused(StatusCode::FORBIDDEN, "Form expired", message)
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        PageError::Internal {
            cause: cause.to_string(),
            message: "Try again later.",
        }
    }

    /// The same failure with a more specific generic message.
    pub fn saying(self, message: &'static str) -> Self {
        match self {
            PageError::Internal { cause, .. } => PageError::Internal { cause, message },
            other => other,
        }
    }
}

impl From<tracker_store::StoreError> for PageError {
    fn from(e: tracker_store::StoreError) -> Self {
        PageError::internal(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn(back_to) => super::session::signin_redirect(&back_to),
            PageError::Detour(location) => super::session::see_other(&location),
            PageError::Refused {
                status,
                title,
                message,
            } => error_page(status, title, &message),
            PageError::Internal { cause, message } => {
                tracing::error!(error = %cause, "a page failed");
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    message,
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
