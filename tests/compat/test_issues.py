"""Issues, comments, transitions, links, changelog, moves, dictionaries and
queues, driven through the official yandex_tracker_client exactly as its
README uses them.

Every test creates the issues it works on in the seeded queue COMPAT, so the
tests do not depend on each other's order.
"""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from yandex_tracker_client.collections import Issues
from yandex_tracker_client.exceptions import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    TrackerServerError,
    UnprocessableEntity,
)
from yandex_tracker_client.objects import PaginatedList, Reference, Resource, SeekablePaginatedList

import seeddata as S

QUEUE = S.ISSUES_QUEUE["key"]
OTHER_QUEUE = S.MOVED_QUEUE["key"]


def new_issue(client, summary=None, **fields):
    fields.setdefault("queue", QUEUE)
    return client.issues.create(summary=summary or "compat %s" % uuid.uuid4().hex[:8], **fields)


def key_number(key, queue=QUEUE):
    prefix, _, number = key.partition("-")
    assert prefix == queue, key
    assert number.isdigit() and int(number) > 0, key
    return int(number)


def parse_tracker_time(value):
    # Tracker's format, the one Issues.date_format names: 2017-06-11T05:16:01.339+0000
    return datetime.strptime(value, Issues.date_format)


@pytest.fixture
def traced(make_client):
    """A fresh client for alice that records every request it sends."""
    client = make_client(token=S.ALICE_TOKEN, org_id=S.ORG_ID)
    sent = []

    def record(response, *args, **kwargs):
        sent.append((response.request.method, response.request.path_url, dict(response.request.headers),
                     response.status_code))

    client._connection.session.hooks["response"].append(record)
    client.sent = sent
    return client


# ------------------------------------------------------------------ issues


def test_an_issue_is_created_with_its_fields_and_read_back_by_key_and_by_id(alice, base_url):
    bob_uid = alice.users["bob"].uid
    alice_uid = alice.myself.uid
    before = datetime.now(timezone.utc) - timedelta(seconds=5)
    created = alice.issues.create(
        queue=QUEUE,
        summary="The login page crashes",
        description="Steps: open /login",
        type={"name": "Bug"},
        priority="critical",
        assignee="bob",
        followers=["alice"],
        tags=["compat", "login"],
    )
    assert isinstance(created, Resource)
    key_number(created.key)
    assert created.self == "%s/v2/issues/%s" % (base_url, created.key)
    assert created._path == "/v2/issues/%s" % created.key
    assert isinstance(created.id, str) and created.id
    assert created.version == 1
    assert created.summary == "The login page crashes"
    assert created.description == "Steps: open /login"
    assert created.type.key == "bug"
    assert created.type.display == "Bug"
    assert created.priority.key == "critical"
    assert created.status.key == "open"
    assert created.queue.key == QUEUE
    # Nested objects with a self link are references the client can follow.
    assert isinstance(created.queue, Reference)
    assert created.queue._path == "/v2/queues/%s" % QUEUE
    assert created.assignee.id == str(bob_uid)
    assert created.assignee.display == "Bob Builder"
    assert [f.id for f in created.followers] == [str(alice_uid)]
    assert created.createdBy.id == str(alice_uid)
    assert sorted(created.tags) == ["compat", "login"]
    # The client adds a random `unique` to every create; the server keeps it.
    assert isinstance(created.unique, str) and len(created.unique) == 32
    created_at = parse_tracker_time(created.createdAt)
    assert before <= created_at <= datetime.now(timezone.utc) + timedelta(seconds=5)

    fetched = alice.issues[created.key]
    assert fetched.id == created.id
    assert fetched.key == created.key
    assert fetched.summary == "The login page crashes"
    assert fetched.type.key == "bug"
    assert fetched.priority.key == "critical"
    assert fetched.version == 1
    # References are followed through their self links.
    assert fetched.assignee.login == "bob"
    assert fetched.queue.name == S.ISSUES_QUEUE["name"]
    assert fetched.queue.lead.login == "alice"
    # The issue is also found by its id.
    assert alice.issues[created.id].key == created.key
    assert alice.issues.get(created.key, fields="summary").summary == "The login page crashes"
    # The README's first example: a field the issue does not have reads as None.
    assert fetched.deadline is None
    assert parse_tracker_time(fetched.updatedAt) >= created_at


