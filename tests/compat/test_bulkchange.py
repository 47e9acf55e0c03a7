"""Bulk changes through the official yandex_tracker_client's own API,
unchanged: client.bulkchange.update(issues, **values), .transition(issues,
transition, **values), .move(issues, queue, ...), each answered at once
with status CREATED and applied in the background, and
client.bulkchange.wait(bulkchange) polling GET /v2/bulkchange/{id} until
COMPLETE or FAILED.
"""

import uuid

import pytest
from yandex_tracker_client.exceptions import Forbidden, NotFound

import seeddata as S


def new_issues(client, n):
    tag = uuid.uuid4().hex[:8]
    return [
        client.issues.create(queue=S.ISSUES_QUEUE["key"], summary="bulk %s %d" % (tag, i)).key
        for i in range(n)
    ]


def test_a_bulk_update_is_created_then_waited_for_until_complete(alice):
    keys = new_issues(alice, 3)
    bc = alice.bulkchange.update(keys, priority={"key": "critical"}, tags={"add": ["bulk"]})
    assert bc.status == "CREATED"
    assert bc.statusText == "Bulk change task created."
    assert bc.executionIssuePercent == 0
    assert bc.createdBy.login == "alice"
    bc = alice.bulkchange.wait(bc, interval=0.2)
    assert bc.status == "COMPLETE"
    assert bc.executionIssuePercent == 100
    assert bc.executionChunkPercent == 100
    for key in keys:
        issue = alice.issues[key]
        assert issue.priority.key == "critical"
        assert issue.tags == ["bulk"]
        assert [e.type for e in issue.changelog] == ["IssueCreated", "IssueUpdated"]


def test_a_bulk_transition_changes_the_status_of_every_issue(alice):
    keys = new_issues(alice, 2)
    bc = alice.bulkchange.transition(keys, "start_progress", comment="started together")
    bc = alice.bulkchange.wait(bc, interval=0.2)
    assert bc.status == "COMPLETE"
    for key in keys:
        issue = alice.issues[key]
        assert issue.status.key == "inProgress"
        assert [c.text for c in issue.comments] == ["started together"]


def test_a_bulk_move_gives_the_issues_keys_of_the_new_queue(alice):
    keys = new_issues(alice, 2)
    bc = alice.bulkchange.move(keys, S.MOVED_QUEUE["key"], tags={"add": ["moved"]})
    bc = alice.bulkchange.wait(bc, interval=0.2)
    assert bc.status == "COMPLETE"
    for key in keys:
        issue = alice.issues[key]
        assert issue.key.startswith(S.MOVED_QUEUE["key"] + "-")
        assert issue.queue.key == S.MOVED_QUEUE["key"]
        assert issue.tags == ["moved"]


def test_an_issue_that_cannot_be_changed_is_reported_and_the_rest_are_changed(alice):
    keys = new_issues(alice, 1)
    bc = alice.bulkchange.update(keys + ["%s-999999" % S.ISSUES_QUEUE["key"]], summary="renamed in bulk")
    bc = alice.bulkchange.wait(bc, interval=0.2)
    assert bc.status == "COMPLETE"
    assert bc.totalIssues == 2
    assert bc.totalCompletedIssues == 1
    assert alice.issues[keys[0]].summary == "renamed in bulk"


def test_a_read_only_token_cannot_start_a_bulk_change(alice, bob):
    keys = new_issues(alice, 1)
    with pytest.raises(Forbidden):
        bob.bulkchange.update(keys, summary="nope")
    with pytest.raises(Forbidden):
        bob.bulkchange.transition(keys, "start_progress")
    with pytest.raises(Forbidden):
        bob.bulkchange.move(keys, S.MOVED_QUEUE["key"])
    assert alice.issues[keys[0]].version == 1


def test_another_organization_does_not_find_the_bulk_change(alice, mallory):
    keys = new_issues(alice, 1)
    bc = alice.bulkchange.update(keys, summary="ours")
    with pytest.raises(NotFound):
        mallory.bulkchange[bc.id]
    assert alice.bulkchange.wait(bc, interval=0.2).status == "COMPLETE"
