//! The two request headers that decide who is calling and in which
//! organization.

use std::fmt;

/// What the `Authorization` header carries. Parsed, it borrows the header's
/// token (`Credential<&str>`): no copy of the secret is made per request.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential<S = String> {
    OAuth(S),
    Bearer(S),
}

impl<S: AsRef<str>> Credential<S> {
    pub fn secret(&self) -> &str {
        match self {
            Credential::OAuth(t) | Credential::Bearer(t) => t.as_ref(),
        }
    }
}

// Never print the secret itself.
impl<S> fmt::Debug for Credential<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::OAuth(_) => f.write_str("OAuth(…)"),
            Credential::Bearer(_) => f.write_str("Bearer(…)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthHeaderError {
    #[error("the Authorization header is missing")]
    Missing,
    #[error("the Authorization header must be 'OAuth <token>' or 'Bearer <IAM token>'")]
    Malformed,
}

/// Parses `Authorization: OAuth <token>` or `Authorization: Bearer <token>`.
/// The scheme is case-insensitive (RFC 9110 §11.1); the token is one
/// run of visible ASCII.
pub fn parse_authorization(value: Option<&[u8]>) -> Result<Credential<&str>, AuthHeaderError> {
    let raw = value.ok_or(AuthHeaderError::Missing)?;
    let text = std::str::from_utf8(raw).map_err(|_| AuthHeaderError::Malformed)?;
    let text = text.trim();
    if text.is_empty() {
        return Err(AuthHeaderError::Missing);
    }
    let (scheme, token) = text.split_once(' ').ok_or(AuthHeaderError::Malformed)?;
    let token = token.trim();
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AuthHeaderError::Malformed);
    }
    if scheme.eq_ignore_ascii_case("oauth") {
        Ok(Credential::OAuth(token))
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Ok(Credential::Bearer(token))
    } else {
        Err(AuthHeaderError::Malformed)
    }
}

/// Which organization a request names. Parsed, it borrows the header's
/// value (`OrgSelector<&str>`); [`OrgSelector::owned`] keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrgSelector<S = String> {
    /// `X-Org-ID`: a Yandex 360 organization id.
    OrgId(S),
    /// `X-Cloud-Org-ID`: a Yandex Cloud Organization id.
    CloudOrgId(S),
}

impl OrgSelector<&str> {
    /// The same selector, owning its value.
    pub fn owned(&self) -> OrgSelector {
        match *self {
            OrgSelector::OrgId(id) => OrgSelector::OrgId(id.to_owned()),
            OrgSelector::CloudOrgId(id) => OrgSelector::CloudOrgId(id.to_owned()),
        }
    }
}

impl OrgSelector {
    /// Whether a parsed selector names this one.
    pub fn is(&self, other: &OrgSelector<&str>) -> bool {
        match (self, other) {
            (OrgSelector::OrgId(a), OrgSelector::OrgId(b))
            | (OrgSelector::CloudOrgId(a), OrgSelector::CloudOrgId(b)) => a == b,
            _ => false,
        }
    }
}

/// Values clients send when they have no organization of that kind. The
/// official Python client sends `X-Org-Id: not provided` next to a real
/// `X-Cloud-Org-Id`.
fn is_placeholder(v: &str) -> bool {
    let v = v.trim();
    v.is_empty() || v.eq_ignore_ascii_case("not provided")
}

/// Picks the organization from `X-Org-ID` and `X-Cloud-Org-ID`. A placeholder
/// counts as absent; when both carry real values, `X-Org-ID` wins (see
/// docs/COMPATIBILITY.md).
pub fn parse_org_headers<'a>(
    org_id: Option<&'a [u8]>,
    cloud_org_id: Option<&'a [u8]>,
) -> Option<OrgSelector<&'a str>> {
    let real = |v: Option<&'a [u8]>| {
        v.and_then(|b| std::str::from_utf8(b).ok())
            .filter(|s| !is_placeholder(s))
            .map(str::trim)
    };
    if let Some(id) = real(org_id) {
        return Some(OrgSelector::OrgId(id));
    }
    real(cloud_org_id).map(OrgSelector::CloudOrgId)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_and_bearer_schemes_are_recognised_in_any_case() {
        assert_eq!(
            parse_authorization(Some(b"OAuth y0_abc")),
            Ok(Credential::OAuth("y0_abc"))
        );
        assert_eq!(
            parse_authorization(Some(b"oauth y0_abc")),
            Ok(Credential::OAuth("y0_abc"))
        );
        assert_eq!(
            parse_authorization(Some(b"Bearer t1.abc")),
            Ok(Credential::Bearer("t1.abc"))
        );
    }

    #[test]
    fn a_missing_or_empty_header_is_missing() {
        assert_eq!(parse_authorization(None), Err(AuthHeaderError::Missing));
        assert_eq!(
            parse_authorization(Some(b"  ")),
            Err(AuthHeaderError::Missing)
        );
    }

    #[test]
    fn other_schemes_and_broken_values_are_malformed() {
        for bad in [
            &b"Basic dXNlcjpwYXNz"[..],
            b"OAuth",
            b"OAuth ",
            b"y0_abc",
            b"OAuth two words",
            b"OAuth \xff\xfe",
        ] {
            assert_eq!(
                parse_authorization(Some(bad)),
                Err(AuthHeaderError::Malformed),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn the_official_clients_placeholder_org_id_counts_as_absent() {
        assert_eq!(
            parse_org_headers(Some(b"not provided"), Some(b"bpf1acme")),
            Some(OrgSelector::CloudOrgId("bpf1acme"))
        );
        assert_eq!(parse_org_headers(Some(b"not provided"), None), None);
        assert_eq!(parse_org_headers(Some(b""), Some(b" ")), None);
    }

    #[test]
    fn x_org_id_wins_when_both_headers_are_real() {
        assert_eq!(
            parse_org_headers(Some(b"7000001"), Some(b"bpf1acme")),
            Some(OrgSelector::OrgId("7000001"))
        );
    }

    #[test]
    fn a_parsed_selector_is_the_kept_one_of_its_kind_and_value_only() {
        let parsed = parse_org_headers(Some(b" 7000001 "), None).unwrap();
        let kept = parsed.owned();
        assert_eq!(kept, OrgSelector::OrgId("7000001".to_owned()));
        assert!(kept.is(&parsed));
        assert!(!kept.is(&OrgSelector::CloudOrgId("7000001")));
        assert!(!kept.is(&OrgSelector::OrgId("7000002")));
    }

    #[test]
    fn credentials_never_print_their_secret() {
        let c = Credential::OAuth(String::from("y0_very_secret"));
        assert!(!format!("{c:?}").contains("secret"));
    }
}