def test_issue_keys_are_consecutive_in_a_queue(alice):
    numbers = [key_number(new_issue(alice).key) for _ in range(3)]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_an_unknown_issue_is_not_found_and_a_read_only_token_cannot_create_one(alice, bob):
    with pytest.raises(NotFound) as caught:
        alice.issues["%s-999999" % QUEUE]
    assert caught.value.status_code == 404
    assert caught.value.error_messages

    with pytest.raises(Forbidden):
        bob.issues.create(queue=QUEUE, summary="bob may not write")
    # ...but bob reads issues.
    key = new_issue(alice, summary="readable by bob").key
    assert bob.issues[key].summary == "readable by bob"


def test_a_create_without_a_summary_is_refused_with_the_field_named(alice):
    with pytest.raises(TrackerServerError) as caught:
        alice.issues.create(queue=QUEUE, description="no summary")
    assert caught.value.status_code in (400, 422)
    assert "summary" in (caught.value.errors or {}), caught.value.response.text


def test_an_update_sends_the_version_and_changes_the_issue(traced):
    issue = new_issue(traced, summary="Before")
    assert issue.version == 1
    issue.update(summary="After", description="now described", priority="minor", tags={"add": ["x"]})
    # The client rewrites the object in place from the answer.
    assert issue.summary == "After"
    assert issue.description == "now described"
    assert issue.priority.key == "minor"
    assert issue.tags == ["x"]
    assert issue.version == 2

    patches = [s for s in traced.sent if s[0] == "PATCH"]
    assert len(patches) == 1
    method, path, headers, status = patches[0]
    assert path == "/v2/issues/%s" % issue.key
    assert headers["If-Match"] == '"1"'
    assert status == 200

    again = traced.issues[issue.key]
    assert again.summary == "After"
    assert again.version == 2
    # The version the object now holds is the one sent next.
    again.update(summary="After again")
    assert traced.sent[-1][0] == "PATCH" and traced.sent[-1][2]["If-Match"] == '"2"'
    assert again.version == 3


def test_an_update_with_a_stale_version_is_refused_and_changes_nothing(alice):
    issue = new_issue(alice, summary="Original")
    stale = alice.issues[issue.key]
    issue.update(summary="First writer wins")
    assert issue.version == 2

    # If-Match "1" (the client's way): 412.
    with pytest.raises(PreconditionFailed) as caught:
        stale.update(summary="Second writer loses")
    assert caught.value.status_code == 412
    assert caught.value.error_messages

    # ?version=1 without If-Match: 409.
    with pytest.raises(Conflict) as caught:
        stale.update(summary="Second writer loses", ignore_version_change=True, params={"version": 1})
    assert caught.value.status_code == 409

    current = alice.issues[issue.key]
    assert current.summary == "First writer wins"
    assert current.version == 2
    # ignore_version_change drops If-Match: the last writer wins.
    stale.update(summary="Forced", ignore_version_change=True)
    assert stale.summary == "Forced"
    assert stale.version == 3


def test_a_second_create_with_the_same_unique_returns_the_first_issue(alice):
    unique = "compat-unique-%s" % uuid.uuid4().hex
    first = new_issue(alice, summary="first", unique=unique)
    # The server answers 409; the client then asks _findByUnique.
    second = new_issue(alice, summary="second", unique=unique)
    assert second.key == first.key
    assert second.id == first.id
    assert second.summary == "first"
    assert second.unique == unique

    found = alice._connection.post(path="/v2/issues/_findByUnique", params={"unique": unique})
    assert found.key == first.key
    with pytest.raises(NotFound):
        alice._connection.post(path="/v2/issues/_findByUnique", params={"unique": "no-such-" + unique})


# ---------------------------------------------------------------- comments


