"""Attachments through the official yandex_tracker_client's own API,
unchanged: issue.attachments.create(path), .get_all(), download_to(dir),
delete(), and client.attachments.create(file) + attachmentIds on issue
creation (the client's `attachments=[...]` argument uploads and sends them).
"""

import os
import uuid

import pytest
from yandex_tracker_client.exceptions import Forbidden, NotFound

import seeddata as S


def new_issue(client, **fields):
    return client.issues.create(queue=S.ISSUES_QUEUE["key"], summary="compat %s" % uuid.uuid4().hex[:8], **fields)


def test_a_file_is_attached_listed_downloaded_and_deleted_through_the_issue(alice, tmp_path):
    issue = new_issue(alice)
    content = bytes(range(256)) * 1000
    path = tmp_path / "report.bin"
    path.write_bytes(content)

    attachment = issue.attachments.create(str(path))
    assert attachment.name == "report.bin"
    assert attachment.size == len(content)
    assert attachment.createdBy.login == "alice"

    listed = list(issue.attachments.get_all())
    assert [a.id for a in listed] == [attachment.id]

    out = tmp_path / "out"
    out.mkdir()
    listed[0].download_to(str(out))
    assert (out / "report.bin").read_bytes() == content

    listed[0].delete()
    assert list(issue.attachments.get_all()) == []


def test_temporary_uploads_are_attached_when_an_issue_is_created(alice, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello from the client")
    with open(str(path), "rb") as f:
        temporary = alice.attachments.create(f)
    assert temporary.name == "notes.txt"
    assert temporary.mimetype == "text/plain"

    issue = new_issue(alice, attachmentIds=[temporary.id])
    names = [a.name for a in issue.attachments]
    assert names == ["notes.txt"]

    # The client's own convenience: attachments=[path] uploads, then sends attachmentIds.
    other = tmp_path / "second.txt"
    other.write_bytes(b"second")
    issue2 = new_issue(alice, attachments=[str(other)])
    assert [a.name for a in issue2.attachments] == ["second.txt"]


def test_a_read_only_token_cannot_attach_and_another_organization_sees_nothing(alice, bob, mallory, tmp_path):
    issue = new_issue(alice)
    path = tmp_path / "a.txt"
    path.write_bytes(b"a")
    issue.attachments.create(str(path))
    with pytest.raises(Forbidden):
        bob.issues[issue.key].attachments.create(str(path))
    with pytest.raises(NotFound):
        list(mallory.issues[issue.key].attachments)
