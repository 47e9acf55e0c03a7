"""Boards, their columns and sprints, and saved filters through the official
yandex_tracker_client's own collections, unchanged: client.boards,
board.columns, board.sprints, client.sprints, client.filters, and
issues.find(filter_id=...).
"""

import uuid

import pytest
from yandex_tracker_client.exceptions import Forbidden, NotFound, PreconditionFailed

import seeddata as S

QUEUE = S.ISSUES_QUEUE["key"]


def unique(prefix):
    return "%s %s" % (prefix, uuid.uuid4().hex[:8])


def test_a_board_is_created_read_edited_and_deleted(alice):
    name = unique("board")
    board = alice.boards.create(name=name, defaultQueue=QUEUE, filter={"queue": QUEUE})
    assert board.name == name
    assert board.version == 1
    assert board.filter == {"queue": QUEUE}
    # `board.columns` is the client's BoardColumns collection of the board.
    assert len(list(board.columns)) == 6

    again = alice.boards[board.id]
    assert again.name == name
    assert board.id in [b.id for b in alice.boards.get_all()]

    # The client sends If-Match with the version it read.
    board.update(name=name + " renamed")
    assert board.version == 2
    assert alice.boards[board.id].name == name + " renamed"
    with pytest.raises(PreconditionFailed):
        again.update(name="stale")

    board.delete()
    with pytest.raises(NotFound):
        alice.boards[board.id]


def test_a_boards_columns_are_created_edited_and_deleted_through_the_board(alice):
    board = alice.boards.create(
        name=unique("kanban"), defaultQueue=QUEUE, columns=[{"name": "Todo", "statuses": ["open"]}]
    )
    column = board.columns.create(name="Doing", statuses=["inProgress", "inReview"])
    assert column.name == "Doing"
    assert [s.key for s in column.statuses] == ["inProgress", "inReview"]

    names = [c.name for c in board.columns.get_all()]
    assert names == ["Todo", "Doing"]
    assert board.columns[column.id].name == "Doing"

    column.update(name="Review")
    assert column.name == "Review"
    assert board.columns[column.id].name == "Review"

    column.delete()
    assert [c.name for c in board.columns.get_all()] == ["Todo"]


def test_sprints_are_created_on_a_board_and_issues_are_planned_into_them(alice):
    board = alice.boards.create(name=unique("scrum"), defaultQueue=QUEUE)
    sprint = alice.sprints.create(
        name=unique("sprint"), board={"id": str(board.id)}, startDate="2030-01-01", endDate="2030-01-14"
    )
    assert sprint.status == "draft"
    assert str(sprint.board.id) == str(board.id)
    assert sprint.startDate == "2030-01-01"

    assert alice.sprints[sprint.id].name == sprint.name
    assert [s.id for s in board.sprints.get_all()] == [sprint.id]
    assert sprint.id in [s.id for s in alice.sprints.get_all()]

    issue = alice.issues.create(queue=QUEUE, summary=unique("story"), sprint=[{"id": str(sprint.id)}])
    assert [str(s.id) for s in issue.sprint] == [str(sprint.id)]
    # A sprint reference resolves to the sprint itself.
    assert issue.sprint[0].name == sprint.name
    found = alice.issues.find(query='Sprint: "%s"' % sprint.name)
    assert [i.key for i in found] == [issue.key]

    issue.update(sprint=None)
    assert not getattr(issue, "sprint", None)


def test_a_boards_issues_are_found_through_its_filter(alice):
    summary = unique("on the board")
    issue = alice.issues.create(queue=QUEUE, summary=summary)
    board = alice.boards.create(name=unique("board"), defaultQueue=QUEUE, query='Summary: "%s"' % summary)
    found = alice.issues.find(filter={"boards": board.id})
    assert [i.key for i in found] == [issue.key]


def test_a_saved_filter_is_created_used_edited_and_deleted(alice, bob):
    summary = unique("saved")
    first = alice.issues.create(queue=QUEUE, summary=summary)
    second = alice.issues.create(queue=QUEUE, summary=summary)
    saved = alice.filters.create(name=unique("filter"), query='Summary: "%s" "Sort by": key DESC' % summary)
    assert saved.owner.login == "alice"

    assert [i.key for i in alice.issues.find(filter_id=saved.id)] == [second.key, first.key]
    assert alice.issues.find(filter_id=saved.id, count_only=True) == 2
    assert saved.id in [f.id for f in alice.filters.get_all()]

    saved.update(name="renamed")
    assert alice.filters[saved.id].name == "renamed"

    # Another member neither sees nor uses it.
    with pytest.raises(NotFound):
        bob.filters[saved.id]
    assert saved.id not in [f.id for f in bob.filters.get_all()]

    saved.delete()
    with pytest.raises(NotFound):
        alice.filters[saved.id]


def test_a_read_only_token_reads_boards_but_changes_nothing(alice, bob, mallory):
    board = alice.boards.create(name=unique("board"), defaultQueue=QUEUE)
    assert bob.boards[board.id].name == board.name
    with pytest.raises(Forbidden):
        bob.boards.create(name="x", defaultQueue=QUEUE)
    with pytest.raises(Forbidden):
        bob.boards[board.id].update(name="x")
    with pytest.raises(NotFound):
        mallory.boards[board.id]