def test_comments_are_created_and_iterated_across_pages(traced, base_url):
    alice = traced
    issue = new_issue(alice)
    texts = ["comment %d" % i for i in range(7)]
    created = [issue.comments.create(text=t) for t in texts]
    assert [c.text for c in created] == texts
    first = created[0]
    assert isinstance(first.id, int)
    assert first.self == "%s/v2/issues/%s/comments/%s" % (base_url, issue.key, first.id)
    assert first.createdBy.display == "Alice Archer"
    assert first.createdBy.login == "alice"
    parse_tracker_time(first.createdAt)

    # One page: a plain list.
    everything = issue.comments.get_all()
    assert [c.text for c in everything] == texts

    # Three per page: the client follows Link rel="next" to the end.
    del traced.sent[:]
    paged = issue.comments.get_all(perPage=3)
    assert isinstance(paged, PaginatedList), type(paged)
    assert not isinstance(paged, SeekablePaginatedList)
    assert [c.text for c in paged] == texts
    pages = [path for method, path, _, _ in traced.sent if "/comments" in path]
    assert len(pages) == 3, pages
    assert pages[0] == "/v2/issues/%s/comments/?perPage=3" % issue.key
    # The cursor is the last comment's id.
    assert pages[1] == "/v2/issues/%s/comments?id=%s&perPage=3" % (issue.key, created[2].id)
    assert len({c.id for c in paged}) == 7
    # Iterating the collection itself is get_all().
    assert [c.text for c in issue.comments] == texts

    # The issue counts them, and the commenter became a follower.
    fresh = alice.issues[issue.key]
    assert fresh.commentWithoutExternalMessageCount == 7
    assert alice.myself.login in [f.login for f in fresh.followers]


def test_a_comment_is_read_edited_and_deleted(alice, bob):
    issue = new_issue(alice)
    comment = issue.comments.create(text="first draft")
    again = issue.comments[comment.id]
    assert again.text == "first draft"
    assert again.id == comment.id

    again.update(text="second draft")
    assert again.text == "second draft"
    assert issue.comments[comment.id].text == "second draft"

    # bob's token is read-only: he reads it but cannot delete it.
    bobs_view = bob.issues[issue.key].comments[comment.id]
    assert bobs_view.text == "second draft"
    with pytest.raises(Forbidden):
        bobs_view.delete()

    again.delete()
    with pytest.raises(NotFound):
        issue.comments[comment.id]
    assert list(issue.comments) == []
    assert alice.issues[issue.key].commentWithoutExternalMessageCount == 0


# ------------------------------------------------------------- transitions


def test_transitions_are_listed_and_executed_up_to_resolved(alice):
    issue = new_issue(alice)
    available = issue.transitions.get_all()
    assert [t.id for t in available] == ["start_progress", "need_info", "resolve", "close"]

    start = issue.transitions["start_progress"]
    assert start.id == "start_progress"
    assert start.to.key == "inProgress"
    after = start.execute()
    # The answer is the list of transitions available from the new status.
    assert "stop_progress" in [t.id for t in after]
    assert "start_progress" not in [t.id for t in after]

    issue = alice.issues[issue.key]
    assert issue.status.key == "inProgress"
    assert issue.previousStatus.key == "open"

    # Resolving needs a resolution.
    with pytest.raises(UnprocessableEntity) as caught:
        issue.transitions["resolve"].execute()
    assert "resolution" in (caught.value.errors or {}), caught.value.response.text
    assert alice.issues[issue.key].status.key == "inProgress"

    after = issue.transitions["resolve"].execute(resolution="fixed", comment="Fixed in 1.2")
    assert [t.id for t in after] == ["reopen", "close"]
    issue = alice.issues[issue.key]
    assert issue.status.key == "resolved"
    assert issue.resolution.key == "fixed"
    parse_tracker_time(issue.resolvedAt)
    assert [c.text for c in issue.comments] == ["Fixed in 1.2"]

    # A transition not available in this status is not found.
    with pytest.raises(NotFound):
        issue.transitions["start_progress"]

    issue.transitions["reopen"].execute()
    issue = alice.issues[issue.key]
    assert issue.status.key == "open"
    assert issue.resolution is None


def test_an_issue_is_closed_with_a_comment_and_a_resolution_as_the_readme_does(alice):
    issue = alice.issues[new_issue(alice).key]
    transition = issue.transitions["close"]
    assert transition.to.key == "closed"
    after = transition.execute(comment="Fixed", resolution="fixed")
    assert [t.id for t in after] == ["reopen"]
    issue = alice.issues[issue.key]
    assert issue.status.key == "closed"
    assert issue.resolution.key == "fixed"
    assert [c.text for c in issue.comments.get_all()] == ["Fixed"]
    # An unknown resolution is refused and leaves the issue as it was.
    reopened = alice.issues[issue.key]
    reopened.transitions["reopen"].execute()
    with pytest.raises(UnprocessableEntity) as caught:
        reopened.transitions["close"].execute(resolution="no-such-resolution")
    assert "resolution" in (caught.value.errors or {}), caught.value.response.text
    assert alice.issues[issue.key].status.key == "open"


