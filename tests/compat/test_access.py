"""The access layer, driven through the official yandex_tracker_client.

Every test talks to the real trackerd process started by conftest.py.
"""

from datetime import datetime, timedelta, timezone

import pytest
import requests
from yandex_tracker_client import TrackerClient
from yandex_tracker_client.exceptions import Forbidden, NotFound, TrackerServerError
from yandex_tracker_client.objects import SeekablePaginatedList

import seeddata as S


def parse_time(value):
    # "2025-01-01T00:00:00.123456789Z": Python wants at most microseconds.
    assert isinstance(value, str) and value.endswith("Z"), value
    head, _, frac = value[:-1].partition(".")
    stamp = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    if frac:
        assert frac.isdigit(), value
        stamp += timedelta(microseconds=int(frac[:6].ljust(6, "0")))
    return stamp


def assert_is_alice(me, base_url):
    assert me.login == "alice"
    assert isinstance(me.uid, int) and me.uid > 0
    assert me.display == "Alice Archer"
    assert me.firstName == "Alice"
    assert me.lastName == "Archer"
    assert me.email == "alice@acme.test"
    # The self link is absolute and names the user by uid.
    assert me.self == "%s/v2/users/%d" % (base_url, me.uid)


def test_myself_with_an_oauth_token_and_an_org_id_is_alice(alice, base_url):
    me = alice.myself
    assert_is_alice(me, base_url)
    # The same account as the one the users collection knows.
    assert alice.users.get("alice").uid == me.uid


def test_myself_with_an_oauth_token_and_a_cloud_org_id_is_alice(make_client, alice, base_url):
    client = make_client(token=S.ALICE_TOKEN, cloud_org_id=S.CLOUD_ORG_ID)
    headers = client._connection.session.headers
    # The client sends a placeholder X-Org-Id next to the cloud one.
    assert headers["X-Org-Id"] == "not provided"
    assert headers["X-Cloud-Org-Id"] == S.CLOUD_ORG_ID
    me = client.myself
    assert_is_alice(me, base_url)
    assert me.uid == alice.myself.uid


