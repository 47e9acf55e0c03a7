//! trackerd's HTML pages as a person without JavaScript uses them.

use crate::TestApp;

/// A person at a browser without JavaScript: keeps cookies, follows no
/// redirects, and fills in trackerd's real pages.
pub struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: std::collections::HashMap<String, String>,
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        Self {
            base: app.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Default::default(),
        }
    }

    /// Sends `r` with the browser's cookies and keeps the ones it sets.
    async fn exchange(&mut self, r: reqwest::RequestBuilder) -> reqwest::Response {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let r = r.header("Cookie", cookie).send().await.unwrap();
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            self.cookies.insert(k.to_owned(), val.to_owned());
        }
        r
    }

    async fn send(&mut self, r: reqwest::RequestBuilder) -> (u16, String) {
        let r = self.exchange(r).await;
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    /// Gets `url` (a path here, or absolute) and answers the status and where
    /// it redirects to.
    pub async fn visit(&mut self, url: &str) -> (u16, Option<String>) {
        let url = if url.starts_with("http") {
            url.to_owned()
        } else {
            format!("{}{url}", self.base)
        };
        let r = self.http.get(url);
        let r = self.exchange(r).await;
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        (r.status().as_u16(), location)
    }

    /// Opens `path`, which sends the browser through an identity provider's
    /// sign-in (the person picks `sub` there), and follows the redirects
    /// back: answers where trackerd finally sends the browser.
    pub async fn sign_in_through(
        &mut self,
        mock: &crate::oidc::MockOidc,
        path: &str,
        sub: &str,
    ) -> String {
        let mut at = path.to_owned();
        for _ in 0..6 {
            if at.starts_with(&mock.base) {
                at = mock.authorize(&at, sub).await;
                continue;
            }
            let (status, next) = self.visit(&at).await;
            match next {
                Some(next) if status == 303 || status == 302 => {
                    if at.contains("/federation/callback") {
                        return next;
                    }
                    at = next;
                }
                _ => panic!("{at} answered {status} without a redirect"),
            }
        }
        panic!("too many redirects from {path}")
    }

    pub async fn get(&mut self, path: &str) -> (u16, String) {
        let r = self.http.get(format!("{}{path}", self.base));
        self.send(r).await
    }

    pub async fn post(&mut self, path: &str, form: &[(String, String)]) -> (u16, String) {
        let r = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(r).await
    }

    /// Signs in on `/signin` with the password.
    pub async fn sign_in(&mut self, login: &str, password: &str) {
        let (status, html) = self.get("/signin?next=%2Fdevice").await;
        assert_eq!(status, 200, "{html}");
        let mut form = hidden_fields(&html);
        form.push(("login".into(), login.into()));
        form.push(("password".into(), password.into()));
        form.retain(|(k, _)| k != "next");
        form.push(("next".into(), "/device".into()));
        let (status, body) = self.post("/signin", &form).await;
        assert_eq!(status, 303, "signing in: {body}");
        assert!(self.cookies.contains_key("trackerd_session"));
    }

    /// Types `user_code` on the device page and presses `decision`
    /// (`allow` or `deny`); answers the final page.
    pub async fn decide_device(&mut self, user_code: &str, decision: &str) -> String {
        let code: String = url::form_urlencoded::byte_serialize(user_code.as_bytes()).collect();
        let (status, html) = self.get(&format!("/device?user_code={code}")).await;
        assert_eq!(status, 200, "{html}");
        let mut form = hidden_fields(&html);
        form.push(("decision".into(), decision.into()));
        let (status, done) = self.post("/device", &form).await;
        assert_eq!(status, 200, "{done}");
        done
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every `<input type="hidden" name=… value=…>` of a page.
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let attr = |part: &str, name: &str| -> String {
        let raw = part
            .split(&format!("{name}=\""))
            .nth(1)
            .and_then(|v| v.split('"').next())
            .unwrap_or_else(|| panic!("a hidden input without {name}: {part}"));
        unescape(raw)
    };
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|part| (attr(part, "name"), attr(part, "value")))
        .collect()
}

/// The value of the hidden input `name` of a page.
pub fn hidden(html: &str, name: &str) -> String {
    hidden_fields(html)
        .into_iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no hidden {name} in {html}"))
        .1
}

/// The text of `text` after the first `after`, up to the first of `until`:
/// a value read out of a page or a link.
#[track_caller]
pub fn between<'a>(text: &'a str, after: &str, until: &[char]) -> &'a str {
    let (_, rest) = text
        .split_once(after)
        .unwrap_or_else(|| panic!("no {after:?} in {text}"));
    rest.split(until).next().unwrap_or_default()
}
