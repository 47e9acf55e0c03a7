"""Fields an organization creates, driven through the official
yandex_tracker_client's own collections, unchanged: client.fields,
client.field_categories, a queue's collection.local_fields and local_fields,
and issues created, updated and found with custom fields.
"""

import uuid

import pytest
from yandex_tracker_client.exceptions import Forbidden, NotFound, PreconditionFailed, UnprocessableEntity

import seeddata as S

STRING = "ru.yandex.startrek.core.fields.StringFieldType"
SYSTEM = "000000000000000000000001"


def suffix():
    return uuid.uuid4().hex[:8]


def test_a_global_field_is_created_read_listed_and_renamed(alice, bob, mallory):
    fid = "compat%s" % suffix()
    field = alice.fields.create(
        name={"en": "Compat", "ru": "Совместимость"},
        id=fid,
        category=SYSTEM,
        type=STRING,
        optionsProvider={"type": "FixedListOptionsProvider", "values": ["one", "two"]},
    )
    assert field.id == fid
    assert field.name == "Compat"
    assert field.optionsProvider["values"] == ["one", "two"]
    assert fid in [f.id for f in alice.fields.get_all()]
    assert alice.fields[fid].version == 1

    field.update(name={"en": "Renamed", "ru": "Новое"})
    assert field.name == "Renamed"
    assert field.version == 2
    stale = alice.fields[fid]
    field.update(description="changed again")
    with pytest.raises(PreconditionFailed):
        stale.update(name={"en": "From a stale copy"})

    with pytest.raises(Forbidden):
        bob.fields.create(name={"en": "x"}, id="bob" + suffix(), category=SYSTEM, type=STRING)
    with pytest.raises(NotFound):
        mallory.fields[fid]


def test_a_field_category_is_created_and_listed(alice):
    category = alice.field_categories.create(name={"en": "Compat category", "ru": "Категория"}, order=400)
    assert category.name == "Compat category"
    assert category.version == 1
    assert category.id in [c.id for c in alice.field_categories.get_all()]
    fid = "withcat%s" % suffix()
    field = alice.fields.create(name={"en": "Categorised"}, id=fid, category=category.id, type=STRING)
    assert field.category.id == category.id


def test_a_local_field_is_created_through_the_queue_and_an_issue_uses_it(alice):
    queue = alice.queues[S.ISSUES_QUEUE["key"]]
    key = "stage%s" % suffix()
    local = queue.collection.local_fields.create(
        name={"en": "Stage", "ru": "Этап"},
        id=key,
        category=SYSTEM,
        type=STRING,
        optionsProvider={"type": "FixedListOptionsProvider", "values": ["alpha", "beta"]},
    )
    assert local.key == key
    assert local.id.endswith("--" + key)
    assert local.queue.key == S.ISSUES_QUEUE["key"]
    assert key in [f["key"] for f in queue.local_fields]
    assert queue.collection.local_fields[key].id == local.id
    local.update(name={"en": "Stage renamed"})
    assert local.version == 2

    issue = alice.issues.create(queue=S.ISSUES_QUEUE["key"], summary="compat local %s" % suffix(), **{key: "alpha"})
    assert issue[local.id] == "alpha"
    issue.update(**{local.id: "beta"})
    assert alice.issues[issue.key][local.id] == "beta"
    with pytest.raises(UnprocessableEntity):
        issue.update(**{local.id: "gamma"})

    found = alice.issues.find(query='%s.%s: beta' % (S.ISSUES_QUEUE["key"], key))
    assert [i.key for i in found] == [issue.key]


def test_an_issue_is_created_updated_and_found_with_a_global_field(alice):
    fid = "points%s" % suffix()
    alice.fields.create(
        name={"en": "Points"}, id=fid, category=SYSTEM, type="ru.yandex.startrek.core.fields.IntegerFieldType"
    )
    low = alice.issues.create(queue=S.ISSUES_QUEUE["key"], summary="low", **{fid: 1})
    high = alice.issues.create(queue=S.ISSUES_QUEUE["key"], summary="high", **{fid: 2})
    assert low[fid] == 1
    high.update(**{fid: 8})
    assert alice.issues[high.key][fid] == 8
    with pytest.raises(UnprocessableEntity):
        low.update(**{fid: "many"})

    found = alice.issues.find(filter={fid: 8})
    assert [i.key for i in found] == [high.key]
    ordered = alice.issues.find(query="%s: notEmpty()" % fid, order=["-" + fid])
    assert [i.key for i in ordered] == [high.key, low.key]
