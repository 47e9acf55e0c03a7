"""The pytest plugin: one trackerd per session, reset before each test that
asks for it.

Fixtures:

- ``trackerd_server``: the session's :class:`trackerd.TrackerdServer`,
  started on first use;
- ``trackerd``: the same server, back in its seeded state for this test;
- ``tracker_client``: a ``yandex_tracker_client.TrackerClient`` for it.
"""

import pytest

from trackerd import DEFAULT_ORG_ID, DEFAULT_TOKEN, TrackerdServer


def pytest_addoption(parser):
    group = parser.getgroup("trackerd")
    group.addoption("--trackerd-seed", default=None,
                    help="a seed file for trackerd (default: one organization, one token, queue TEST)")
    group.addoption("--trackerd-bin", default=None, help="the trackerd binary (default: the wheel's)")
    parser.addini("trackerd_seed", "a seed file for trackerd", default=None)
    parser.addini("trackerd_org_id", "the organization id the seed gives", default=DEFAULT_ORG_ID)
    parser.addini("trackerd_token", "an OAuth token the seed gives", default=DEFAULT_TOKEN)


@pytest.fixture(scope="session")
def trackerd_server(pytestconfig):
    server = TrackerdServer(
        binary=pytestconfig.getoption("trackerd_bin"),
        seed=pytestconfig.getoption("trackerd_seed") or pytestconfig.getini("trackerd_seed"),
        org_id=pytestconfig.getini("trackerd_org_id"),
        token=pytestconfig.getini("trackerd_token"),
    )
    server.start()
    server.fresh = True
    yield server
    server.stop()


@pytest.fixture
def trackerd(trackerd_server):
    # A server just started is already in its seeded state.
    if not trackerd_server.fresh:
        trackerd_server.reset()
    trackerd_server.fresh = False
    return trackerd_server


@pytest.fixture
def tracker_client(trackerd):
    return trackerd.client()
