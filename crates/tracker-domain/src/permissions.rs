//! Who may do what to a queue and its issues, as Tracker models it: a
//! queue grants each permission to users, groups and roles; an issue adds
//! its own access list. Pure rules; the server feeds them facts.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Perm {
    /// Create issues in the queue.
    Create,
    /// Read the queue's issues.
    Read,
    /// Change the queue's issues.
    Write,
    /// Change the queue's settings and permissions.
    Grant,
}

impl Perm {
    pub const ALL: [Perm; 4] = [Perm::Create, Perm::Write, Perm::Read, Perm::Grant];

    pub fn as_str(self) -> &'static str {
        match self {
            Perm::Create => "create",
            Perm::Read => "read",
            Perm::Write => "write",
            Perm::Grant => "grant",
        }
    }
}

impl fmt::Display for Perm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Perm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "create" => Ok(Perm::Create),
            "read" => Ok(Perm::Read),
            "write" => Ok(Perm::Write),
            "grant" => Ok(Perm::Grant),
            other => Err(format!("unknown permission {other:?}")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Author,
    Assignee,
    Follower,
    QueueLead,
    /// Listed in the issue's access list.
    Access,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Author,
        Role::Assignee,
        Role::Follower,
        Role::QueueLead,
        Role::Access,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Author => "author",
            Role::Assignee => "assignee",
            Role::Follower => "follower",
            Role::QueueLead => "queue-lead",
            Role::Access => "access",
        }
    }

    pub fn display(self) -> &'static str {
        match self {
            Role::Author => "Author",
            Role::Assignee => "Assignee",
            Role::Follower => "Follower",
            Role::QueueLead => "Queue owner",
            Role::Access => "With the right of access",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.as_str() == s)
    }
}

/// The group every member of an organization is in.
pub const ALL_EMPLOYEES: i64 = 0;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    User(i64),
    Group(i64),
    Role(Role),
}

/// A queue's grants: which subjects hold which permission.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants(pub Vec<(Perm, Subject)>);

impl Grants {
    /// What a new queue grants: everyone may create, read and write; the
    /// queue's lead administers it.
    pub fn queue_defaults() -> Self {
        let mut g = Vec::new();
        for p in [Perm::Create, Perm::Write, Perm::Read] {
            g.push((p, Subject::Group(ALL_EMPLOYEES)));
            for r in [
                Role::Author,
                Role::Assignee,
                Role::Follower,
                Role::QueueLead,
            ] {
                g.push((p, Subject::Role(r)));
            }
        }
        g.push((Perm::Grant, Subject::Role(Role::QueueLead)));
        Grants(g)
    }

    pub fn subjects(&self, perm: Perm) -> impl Iterator<Item = &Subject> {
        self.0
            .iter()
            .filter(move |(p, _)| *p == perm)
            .map(|(_, s)| s)
    }
}

/// What is known about the caller.
#[derive(Debug, Clone)]
pub struct Caller<'a> {
    pub uid: i64,
    pub org_admin: bool,
    /// Groups the caller is in (without [`ALL_EMPLOYEES`], which is implied).
    pub groups: &'a [i64],
}

/// The caller's relation to one issue (all false for queue-level checks).
#[derive(Debug, Clone, Copy, Default)]
pub struct IssueRoles {
    pub author: bool,
    pub assignee: bool,
    pub follower: bool,
    pub access: bool,
}

/// Whether `caller` holds `perm` on a queue with `grants` (and, for an
/// issue, with `roles`). Organization administrators hold everything; a
/// higher permission implies the lower ones (grant ⊃ write ⊃ read), because
/// Tracker's interface treats them that way.
pub fn allows(
    grants: &Grants,
    perm: Perm,
    caller: &Caller<'_>,
    queue_lead: bool,
    roles: IssueRoles,
) -> bool {
    if caller.org_admin {
        return true;
    }
    let implied: &[Perm] = match perm {
        Perm::Read => &[Perm::Read, Perm::Write, Perm::Grant],
        Perm::Write => &[Perm::Write, Perm::Grant],
        Perm::Create => &[Perm::Create, Perm::Grant],
        Perm::Grant => &[Perm::Grant],
    };
    implied.iter().any(|p| {
        grants.subjects(*p).any(|s| match s {
            Subject::User(u) => *u == caller.uid,
            Subject::Group(g) => *g == ALL_EMPLOYEES || caller.groups.contains(g),
            Subject::Role(Role::QueueLead) => queue_lead,
            Subject::Role(Role::Author) => roles.author,
            Subject::Role(Role::Assignee) => roles.assignee,
            Subject::Role(Role::Follower) => roles.follower,
            Subject::Role(Role::Access) => roles.access,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(uid: i64, groups: &[i64]) -> Caller<'_> {
        Caller {
            uid,
            org_admin: false,
            groups,
        }
    }

    #[test]
    fn a_new_queue_is_open_to_every_member_and_administered_by_its_lead() {
        let g = Grants::queue_defaults();
        let c = caller(7, &[]);
        for p in [Perm::Create, Perm::Read, Perm::Write] {
            assert!(allows(&g, p, &c, false, IssueRoles::default()), "{p}");
        }
        assert!(!allows(&g, Perm::Grant, &c, false, IssueRoles::default()));
        assert!(allows(&g, Perm::Grant, &c, true, IssueRoles::default()));
    }

    #[test]
    fn a_restricted_queue_admits_only_its_subjects() {
        let g = Grants(vec![
            (Perm::Read, Subject::Group(5)),
            (Perm::Write, Subject::User(9)),
            (Perm::Read, Subject::Role(Role::Author)),
        ]);
        let none = IssueRoles::default();
        assert!(!allows(&g, Perm::Read, &caller(7, &[]), false, none));
        assert!(allows(&g, Perm::Read, &caller(7, &[5]), false, none));
        assert!(!allows(&g, Perm::Write, &caller(7, &[5]), false, none));
        assert!(
            allows(&g, Perm::Read, &caller(9, &[]), false, none),
            "write implies read"
        );
        let author = IssueRoles {
            author: true,
            ..none
        };
        assert!(allows(&g, Perm::Read, &caller(7, &[]), false, author));
        assert!(!allows(&g, Perm::Write, &caller(7, &[]), false, author));
    }

    #[test]
    fn organization_administrators_may_do_anything() {
        let c = Caller {
            uid: 1,
            org_admin: true,
            groups: &[],
        };
        assert!(allows(
            &Grants::default(),
            Perm::Grant,
            &c,
            false,
            IssueRoles::default()
        ));
    }
}