def test_an_oauth_token_exchanged_for_an_iam_token_works_with_a_cloud_org_id(base_url, alice):
    before = datetime.now(timezone.utc)
    r = requests.post(
        base_url + "/iam/v1/tokens",
        json={"yandexPassportOauthToken": S.ALICE_TOKEN},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    iam_token = body["iamToken"]
    assert isinstance(iam_token, str) and iam_token.startswith("t1.") and len(iam_token) > 10
    expires_at = parse_time(body["expiresAt"])
    assert before < expires_at <= before + timedelta(hours=12, minutes=1)

    client = TrackerClient(iam_token=iam_token, cloud_org_id=S.CLOUD_ORG_ID, base_url=base_url, timeout=30)
    assert client._connection.session.headers["Authorization"] == "Bearer " + iam_token
    me = client.myself
    assert_is_alice(me, base_url)
    assert me.uid == alice.myself.uid


def test_an_unknown_token_is_refused_with_401(make_client):
    client = make_client(token=S.BAD_TOKEN, org_id=S.ORG_ID)
    with pytest.raises(TrackerServerError) as caught:
        client.myself
    exc = caught.value
    assert exc.status_code == 401
    # Tracker's error envelope, as the client reads it.
    assert exc.error_messages, exc.response.text
    assert "WWW-Authenticate" in exc.response.headers


def test_a_token_of_another_organization_is_forbidden(make_client, mallory):
    # Organization 7000002 exists and works for its own member...
    assert mallory.myself.login == "mallory"
    # ...but not for alice, who belongs to 7000001 only.
    client = make_client(token=S.ALICE_TOKEN, org_id=S.OTHER_ORG_ID)
    with pytest.raises(Forbidden) as caught:
        client.myself
    assert caught.value.status_code == 403
    assert caught.value.error_messages, caught.value.response.text
    # The same through the other organization's cloud id.
    client = make_client(token=S.ALICE_TOKEN, cloud_org_id=S.OTHER_CLOUD_ORG_ID)
    with pytest.raises(Forbidden):
        client.myself


def test_an_unknown_organization_is_forbidden(make_client):
    client = make_client(token=S.ALICE_TOKEN, org_id=S.UNKNOWN_ORG_ID)
    with pytest.raises(Forbidden) as caught:
        client.myself
    assert caught.value.status_code == 403
    client = make_client(token=S.ALICE_TOKEN, cloud_org_id="bpfnosuchcloud")
    with pytest.raises(Forbidden):
        client.myself


def test_all_users_of_the_organization_are_listed_across_three_pages(alice):
    users = alice.users.get_all()
    # A first page with a `next` and a `seek` link becomes a seekable list.
    assert isinstance(users, SeekablePaginatedList), type(users)
    assert len(users) == len(S.ORG_LOGINS) == 132
    assert users.pages_count == 3

    logins = [u.login for u in users]
    assert len(logins) == 132, "iteration yielded %d users" % len(logins)
    assert len(set(logins)) == 132, "duplicates: %s" % sorted({x for x in logins if logins.count(x) > 1})
    assert set(logins) == set(S.ORG_LOGINS)
    assert "mallory" not in logins
    # Every item is a full user resource with its own uid.
    uids = [u.uid for u in users]
    assert all(isinstance(uid, int) for uid in uids)
    assert len(set(uids)) == 132


def test_a_page_of_users_can_be_fetched_by_number(alice):
    users = alice.users.get_all()
    assert isinstance(users, SeekablePaginatedList), type(users)

    pages = {}
    for number in (1, 2, 3):
        page = users.get_page(number)
        pages[number] = [u.login for u in page]
    # Pages 1 and 2 still have a next page; iterating them stays on the page.
    assert len(pages[1]) == 50
    assert len(pages[2]) == 50
    assert len(pages[3]) == 132 - 100
    assert len(users.get_page(2)) == 50

    seen = pages[1] + pages[2] + pages[3]
    assert len(set(seen)) == 132, "pages overlap"
    assert set(seen) == set(S.ORG_LOGINS)
    # The pages are in the order the list is iterated in.
    assert seen == [u.login for u in users]


def test_a_user_is_found_by_login_and_by_uid(alice):
    bob = alice.users.get("bob")
    assert bob.login == "bob"
    assert bob.display == "Bob Builder"
    assert bob.email == "bob@acme.test"
    assert isinstance(bob.uid, int)

    again = alice.users.get(bob.uid)
    assert again.login == "bob"
    assert again.uid == bob.uid
    # Indexing the collection is the same call.
    assert alice.users[bob.uid].login == "bob"
    assert alice.users["bob"].uid == bob.uid


def test_a_user_of_another_organization_is_not_found(alice, mallory):
    mallory_uid = mallory.myself.uid
    with pytest.raises(NotFound) as caught:
        alice.users.get("mallory")
    assert caught.value.status_code == 404
    with pytest.raises(NotFound):
        alice.users.get(mallory_uid)
    with pytest.raises(NotFound):
        alice.users.get("nobody-by-this-login")


def test_a_read_only_token_cannot_create_a_queue(bob, alice):
    with pytest.raises(Forbidden) as caught:
        bob.queues.create(key="BOBQ", name="Bob queue", lead="bob")
    assert caught.value.status_code == 403
    # Nothing was created.
    with pytest.raises(NotFound):
        alice.queues["BOBQ"]


def test_an_administrator_creates_a_queue_and_reads_it_back(alice, bob):
    me = alice.myself
    created = alice.queues.create(key="XQUEUE", name="Compat queue", lead="alice")
    assert created.key == "XQUEUE"
    assert created.name == "Compat queue"
    assert isinstance(created.id, int)
    assert created.lead.id == str(me.uid)
    assert created.lead.display == "Alice Archer"
    # Following the lead's self link fetches the user.
    assert created.lead.login == "alice"

    fetched = alice.queues["XQUEUE"]
    assert fetched.key == "XQUEUE"
    assert fetched.name == "Compat queue"
    assert fetched.id == created.id
    assert fetched.lead.id == str(me.uid)
    assert alice.queues.get("XQUEUE").id == created.id
    # A queue can be read by id as well as by key.
    assert alice.queues[created.id].key == "XQUEUE"

    # A read-only token reads it too.
    assert bob.queues["XQUEUE"].id == created.id


def test_a_plain_member_may_not_change_queue_settings(alice, member, base_url):
    """The seed's promise: a token can do what its account may, and a plain
    member may not change queue settings even with a write token."""
    alice.queues.create(key="SETTINGS", name="Settings", lead="alice")
    queue = member.queues["SETTINGS"]
    with pytest.raises(Forbidden) as caught:
        queue.update(name="Taken over")
    assert caught.value.status_code == 403
    assert alice.queues["SETTINGS"].name == "Settings"
    # The same member may still work with issues in the (open) queue.
    issue = member.issues.create(queue="SETTINGS", summary="members can file issues")
    assert issue.key == "SETTINGS-1"
    # Once the administrator grants it, the member may change the settings.
    granted = requests.patch(
        base_url + "/v2/queues/SETTINGS/permissions",
        json={"grant": {"users": {"add": ["u001"]}}},
        headers={"Authorization": "OAuth " + S.ALICE_TOKEN, "X-Org-ID": S.ORG_ID},
    )
    assert granted.status_code == 200, granted.text
    assert [u["display"] for u in granted.json()["grant"]["users"]] == ["User 001"]
    member.queues["SETTINGS"].update(name="Now allowed")
    assert alice.queues["SETTINGS"].name == "Now allowed"


def test_a_queue_keeps_to_its_issue_types_config(alice):
    """The reference's queue create with issueTypesConfig, unchanged: the
    queue offers those types only, and each type its resolutions only."""
    from yandex_tracker_client.exceptions import UnprocessableEntity

    queue = alice.queues.create(
        key="TYPED",
        name="Typed",
        lead="alice",
        defaultType="task",
        defaultPriority="normal",
        issueTypesConfig=[
            {"issueType": "task", "workflow": "default", "resolutions": ["fixed", "wontFix"]},
            {"issueType": "bug", "workflow": "default", "resolutions": ["fixed"]},
        ],
    )
    assert [t.key for t in queue.issueTypes] == ["task", "bug"]
    with pytest.raises(UnprocessableEntity):
        alice.issues.create(queue="TYPED", summary="an epic", type="epic")
    bug = alice.issues.create(queue="TYPED", summary="a bug", type="bug")
    with pytest.raises(UnprocessableEntity):
        bug.transitions["resolve"].execute(resolution="wontFix")
    bug.transitions["resolve"].execute(resolution="fixed")
    assert alice.issues[bug.key].resolution.key == "fixed"
