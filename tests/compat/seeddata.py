"""The accounts the compatibility suite seeds trackerd with.

Shared by conftest.py (which writes the seed file) and the tests (which
assert against it), so both always agree.
"""

ORG_ID = "7000001"
CLOUD_ORG_ID = "bpf1acme"
ORG_NAME = "Acme"

OTHER_ORG_ID = "7000002"
OTHER_CLOUD_ORG_ID = "bpf2other"
OTHER_ORG_NAME = "Other"

UNKNOWN_ORG_ID = "7999999"

ALICE_TOKEN = "y0_compat_alice_rw_0001"  # admin, tracker:read + tracker:write
BOB_TOKEN = "y0_compat_bob_ro_0001"  # member, tracker:read only
MALLORY_TOKEN = "y0_compat_mallory_0001"  # member of the other organization
BAD_TOKEN = "y0_compat_no_such_token_0001"

ALICE = {"login": "alice", "first_name": "Alice", "last_name": "Archer", "email": "alice@acme.test"}
BOB = {"login": "bob", "first_name": "Bob", "last_name": "Builder", "email": "bob@acme.test"}
MALLORY = {"login": "mallory", "first_name": "Mallory", "last_name": "Mole", "email": "mallory@other.test"}

FILLER_LOGINS = ["u%03d" % i for i in range(1, 131)]

# Every member of organization 7000001: 132 users, three pages of 50.
ORG_LOGINS = ["alice", "bob"] + FILLER_LOGINS
PER_PAGE = 50

# Queues of organization 7000001 for the issue tests (test_issues.py).
# COMPAT holds the issues the tests create; MOVED receives the moved ones.
ISSUES_QUEUE = {"key": "COMPAT", "name": "Compat issues", "lead": "alice", "description": "Issues the client creates"}
MOVED_QUEUE = {"key": "MOVED", "name": "Moved issues", "lead": "bob"}
SEEDED_QUEUE_KEYS = [ISSUES_QUEUE["key"], MOVED_QUEUE["key"]]