# ------------------------------------------------------------------- links


def test_a_link_is_created_seen_from_both_issues_and_deleted(alice, base_url):
    a = new_issue(alice, summary="A")
    b = new_issue(alice, summary="B")

    link = a.links.create(issue=b.key, relationship="relates")
    assert isinstance(link.id, int)
    assert link.self == "%s/v2/issues/%s/links/%s" % (base_url, a.key, link.id)
    assert link.type.id == "relates"
    assert link.direction == "outward"
    assert link.object.key == b.key
    assert link.object.display == "B"

    [from_a] = list(a.links)
    assert from_a.id == link.id
    assert from_a.object.key == b.key
    [from_b] = list(b.links)
    assert from_b.object.key == a.key
    assert from_b.type.id == "relates"

    # Linking the same pair again is refused.
    with pytest.raises(UnprocessableEntity):
        a.links.create(issue=b.key, relationship="relates")

    link.delete()
    assert list(a.links) == []
    assert list(b.links) == []

    # A directed type reads the other way round from the other issue.
    link = a.links.create(issue=b.key, relationship="depends on")
    assert link.type.id == "depends"
    assert link.direction == "outward"
    [from_b] = list(b.links)
    assert from_b.direction == "inward"
    assert from_b.type.inward == "is dependent by"
    assert from_b.object.key == a.key
    # Deleting it from the other issue's side removes it for both.
    from_b.delete()
    assert list(a.links) == []


def test_add_link_links_two_issues(alice):
    a = new_issue(alice)
    b = new_issue(alice)
    link = a.add_link("is subtask for", b.key)
    assert link.type.id == "subtask"
    assert link.direction == "inward"
    assert link.object.key == b.key
    [from_b] = list(b.links)
    assert from_b.direction == "outward"
    assert from_b.type.outward == "is parent task for"
    assert from_b.object.key == a.key


def test_a_link_is_fetched_by_id_and_deleted_as_the_readme_does(alice):
    a = new_issue(alice)
    b = new_issue(alice)
    created = a.links.create(issue=b.key, relationship="relates")
    link = a.links[created.id]
    assert link.id == created.id
    assert link.object.key == b.key
    link.delete()
    assert list(a.links) == []


def test_the_link_and_unlink_methods_add_and_remove_a_link(traced):
    a = new_issue(traced, summary="A")
    b = new_issue(traced, summary="B")
    c = new_issue(traced, summary="C")

    added = a.link(b.key, "relates")
    method, path, headers, status = traced.sent[-1]
    assert method == "LINK" and path == "/v2/issues/%s" % a.key
    assert headers["Link"] == '<%s>; rel="relates"' % b.key
    assert status == 201
    assert added.object.key == b.key
    assert added.type.id == "relates"

    # The resource may be the other issue's URL.
    a.link(c.self, "is dependent by")
    links = {l.object.key: l for l in a.links}
    assert sorted(links) == sorted([b.key, c.key])
    assert links[c.key].type.id == "depends"
    assert links[c.key].direction == "inward"
    [from_c] = list(c.links)
    assert from_c.direction == "outward"
    assert from_c.object.key == a.key

    assert a.unlink(b.key, "relates") is None
    method, path, headers, status = traced.sent[-1]
    assert (method, status) == ("UNLINK", 204)
    assert [l.object.key for l in a.links] == [c.key]
    assert list(b.links) == []

    a.unlink(c.key, "is dependent by")
    assert list(a.links) == []
    assert list(c.links) == []
    # Unlinking what is not linked: 404.
    with pytest.raises(NotFound):
        a.unlink(c.key, "is dependent by")


# --------------------------------------------------------------- changelog


