//! OAuth scopes. `tracker:write` implies `tracker:read`.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Read,
    Write,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "tracker:read",
            Scope::Write => "tracker:write",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown scope {0:?}; Tracker's scopes are tracker:read and tracker:write, other Yandex scopes are written service:permission")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "tracker:read" => Ok(Scope::Read),
            "tracker:write" => Ok(Scope::Write),
            other => Err(UnknownScope(other.to_owned())),
        }
    }
}

/// At most this many scopes in one list: a scope list is stored on every
/// token, so it is kept short.
pub const MAX_SCOPES: usize = 32;
const MAX_SCOPE_LEN: usize = 64;

/// A set of scopes, stored as the space-separated list OAuth uses.
///
/// Besides Tracker's own two it carries other Yandex scopes (`wiki:read`,
/// `login:info`, …): real applications ask for them alongside Tracker's, and
/// an authorization server standing in for Yandex's must grant them. They are
/// recorded and reported back, and give no right in Tracker.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes {
    read: bool,
    write: bool,
    foreign: BTreeSet<String>,
}

/// A Yandex scope name: `service:permission`, lower-case letters, digits and
/// `_ . -`. `tracker:` names other than Tracker's two are not real scopes.
fn is_foreign_scope(s: &str) -> bool {
    let Some((service, permission)) = s.split_once(':') else {
        return false;
    };
    let part = |p: &str| {
        p.starts_with(|c: char| c.is_ascii_lowercase())
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
    };
    s.len() <= MAX_SCOPE_LEN && service != "tracker" && part(service) && part(permission)
}

impl Scopes {
    pub const READ_WRITE: Scopes = Scopes {
        read: true,
        write: true,
        foreign: BTreeSet::new(),
    };
    pub const READ_ONLY: Scopes = Scopes {
        read: true,
        write: false,
        foreign: BTreeSet::new(),
    };

    fn collect_from<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut s = Scopes::default();
        for scope in iter {
            match scope {
                Scope::Read => s.read = true,
                Scope::Write => s.write = true,
            }
        }
        s
    }

    /// Parses a space- or comma-separated list.
    pub fn parse(list: &str) -> Result<Self, UnknownScope> {
        let mut out = Scopes::default();
        for name in list.split([' ', ',']).filter(|s| !s.is_empty()) {
            match Scope::from_str(name) {
                Ok(Scope::Read) => out.read = true,
                Ok(Scope::Write) => out.write = true,
                Err(_) if is_foreign_scope(name) => {
                    out.foreign.insert(name.to_owned());
                }
                Err(e) => return Err(e),
            }
        }
        if out.len() > MAX_SCOPES {
            return Err(UnknownScope(format!(
                "more than {MAX_SCOPES} scopes in one list"
            )));
        }
        Ok(out)
    }

    fn len(&self) -> usize {
        usize::from(self.read) + usize::from(self.write) + self.foreign.len()
    }

    pub fn allows(&self, wanted: Scope) -> bool {
        match wanted {
            Scope::Read => self.read || self.write,
            Scope::Write => self.write,
        }
    }

    /// No scope at all, Tracker's or another service's.
    pub fn is_empty(&self) -> bool {
        !self.read && !self.write && self.foreign.is_empty()
    }

    /// The Yandex scopes of other services this set carries.
    pub fn foreign(&self) -> impl Iterator<Item = &str> {
        self.foreign.iter().map(String::as_str)
    }

    /// Whether every scope of `self` is within `allowed` (write covering read).
    pub fn within(&self, allowed: &Scopes) -> bool {
        (!self.allows(Scope::Write) || allowed.allows(Scope::Write))
            && (!self.allows(Scope::Read) || allowed.allows(Scope::Read))
            && self.foreign.is_subset(&allowed.foreign)
    }

    /// Every scope of either set.
    pub fn union(&self, other: &Scopes) -> Scopes {
        Scopes {
            read: self.read || other.read,
            write: self.write || other.write,
            foreign: self.foreign.union(&other.foreign).cloned().collect(),
        }
    }

    pub fn to_list(&self) -> String {
        let mut out = Vec::new();
        if self.read {
            out.push(Scope::Read.as_str());
        }
        if self.write {
            out.push(Scope::Write.as_str());
        }
        out.extend(self.foreign());
        out.join(" ")
    }
}

/// A stored scope list, read back (e.g. by a database row mapper).
impl TryFrom<String> for Scopes {
    type Error = UnknownScope;
    fn try_from(list: String) -> Result<Self, UnknownScope> {
        Scopes::parse(&list)
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self::collect_from(iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_implies_read_but_read_does_not_imply_write() {
        let w = Scopes::parse("tracker:write").unwrap();
        assert!(w.allows(Scope::Read));
        assert!(w.allows(Scope::Write));
        let r = Scopes::parse("tracker:read").unwrap();
        assert!(r.allows(Scope::Read));
        assert!(!r.allows(Scope::Write));
    }

    #[test]
    fn scope_lists_round_trip_through_text() {
        let s = Scopes::parse("tracker:read,tracker:write").unwrap();
        assert_eq!(s.to_list(), "tracker:read tracker:write");
        assert_eq!(Scopes::parse(&s.to_list()).unwrap(), s);
    }

    #[test]
    fn unknown_scopes_are_rejected() {
        assert_eq!(
            Scopes::parse("tracker:read admin"),
            Err(UnknownScope("admin".into()))
        );
        assert_eq!(
            Scopes::parse("tracker:admin"),
            Err(UnknownScope("tracker:admin".into()))
        );
        assert!(Scopes::parse("Wiki:Read").is_err());
        assert!(Scopes::parse("wiki:").is_err());
    }

    #[test]
    fn other_yandex_scopes_are_carried_but_grant_nothing_in_tracker() {
        let s = Scopes::parse("login:info wiki:read,wiki:write").unwrap();
        assert!(!s.is_empty());
        assert!(!s.allows(Scope::Read));
        assert_eq!(s.to_list(), "login:info wiki:read wiki:write");
        let both = Scopes::parse("tracker:read wiki:read").unwrap();
        assert!(Scopes::parse("wiki:read").unwrap().within(&both));
        assert!(!s.within(&both));
        assert_eq!(
            both.union(&s).to_list(),
            "tracker:read login:info wiki:read wiki:write"
        );
    }

    #[test]
    fn a_scope_list_is_bounded() {
        let many: Vec<String> = (0..=MAX_SCOPES).map(|i| format!("svc{i}:read")).collect();
        assert!(Scopes::parse(&many.join(" ")).is_err());
    }
}
