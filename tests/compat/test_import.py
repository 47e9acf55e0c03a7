"""Import and templates through the official yandex_tracker_client,
unchanged: issues.import_object, issue.comments.import_object,
issue.links.import_object, issue.worklog.import_object (POST …/_import), and client.issue_templates /
client.comment_templates (/v2/issueTemplates, /v2/commentTemplates).
"""

import uuid

import pytest
from yandex_tracker_client.exceptions import Forbidden, PreconditionFailed, UnprocessableEntity

import seeddata as S

CREATED = "2017-08-29T12:34:41.740+0000"
UPDATED = "2017-09-09T11:24:31.140+0000"


def imported(client, **fields):
    body = dict(
        queue=S.ISSUES_QUEUE["key"],
        summary="imported %s" % uuid.uuid4().hex[:8],
        createdAt=CREATED,
        createdBy="bob",
        updatedAt=UPDATED,
        updatedBy="alice",
    )
    body.update(fields)
    return client.issues.import_object(**body)


def test_an_issue_is_imported_with_its_author_and_dates(alice):
    unique = "legacy-%s" % uuid.uuid4().hex
    issue = imported(
        alice,
        unique=unique,
        resolvedAt="2017-09-08T09:33:42.250+0000",
        resolvedBy="alice",
        resolution="fixed",
        status="closed",
        tags=["legacy"],
    )
    assert issue.createdAt == CREATED
    assert issue.updatedAt == UPDATED
    assert issue.createdBy.login == "bob"
    assert issue.updatedBy.login == "alice"
    assert issue.resolvedBy.login == "alice"
    assert issue.status.key == "closed"
    assert issue.resolution.key == "fixed"
    assert alice.issues[issue.key].unique == unique
    found = alice.issues.find(query='Created: "2017-08-29"')
    assert issue.key in [i.key for i in found]


def test_an_issue_import_with_a_missing_author_is_refused(alice):
    with pytest.raises(UnprocessableEntity):
        alice.issues.import_object(queue=S.ISSUES_QUEUE["key"], summary="x", createdAt=CREATED)


def test_only_an_administrator_imports_issues(member):
    with pytest.raises(Forbidden):
        imported(member)


def test_comments_and_links_are_imported_with_their_authors_and_dates(alice):
    issue = imported(alice)
    other = imported(alice)
    comment = issue.comments.import_object(text="old words", createdAt="2017-09-01T10:00:00.000+0000", createdBy="bob")
    assert comment.createdBy.login == "bob"
    assert comment.createdAt == "2017-09-01T10:00:00.000+0000"
    assert [c.text for c in issue.comments] == ["old words"]

    link = issue.links.import_object(
        relationship="relates", issue=other.key, createdAt="2017-09-02T10:00:00.000+0000", createdBy="bob"
    )
    assert link.object.key == other.key
    assert link.createdAt == "2017-09-02T10:00:00.000+0000"
    assert [l.object.key for l in other.links] == [issue.key]
    assert alice.issues[issue.key].updatedAt == UPDATED


def test_worklog_is_imported_with_its_author_and_dates(alice):
    issue = imported(alice)
    record = issue.worklog.import_object(
        start="2017-09-01T09:00:00.000+0000",
        duration="PT2H",
        comment="old work",
        createdAt="2017-09-01T10:00:00.000+0000",
        createdBy="bob",
    )
    assert record.createdBy.login == "bob"
    assert record.createdAt == "2017-09-01T10:00:00.000+0000"
    assert record.duration == "PT2H"
    assert [w.comment for w in issue.worklog] == ["old work"]
    fresh = alice.issues[issue.key]
    assert fresh.spent == "PT2H"
    assert fresh.updatedAt == UPDATED


def test_issue_templates_are_created_read_edited_and_deleted(alice, bob):
    template = alice.issue_templates.create(
        name="Incident %s" % uuid.uuid4().hex[:6],
        fieldTemplates={"summary": "Outage: ", "priority": "critical"},
    )
    assert template.fieldTemplates["priority"] == "critical"
    assert template.id in [t.id for t in alice.issue_templates]
    assert bob.issue_templates[template.id].name == template.name

    template.update(name="Renamed")
    assert template.name == "Renamed"
    assert template.version == 2
    stale = alice.issue_templates[template.id]
    template.update(name="Again")
    with pytest.raises(PreconditionFailed):
        stale.update(name="From a stale copy")
    template.delete()
    assert template.id not in [t.id for t in alice.issue_templates]


def test_comment_templates_carry_text_and_summonees(alice, member):
    template = alice.comment_templates.create(name="Logs", template="Please attach the logs.", summonees=["bob"])
    assert template.template == "Please attach the logs."
    assert [u.login for u in template.summonees] == ["bob"]
    with pytest.raises(Forbidden):
        member.comment_templates.create(name="mine", template="t")
    template.delete()
