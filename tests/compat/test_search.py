"""Search through the official client: Issues.find with query, filter and
order, keys, count_only, page walking and scrolling.

The server is shared by the whole session, so each test marks its issues
with a tag of its own and searches by it.
"""

import uuid

import pytest
from yandex_tracker_client.exceptions import BadRequest
from yandex_tracker_client.objects import SeekablePaginatedList

import seeddata as S

QUEUE = S.ISSUES_QUEUE["key"]


@pytest.fixture
def tagged(alice):
    """Five issues with a fresh tag: priorities minor, normal, critical,
    minor, normal; the first two assigned to alice."""
    tag = "search%s" % uuid.uuid4().hex[:10]
    priorities = ["minor", "normal", "critical", "minor", "normal"]
    issues = []
    for n, priority in enumerate(priorities):
        fields = {"queue": QUEUE, "summary": "%s issue %d" % (tag, n), "tags": [tag], "priority": priority}
        if n < 2:
            fields["assignee"] = S.ALICE["login"]
        issues.append(alice.issues.create(**fields))
    return tag, [i.key for i in issues]


def test_find_with_a_query_uses_the_query_language(alice, tagged):
    tag, keys = tagged
    found = alice.issues.find(query='Queue: %s Tags: %s Assignee: me() "Sort by": Key DESC' % (QUEUE, tag))
    assert [i.key for i in found] == [keys[1], keys[0]]
    assert all(tag in i.tags for i in found)


def test_find_with_a_filter_and_order_sorts_as_asked(alice, tagged):
    tag, keys = tagged
    found = alice.issues.find(filter={"tags": tag, "priority": ["minor", "critical"]}, order=["-key"])
    assert [i.key for i in found] == [keys[3], keys[2], keys[0]]
    found = alice.issues.find(filter={"tags": tag, "assignee": "empty()"}, order=["+key"])
    assert [i.key for i in found] == keys[2:]


def test_find_with_keys_finds_exactly_those(alice, tagged):
    _, keys = tagged
    found = alice.issues.find(keys=[keys[4], keys[1]])
    assert sorted(i.key for i in found) == sorted([keys[1], keys[4]])
    assert [i.key for i in alice.issues.find(keys=keys[2])] == [keys[2]]


def test_find_with_count_only_answers_a_number(alice, bob, tagged):
    tag, _ = tagged
    assert alice.issues.find(filter={"tags": tag}, count_only=True) == 5
    assert alice.issues.find(query="Tags: %s Priority: Minor" % tag, count_only=True) == 2
    # A read-only token counts too.
    assert bob.issues.find(query="Tags: %s" % tag, count_only=True) == 5


def test_pages_are_walked_and_sought(alice, tagged):
    tag, keys = tagged
    found = alice.issues.find(query='Tags: %s "Sort by": Key ASC' % tag, per_page=2)
    assert isinstance(found, SeekablePaginatedList)
    assert len(found) == 5
    assert found.pages_count == 3
    assert [i.key for i in found] == keys, "iteration follows rel=next to the end"
    assert [i.key for i in found.get_page(3)] == keys[4:]


def test_a_scroll_is_walked_through_its_next_links(alice, tagged):
    tag, keys = tagged
    found = alice.issues.find(query='Tags: %s "Sort by": Key ASC' % tag, scrollType="sorted", perScroll=2)
    assert [i.key for i in found] == keys


def test_a_bad_query_is_a_400_naming_the_position(alice):
    with pytest.raises(BadRequest) as e:
        alice.issues.find(query="Queue: %s )" % QUEUE)
    assert "position" in str(e.value.error_messages)
