"""Projects, portfolios and goals through the official yandex_tracker_client's
own collections, unchanged: client.project / client.portfolio / client.goal
(create, get with fields, update with the version, find, get_event_history,
delete), their comments, checklist_items, attachments and links, and the
older client.projects collection over the same projects.
"""

import uuid

import pytest
from yandex_tracker_client.exceptions import Forbidden, NotFound, PreconditionFailed

import seeddata as S


def name(prefix):
    return "%s %s" % (prefix, uuid.uuid4().hex[:8])


def new_project(client, **fields):
    fields.setdefault("summary", name("compat project"))
    fields.setdefault("queues", S.ISSUES_QUEUE["key"])
    return client.project.create(fields=fields)


def test_a_project_is_created_read_updated_found_and_deleted(alice):
    title = name("compat project")
    project = new_project(alice, summary=title, entityStatus="in_progress")
    assert project.entityType == "project"
    assert project.version == 1
    assert project.createdBy.login == "alice"

    got = alice.project.get(project.id, fields="summary,entityStatus,queues")
    assert got.fields["summary"] == title
    assert got.fields["entityStatus"] == "in_progress"
    assert got.fields["queues"][0].key == S.ISSUES_QUEUE["key"]

    got.update(fields={"summary": title + " v2"})
    assert got.version == 2
    again = alice.project.get(project.id, fields="summary")
    assert again.fields["summary"] == title + " v2"
    # The copy read before the change carries the old version.
    with pytest.raises(PreconditionFailed):
        project.update(fields={"summary": "stale"})

    found = alice.project.find(search_string=title, fields="summary", per_page=10)
    assert found["hits"] == 1
    assert found["values"][0].id == project.id

    events = project.get_event_history(per_page=10)
    assert [e["display"] for e in events["events"]] == ["Entity created", "Entity updated"]

    project.delete()
    with pytest.raises(NotFound):
        alice.project.get(project.id)


def test_a_portfolio_holds_a_project_and_goals_are_entities_too(alice):
    portfolio = alice.portfolio.create(fields={"summary": name("compat portfolio")})
    project = new_project(alice, parentEntity=portfolio.id)
    got = alice.project.get(project.id, fields="parentEntity")
    assert got.fields["parentEntity"].id == portfolio.id
    goal = alice.goal.create(fields={"summary": name("compat goal"), "entityStatus": "according_to_plan"})
    assert goal.entityType == "goal"
    assert alice.goal.get(goal.id).shortId == goal.shortId


def test_comments_on_a_project_are_added_listed_edited_and_deleted(alice):
    project = new_project(alice)
    comment = project.comments.create(text="first")
    assert comment.text == "first"
    assert [c.text for c in project.comments.get_all()] == ["first"]
    comment.update(text="first, edited")
    assert comment.text == "first, edited"
    comment.delete()
    assert list(project.comments.get_all()) == []


def test_a_projects_checklist_is_built_moved_and_cleared(alice):
    project = new_project(alice)
    project.checklist_items.create(text="one")
    answer = project.checklist_items.create(text="two", checked=True)
    items = answer.fields["checklistItems"]
    assert [i.text for i in items] == ["one", "two"]
    first, second = items[0].id, items[1].id
    moved = project.checklist_items.move_item(second, before=first)
    assert [i.text for i in moved.fields["checklistItems"]] == ["two", "one"]
    changed = project.checklist_items.update([{"id": first, "text": "one!"}])
    assert [i.text for i in changed.fields["checklistItems"]] == ["two", "one!"]
    left = project.checklist_items.delete_item(second)
    assert [i.text for i in left.fields["checklistItems"]] == ["one!"]
    cleared = project.checklist_items.delete()
    assert cleared.fields["checklistItems"] == []


def test_a_file_is_attached_to_a_project_listed_and_removed(alice, tmp_path):
    project = new_project(alice)
    path = tmp_path / "plan.txt"
    path.write_bytes(b"the plan")
    with open(str(path), "rb") as f:
        temporary = alice.attachments.create(f)
    answer = project.attachments.attach(temporary.id)
    assert [a.name for a in answer.attachments] == ["plan.txt"]
    listed = list(project.attachments.get_all())
    assert [a.id for a in listed] == [temporary.id]
    out = tmp_path / "out"
    out.mkdir()
    listed[0].download_to(str(out))
    assert (out / "plan.txt").read_bytes() == b"the plan"
    project.attachments.delete(temporary.id)
    assert list(project.attachments.get_all()) == []


def test_projects_are_linked_and_unlinked(alice):
    a = new_project(alice)
    b = new_project(alice)
    a.links.create(relationship="depends on", entity=b.id)
    links = list(b.links.get_all(fields="summary"))
    assert [(l["type"], l["linkFieldValues"]["id"]) for l in links] == [("is dependent by", a.id)]
    a.links.delete(right=b.id)
    assert list(a.links.get_all()) == []


def test_the_older_projects_collection_sees_the_same_projects(alice):
    old = alice.projects.create(name=name("compat old"), queues=S.ISSUES_QUEUE["key"], status="LAUNCHED")
    assert old.status == "launched"
    entity = alice.project.get(old.entityId, fields="summary,entityStatus")
    assert entity.fields["summary"] == old.name
    assert str(entity.shortId) == old.id

    old.update(name=old.name + " renamed")
    assert old.version == 2
    assert alice.project.get(old.entityId, fields="summary").fields["summary"] == old.name

    listed = [p.id for p in alice.projects.get_all(expand="queues")]
    assert old.id in listed
    assert alice.projects[old.id].name == old.name
    old.delete()
    with pytest.raises(NotFound):
        alice.projects[old.id]


def test_read_only_tokens_and_other_organizations_are_refused(alice, bob, mallory):
    project = new_project(alice)
    assert bob.project.get(project.id).id == project.id
    with pytest.raises(Forbidden):
        bob.project.create(fields={"summary": "x", "teamAccess": True})
    with pytest.raises(Forbidden):
        bob.project.get(project.id).update(fields={"summary": "x"})
    with pytest.raises(NotFound):
        mallory.project.get(project.id)
    assert mallory.project.find()["hits"] == 0


def test_projects_are_changed_together_by_the_clients_bulk_update(alice):
    projects = [new_project(alice) for _ in range(2)]
    bc = alice.project.bulk_update(
        [p.id for p in projects],
        {"fields": {"entityStatus": "at_risk"}, "comment": "The project is at risk"},
    )
    assert bc.status == "CREATED"
    bc = alice.bulkchange.wait(bc, interval=0.2)
    assert bc.status == "COMPLETE"
    assert bc.executionIssuePercent == 100
    for p in projects:
        got = alice.project.get(p.id, fields="entityStatus")
        assert got.fields["entityStatus"] == "at_risk"
        assert [c.text for c in got.comments] == ["The project is at risk"]


def test_a_project_is_imported_with_its_author_and_dates_by_import_object(alice):
    title = name("imported project")
    project = alice.project.import_object(
        fields={"summary": title, "queues": S.ISSUES_QUEUE["key"]},
        createdAt="2020-02-03T04:05:06.000+0000",
        createdBy="bob",
    )
    assert project.createdAt == "2020-02-03T04:05:06.000+0000"
    assert project.createdBy.login == "bob"
    got = alice.project.get(project.id, fields="summary")
    assert got.fields["summary"] == title
