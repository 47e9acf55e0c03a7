"""Components and versions through the official client's `client.components`,
`client.versions` and `queue.components` / `queue.versions`, and issues that
refer to them (`issue.update(components=[...])`).

Names carry a random suffix: the server is shared by the whole session.
"""

import uuid

import pytest
from yandex_tracker_client.exceptions import Conflict, Forbidden, NotFound, UnprocessableEntity

import seeddata as S

QUEUE = S.ISSUES_QUEUE["key"]


def id_of(obj):
    return obj["id"] if isinstance(obj, dict) else obj.id


def unique(name):
    return "%s %s" % (name, uuid.uuid4().hex[:8])


def test_a_component_is_created_read_updated_listed_and_deleted(alice):
    name = unique("Backend")
    component = alice.components.create(queue=QUEUE, name=name, lead="alice", description="APIs")
    assert isinstance(component.id, int)
    assert component.name == name
    assert component.queue.key == QUEUE
    assert component.lead.id
    assert component.assignAuto is False

    again = alice.components[component.id]
    assert again.name == name and again.version == 1

    again.update(description="changed")
    assert again.description == "changed"
    assert again.version == 2

    assert component.id in [c.id for c in alice.components.get_all()]
    assert component.id in [id_of(c) for c in alice.queues[QUEUE].components]

    again.delete()
    with pytest.raises(NotFound):
        alice.components[component.id]


def test_a_version_is_created_read_and_updated(alice):
    name = unique("1.0")
    version = alice.versions.create(queue=QUEUE, name=name, startDate="2023-10-03", dueDate="2024-06-03")
    assert version.name == name
    assert version.startDate == "2023-10-03"
    assert version.released is False

    again = alice.versions[version.id]
    again.update(released=True)
    assert again.released is True
    assert version.id in [id_of(v) for v in alice.queues[QUEUE].versions]


def test_names_are_unique_in_a_queue_and_writes_need_the_queue_admin(alice, bob):
    name = unique("Frontend")
    alice.components.create(queue=QUEUE, name=name)
    with pytest.raises(Conflict):
        alice.components.create(queue=QUEUE, name=name.upper())
    with pytest.raises(UnprocessableEntity):
        alice.components.create(queue=QUEUE)
    with pytest.raises(Forbidden):
        bob.components.create(queue=QUEUE, name=unique("bob's"))


def test_an_issue_refers_to_components_and_versions(alice):
    component = alice.components.create(queue=QUEUE, name=unique("Core"))
    version = alice.versions.create(queue=QUEUE, name=unique("2.0"))
    issue = alice.issues.create(queue=QUEUE, summary="with a component", components=[component.id])
    assert [c.id for c in issue.components] == [str(component.id)]
    assert issue.components[0].display == component.name
    # A reference resolves to the component itself.
    assert issue.components[0].name == component.name

    issue.update(fixVersions=[version.name], components={"remove": [component.id]})
    assert issue.components == []
    assert [v.display for v in issue.fixVersions] == [version.name]

    found = alice.issues.find(query='Queue: %s AND "Fix Version": "%s"' % (QUEUE, version.name))
    assert [i.key for i in found] == [issue.key]

    with pytest.raises(UnprocessableEntity):
        issue.update(components=["no such component"])
