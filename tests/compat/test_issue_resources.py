"""What an issue carries besides comments and links: worklog and checklist
items, driven through the official yandex_tracker_client's own collections,
unchanged (issue.worklog, client.worklog, issue.checklist_items,
issue.add_checklist_item).
"""

import uuid

import pytest
from yandex_tracker_client.exceptions import Forbidden, PreconditionFailed

import seeddata as S


def new_issue(client):
    return client.issues.create(queue=S.ISSUES_QUEUE["key"], summary="compat %s" % uuid.uuid4().hex[:8])


def test_worklog_is_added_listed_updated_and_deleted_through_the_issue(alice):
    issue = new_issue(alice)
    record = issue.worklog.create(start="2021-09-21T15:30:00.000+0500", duration="P5DT20M", comment="design")
    assert record.duration == "P1WT20M"
    assert record.comment == "design"
    assert record.issue.key == issue.key
    assert record.createdBy.login == "alice"
    assert [w.id for w in issue.worklog] == [record.id]

    record.update(duration="PT2H")
    assert record.duration == "PT2H"
    assert record.version == 2
    assert alice.issues[issue.key].spent == "PT2H"

    stale = list(issue.worklog)[0]
    record.update(comment="again")
    with pytest.raises(PreconditionFailed):
        stale.update(comment="from a stale copy")

    record.delete()
    assert list(issue.worklog) == []
    assert getattr(alice.issues[issue.key], "spent", None) is None


def test_the_organization_worklog_is_found_by_author_and_time(alice, bob):
    issue = new_issue(alice)
    record = issue.worklog.create(start="2021-09-21T10:00:00.000+0000", duration="PT1H")
    found = alice.worklog.find(createdBy="alice")
    assert record.id in [w.id for w in found]
    # Other tests of the session may leave bob's records (an import): the
    # author filter must keep alice's out and bob's only.
    by_bob = list(bob.worklog.find(createdBy="bob"))
    assert record.id not in [w.id for w in by_bob]
    assert all(w.createdBy.login == "bob" for w in by_bob)


def test_checklist_items_are_added_listed_updated_and_deleted(alice, bob):
    issue = new_issue(alice)
    issue.add_checklist_item(text="write it")
    issue.checklist_items.create(text="test it", checked=True, assignee="alice")
    items = list(issue.checklist_items)
    assert [i.text for i in items] == ["write it", "test it"]
    assert items[1].checked is True
    assert items[1].assignee.login == "alice"

    items[0].update(checked=True)
    fresh = alice.issues[issue.key]
    assert fresh.checklistDone == 2
    assert fresh.checklistTotal == 2

    with pytest.raises(Forbidden):
        bob.issues[issue.key].add_checklist_item(text="not allowed")

    items[1].delete()
    assert [i.text for i in issue.checklist_items] == ["write it"]