def test_the_changelog_records_every_change_in_order(alice):
    me = alice.myself
    issue = new_issue(alice, summary="Old title")
    other = new_issue(alice)
    issue.update(summary="New title")
    issue.comments.create(text="a comment")
    issue.transitions["start_progress"].execute()
    issue.links.create(issue=other.key, relationship="relates")

    entries = list(alice.issues[issue.key].changelog)
    assert [e.type for e in entries] == [
        "IssueCreated",
        "IssueUpdated",
        "IssueCommentAdded",
        "IssueWorkflow",
        "IssueLinked",
    ]
    for e in entries:
        assert e.issue.key == issue.key
        assert e.updatedBy.id == str(me.uid)
        assert e._path == "/v2/issues/%s/changelog/%s" % (issue.key, e.id)
        parse_tracker_time(e.updatedAt)
    assert len({e.id for e in entries}) == 5

    updated = entries[1]
    [change] = updated.fields
    assert change["field"].id == "summary"
    assert change["from"] == "Old title"
    assert change["to"] == "New title"

    workflow = entries[3]
    status = next(f for f in workflow.fields if f["field"].id == "status")
    assert status["from"].key == "open"
    assert status["to"].key == "inProgress"

    linked = entries[4]
    assert linked.links[0]["object"].key == other.key
    # The other issue records the link too.
    assert [e.type for e in other.changelog] == ["IssueCreated", "IssueLinked"]


def test_the_changelog_is_paged_and_filtered(alice):
    issue = new_issue(alice, summary="v0")
    for i in range(1, 6):
        issue.update(summary="v%d" % i)

    paged = issue.changelog.get_all(perPage=2)
    assert isinstance(paged, PaginatedList), type(paged)
    entries = list(paged)
    assert len(entries) == 6
    assert len({e.id for e in entries}) == 6
    assert [e.type for e in entries] == ["IssueCreated"] + ["IssueUpdated"] * 5
    assert [e.fields[0]["to"] for e in entries[1:]] == ["v1", "v2", "v3", "v4", "v5"]
    assert [e.id for e in entries] == [e.id for e in issue.changelog]

    only_updates = list(issue.changelog.get_all(type="IssueUpdated", perPage=2))
    assert [e.fields[0]["from"] for e in only_updates] == ["v0", "v1", "v2", "v3", "v4"]
    issue.transitions["start_progress"].execute()
    only_status = list(issue.changelog.get_all(field="status"))
    assert [e.type for e in only_status] == ["IssueCreated", "IssueWorkflow"]


# -------------------------------------------------------------------- move


def test_a_moved_issue_gets_a_new_key_and_its_old_key_still_resolves(alice):
    issue = new_issue(alice, summary="Wrong queue", tags=["moving"])
    issue.comments.create(text="before the move")
    old_key = issue.key

    moved = issue.move_to(OTHER_QUEUE)
    assert isinstance(moved, Resource)
    key_number(moved.key, OTHER_QUEUE)
    assert moved.id == issue.id
    assert moved.queue.key == OTHER_QUEUE
    assert moved.summary == "Wrong queue"
    assert moved.tags == ["moving"]

    by_old_key = alice.issues[old_key]
    assert by_old_key.key == moved.key
    assert by_old_key.id == issue.id
    assert old_key in by_old_key.aliases
    # Comments come along, through either key.
    assert [c.text for c in alice.issues[moved.key].comments] == ["before the move"]
    assert [c.text for c in by_old_key.comments] == ["before the move"]

    # Moving into the queue the issue is in is refused.
    with pytest.raises(UnprocessableEntity):
        moved.move_to(OTHER_QUEUE)


# ------------------------------------------------------------ dictionaries


def dictionary(collection):
    items = collection.get_all()
    assert isinstance(items, list), type(items)
    assert all(isinstance(i, Resource) for i in items)
    return items


def test_the_priorities_are_tracker_standard_ones(alice, base_url):
    items = dictionary(alice.priorities)
    assert [p.key for p in items] == ["trivial", "minor", "normal", "critical", "blocker"]
    critical = alice.priorities["critical"]
    assert critical.name == "Critical"
    assert alice.priorities[critical.id].key == "critical"
    assert critical.self == "%s/v2/priorities/%s" % (base_url, critical.id)
    with pytest.raises(NotFound):
        alice.priorities["no-such-priority"]


