"""The plugin's own tests, run by scripts/test in a fresh virtualenv where
only the built wheel (and what it depends on) is installed. The first two
tests write; the third sees neither write: each test starts from the seed."""


def test_the_client_creates_an_issue_in_the_seeded_queue(tracker_client):
    issue = tracker_client.issues.create(queue="TEST", summary="Written by the first test")
    assert issue.key == "TEST-1"
    assert tracker_client.issues["TEST-1"].summary == "Written by the first test"


def test_a_second_test_starts_from_the_seed_again(tracker_client):
    issue = tracker_client.issues.create(queue="TEST", summary="Written by the second test")
    # Numbering starts over: the first test's issue is gone.
    assert issue.key == "TEST-1"
    assert tracker_client.issues["TEST-1"].summary == "Written by the second test"


def test_the_server_is_the_wheels_binary_and_the_queue_is_empty(trackerd):
    import os
    import sysconfig

    assert os.path.dirname(trackerd.binary) == sysconfig.get_path("scripts")
    found = trackerd.client().issues.find(filter={"queue": "TEST"})
    assert list(found) == []
    assert trackerd.get_json("/v2/myself")["login"] == "tester"
    # The resets between tests were the control plane's, not restarts.
    assert trackerd.restarts == 0
