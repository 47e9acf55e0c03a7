//! OAuth scopes. `tracker:write` implies `tracker:read`.

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
#[error("unknown scope {0:?}; known scopes are tracker:read and tracker:write")]
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

/// A set of scopes, stored as the space-separated list OAuth uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes {
    read: bool,
    write: bool,
}

impl Scopes {
    pub const READ_WRITE: Scopes = Scopes {
        read: true,
        write: true,
    };
    pub const READ_ONLY: Scopes = Scopes {
        read: true,
        write: false,
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
        let scopes = list
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(Scope::from_str)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::collect_from(scopes))
    }

    pub fn allows(&self, wanted: Scope) -> bool {
        match wanted {
            Scope::Read => self.read || self.write,
            Scope::Write => self.write,
        }
    }

    pub fn is_empty(&self) -> bool {
        !self.read && !self.write
    }

    pub fn to_list(&self) -> String {
        let mut out = Vec::new();
        if self.read {
            out.push(Scope::Read.as_str());
        }
        if self.write {
            out.push(Scope::Write.as_str());
        }
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
    }
}