def test_the_statuses_issue_types_and_resolutions_are_tracker_standard_ones(alice):
    statuses = [s.key for s in dictionary(alice.statuses)]
    for key in ("open", "inProgress", "needInfo", "resolved", "closed"):
        assert key in statuses
    assert alice.statuses["inProgress"].name == "In progress"

    types = {t.key: t for t in dictionary(alice.issue_types)}
    for key in ("bug", "task", "newFeature", "epic", "improvement"):
        assert key in types
    assert types["bug"].name == "Bug"
    assert alice.issue_types[types["bug"].id].key == "bug"

    resolutions = [r.key for r in dictionary(alice.resolutions)]
    for key in ("fixed", "wontFix", "duplicate", "invalid", "later"):
        assert key in resolutions
    assert alice.resolutions["fixed"].name == "Fixed"


def test_the_link_types_name_both_directions(alice):
    types = {t.id: t for t in dictionary(alice.linktypes)}
    assert types["relates"].outward == types["relates"].inward == "relates"
    assert (types["depends"].outward, types["depends"].inward) == ("depends on", "is dependent by")
    assert (types["subtask"].outward, types["subtask"].inward) == ("is parent task for", "is subtask for")
    assert (types["duplicates"].outward, types["duplicates"].inward) == ("duplicates", "is duplicated by")


def test_the_global_fields_describe_the_issue_fields(alice):
    fields = {f.id: f for f in dictionary(alice.fields)}
    for name in ("summary", "description", "type", "priority", "status", "assignee", "followers", "tags"):
        assert name in fields, name
    assert fields["summary"].name == "Summary"
    assert fields["summary"].schema["type"] == "string"
    assert fields["followers"].schema["type"] == "array"
    assert alice.fields["priority"].name == "Priority"
    with pytest.raises(NotFound):
        alice.fields["noSuchField"]
    # The Issues collection builds its field list from this call.
    assert "summary" in alice.issues.fields


# ------------------------------------------------------------------ queues


def test_the_seeded_queues_are_listed(alice):
    queues = {q.key: q for q in alice.queues.get_all()}
    for spec in (S.ISSUES_QUEUE, S.MOVED_QUEUE):
        q = queues[spec["key"]]
        assert q.name == spec["name"]
        assert q.lead.login == spec["lead"]
    assert queues[QUEUE].description == S.ISSUES_QUEUE["description"]
    assert queues[QUEUE].defaultType.key == "task"
    assert queues[QUEUE].defaultPriority.key == "normal"
    assert alice.queues[QUEUE].id == queues[QUEUE].id
    # The README slices the list: one page comes back as a plain list.
    first = alice.queues.get_all()[:3]
    assert len(first) == min(3, len(queues))
    assert all(q.key in queues for q in first)


def test_a_paged_list_of_queues_is_read_page_by_page(alice):
    # One queue per page, so the few queues the suite has span several pages.
    total = len(list(alice.queues.get_all(perPage=100)))
    assert total >= 2
    queues = alice.queues.get_all(perPage=1)
    assert isinstance(queues, SeekablePaginatedList), type(queues)
    assert len(queues) == total
    assert queues.pages_count == total

    keys = [q.key for q in queues]
    assert len(keys) == total == len(set(keys))
    pages = [[q.key for q in queues.get_page(n)] for n in range(1, total + 1)]
    assert all(len(p) == 1 for p in pages)
    assert [p[0] for p in pages] == keys
    for key in S.SEEDED_QUEUE_KEYS:
        assert key in keys


# ------------------------------------------------- fields the client relies on


def test_a_subtask_is_created_inheriting_the_parents_tags(alice):
    parent = new_issue(alice, tags=["inherited"])
    sub = parent.create_subtask(summary="a subtask")
    key_number(sub.key)
    assert sub.parent.key == parent.key
    assert sub.tags == ["inherited"]
    assert sub.queue.key == QUEUE


def test_a_subtask_is_created_without_inheriting(alice):
    parent = new_issue(alice)
    sub = parent.create_subtask(summary="a plain subtask", inherit=False)
    assert sub.parent.key == parent.key
    assert sub.queue.key == QUEUE
    assert alice.issues[sub.key].parent.key == parent.key


def test_an_untagged_issue_has_an_empty_list_of_tags(alice):
    issue = new_issue(alice)
    assert alice.fields["tags"].schema["type"] == "array"
    assert issue.tags == []
