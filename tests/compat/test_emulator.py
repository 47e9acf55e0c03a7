"""The emulator's control plane (docs/emulator.md) with the official client:
its retries meet injected faults and succeed, the journal shows what it sent
(tokens redacted), and a snapshot restore takes back what it created.

The client (connection.py, `_try_request`) retries a 5xx and a dropped
connection `retries` times (10 by default) at once, and a 429 only when
`retries_initial_delay` is above zero.
"""

import pytest
from yandex_tracker_client.exceptions import NotFound

import seeddata as S


@pytest.fixture(autouse=True)
def clean_plane(control):
    """Each test starts and ends with no fault rules and an empty journal."""
    assert control("DELETE", "/_trackerd/faults").status_code == 204
    assert control("DELETE", "/_trackerd/requests").status_code == 204
    yield
    control("DELETE", "/_trackerd/faults")


def add_fault(control, **rule):
    r = control("POST", "/_trackerd/faults", json=rule)
    assert r.status_code == 201, r.text
    return r.json()


def journal(control, **filters):
    r = control("GET", "/_trackerd/requests", params=filters)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_client_retries_an_injected_503_and_succeeds(alice, control):
    rule = add_fault(control, method="GET", path="/v2/myself", status=503, count=1)
    me = alice.myself
    assert me.login == "alice"
    seen = journal(control, path="/v2/myself")
    assert [e["status"] for e in seen] == [503, 200]
    assert seen[0]["fault"] == rule["id"]
    rules = control("GET", "/_trackerd/faults").json()
    assert rules[0]["hits"] == 1 and rules[0]["remaining"] == 0


def test_the_client_waits_out_a_429_when_told_to_retry_with_a_delay(make_client, control):
    client = make_client(token=S.ALICE_TOKEN, org_id=S.ORG_ID, retries_initial_delay=0.05)
    add_fault(control, method="GET", path="/v2/queues/*", status=429, retryAfter=1, count=2)
    queue = client.queues[S.ISSUES_QUEUE["key"]]
    assert queue.key == S.ISSUES_QUEUE["key"]
    assert [e["status"] for e in journal(control, path="/v2/queues/*")] == [429, 429, 200]


def test_the_client_retries_a_dropped_connection(alice, control):
    add_fault(control, method="GET", path="/v2/myself", drop=True, count=1)
    assert alice.myself.login == "alice"
    # The dropped request never got an answer (status 0); the retry did.
    seen = journal(control, path="/v2/myself")
    assert [e["status"] for e in seen] == [0, 200]


def test_the_journal_shows_what_the_client_sent_with_its_token_redacted(alice, control):
    issue = alice.issues.create(queue=S.ISSUES_QUEUE["key"], summary="journalled by the client")
    entries = journal(control, method="POST", path="/v2/issues")
    assert len(entries) == 1
    sent = entries[0]
    assert sent["account"] == "alice"
    assert sent["org"] == S.ORG_ID
    assert sent["status"] == 201
    assert sent["requestHeaders"]["authorization"] == "OAuth ***"
    assert "journalled by the client" in sent["requestBody"]
    assert issue.key in sent["responseBody"]
    everything = control("GET", "/_trackerd/requests").text
    assert S.ALICE_TOKEN not in everything


def test_a_restored_snapshot_takes_back_what_the_client_created(alice, control):
    assert control("PUT", "/_trackerd/snapshots/compat-before").status_code == 200
    try:
        issue = alice.issues.create(queue=S.ISSUES_QUEUE["key"], summary="undone by a restore")
        assert alice.issues[issue.key].summary == "undone by a restore"
        r = control("POST", "/_trackerd/snapshots/compat-before/restore")
        assert r.status_code == 200, r.text
        with pytest.raises(NotFound):
            alice.issues[issue.key]
    finally:
        control("DELETE", "/_trackerd/snapshots/compat-before")
