"""Queue automation through the official yandex_tracker_client's own
collections, unchanged: queue.collection.macros, .triggers, .autoactions
(collections.py: Macros, Triggers, AutoActions) — create, list, get, update,
delete — the queue's list properties queue.macros and queue.triggers, and a
trigger's webhook called when the client closes an issue.
"""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from yandex_tracker_client.exceptions import Forbidden, NotFound

import seeddata as S


def queue(client):
    return client.queues[S.ISSUES_QUEUE["key"]].collection


def name(prefix):
    return "%s %s" % (prefix, uuid.uuid4().hex[:8])


def test_a_macro_is_created_listed_read_updated_and_deleted(alice, bob):
    macros = queue(alice).macros
    macro = macros.create(
        name=name("triage"),
        body="Triaged by {{currentUser}}",
        fieldChanges=[{"field": "tags", "value": "triaged"}],
    )
    assert macro.queue.key == S.ISSUES_QUEUE["key"]
    assert macro.fieldChanges[0]["value"] == ["triaged"]
    assert macro.id in [m.id for m in macros.get_all()]
    assert macro.id in [m["id"] for m in alice.queues[S.ISSUES_QUEUE["key"]].macros]
    assert queue(alice).macros[macro.id].name == macro.name
    # bob reads the queue, so he reads its macros, but his token cannot change them.
    assert queue(bob).macros[macro.id].name == macro.name
    with pytest.raises(Forbidden):
        queue(bob).macros.create(name="nope")
    macro.update(name="renamed " + macro.name)
    assert queue(alice).macros[macro.id].name.startswith("renamed ")
    macro.delete()
    with pytest.raises(NotFound):
        queue(alice).macros[macro.id]


def test_a_trigger_is_created_listed_read_updated_with_its_version_and_deleted(alice):
    triggers = queue(alice).triggers
    trigger = triggers.create(
        name=name("on comment"),
        actions=[{"type": "CreateComment", "text": "seen {{issue.key}}"}],
        conditions=[{"type": "CommentStringMatchCondition", "word": "ping"}],
        active=False,
    )
    assert trigger.version == 1
    assert trigger.active is False
    assert trigger.id in [t.id for t in triggers.get_all()]
    assert trigger.id in [t["id"] for t in alice.queues[S.ISSUES_QUEUE["key"]].triggers]
    got = queue(alice).triggers[trigger.id]
    assert got.conditions[0]["word"] == "ping"
    got.update(name="renamed")
    again = queue(alice).triggers[trigger.id]
    assert again.name == "renamed"
    assert again.version == 2
    again.delete()
    with pytest.raises(NotFound):
        queue(alice).triggers[trigger.id]


def test_an_autoaction_is_created_listed_read_updated_and_deleted(alice):
    autoactions = queue(alice).autoactions
    action = autoactions.create(
        name=name("nag"),
        query="Priority: critical",
        actions=[{"type": "CreateComment", "text": "still critical"}],
        intervalMillis=3600000,
    )
    assert action.intervalMillis == 3600000
    assert action.totalIssuesProcessed == 0
    assert action.id in [a.id for a in autoactions.get_all()]
    got = queue(alice).autoactions[action.id]
    got.update(active=False)
    assert queue(alice).autoactions[action.id].active is False
    got = queue(alice).autoactions[action.id]
    got.delete()
    with pytest.raises(NotFound):
        queue(alice).autoactions[action.id]


class _Receiver(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        _Receiver.received.append(self.rfile.read(length).decode())
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/hook" % server.server_address[1]
    server.shutdown()


def test_closing_an_issue_calls_the_triggers_webhook_with_the_filled_body(alice, receiver):
    tag = uuid.uuid4().hex[:8]
    trigger = queue(alice).triggers.create(
        name=name("closed hook"),
        conditions=[
            {"type": "FieldBecameEqual", "field": "status", "value": "closed"},
            {"type": "FieldEquals", "field": "tags", "value": tag},
        ],
        actions=[{"type": "Webhook", "endpoint": receiver, "method": "POST",
                  "body": {"key": "{{issue.key}}", "status": "{{issue.status}}"}}],
    )
    try:
        issue = alice.issues.create(queue=S.ISSUES_QUEUE["key"], summary="hook me", tags=[tag])
        issue.transitions["close"].execute(resolution="fixed")
        deadline = time.time() + 15
        while not _Receiver.received and time.time() < deadline:
            time.sleep(0.1)
        assert _Receiver.received, "the webhook was not called"
        assert json.loads(_Receiver.received[0]) == {"key": issue.key, "status": "closed"}
    finally:
        queue(alice).triggers[trigger.id].delete()
