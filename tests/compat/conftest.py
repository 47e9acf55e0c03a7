"""Starts one real trackerd process per pytest session.

TRACKERD_COMPAT_BACKEND picks the database: `sqlite` (the default; a file in
the session's temporary directory) or `postgres` (a fresh database
`trackerd_t_compat_<random>` created through TRACKERD_TEST_POSTGRES_URL and
dropped at the end). TRACKERD_COMPAT_BIN names the binary (default:
target/debug/trackerd of this checkout).
"""

import json
import os
import queue
import re
import secrets
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

import seeddata as S

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 120  # seconds; a debug build migrating PostgreSQL on 2 busy cores
STOP_TIMEOUT = 30
LISTENING = re.compile(r"^trackerd listening on (http://\S+)\s*$")


def _user(spec, admin=False, tokens=()):
    user = dict(spec)
    user["admin"] = admin
    if tokens:
        user["tokens"] = [{"token": t, "scopes": list(scopes)} for t, scopes in tokens]
    return user


def seed_document():
    """The seed file's content. Keys follow docs/seed.example.yaml exactly
    (the server rejects unknown ones)."""
    filler = [
        {
            "login": login,
            "first_name": "User",
            "last_name": login[1:],
            "email": "%s@acme.test" % login,
        }
        for login in S.FILLER_LOGINS
    ]
    filler[0]["tokens"] = [{"token": S.MEMBER_TOKEN, "scopes": ["tracker:read", "tracker:write"]}]
    return {
        "organizations": [
            {
                "id": S.ORG_ID,
                "cloud_id": S.CLOUD_ORG_ID,
                "name": S.ORG_NAME,
                "users": [
                    _user(S.ALICE, admin=True, tokens=[(S.ALICE_TOKEN, ["tracker:read", "tracker:write"])]),
                    _user(S.BOB, admin=False, tokens=[(S.BOB_TOKEN, ["tracker:read"])]),
                ]
                + filler,
                "queues": [dict(S.ISSUES_QUEUE), dict(S.MOVED_QUEUE)],
            },
            {
                "id": S.OTHER_ORG_ID,
                "cloud_id": S.OTHER_CLOUD_ORG_ID,
                "name": S.OTHER_ORG_NAME,
                "users": [
                    _user(S.MALLORY, admin=True, tokens=[(S.MALLORY_TOKEN, ["tracker:read", "tracker:write"])]),
                ],
            },
        ]
    }


def to_yaml(value, indent=0):
    """A tiny YAML writer for dicts, lists and strings/bools. Strings are
    written as JSON strings, which YAML reads as the same strings."""
    pad = "  " * indent
    lines = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                lines.append("%s%s:" % (pad, k))
                lines.append(to_yaml(v, indent + 1))
            else:
                lines.append("%s%s: %s" % (pad, k, _scalar(v)))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                body = to_yaml(item, indent + 1).splitlines()
                lines.append("%s- %s" % (pad, body[0].lstrip()))
                lines.extend(body[1:])
            else:
                lines.append("%s- %s" % (pad, _scalar(item)))
    else:
        raise TypeError(value)
    return "\n".join(lines)


def _scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[%s]" % ", ".join(_scalar(x) for x in v)
    if isinstance(v, dict):
        return "{}"
    return json.dumps(str(v))


# ---------------------------------------------------------------- databases


def _psql(url, sql):
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        check=True,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="session")
def backend():
    name = os.environ.get("TRACKERD_COMPAT_BACKEND", "sqlite")
    if name not in ("sqlite", "postgres"):
        raise pytest.UsageError("TRACKERD_COMPAT_BACKEND must be sqlite or postgres, not %r" % name)
    return name


@pytest.fixture(scope="session")
def database_dsn(backend, tmp_path_factory):
    if backend == "sqlite":
        yield "sqlite://%s" % (tmp_path_factory.mktemp("db") / "trackerd.db")
        return
    admin_url = os.environ.get("TRACKERD_TEST_POSTGRES_URL")
    if not admin_url:
        raise pytest.UsageError("TRACKERD_COMPAT_BACKEND=postgres needs TRACKERD_TEST_POSTGRES_URL")
    name = "trackerd_t_compat_%s" % secrets.token_hex(6)
    _psql(admin_url, 'CREATE DATABASE "%s"' % name)
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path="/" + name))
    finally:
        _psql(admin_url, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


# ------------------------------------------------------------------- server


@dataclass
class Server:
    base_url: str
    backend: str
    dsn: str
    workdir: Path
    stdout_log: Path
    stderr_log: Path
    control_token: str


_server_logs = []  # for the terminal summary when something failed


def _dump(path, label, last=None):
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return
    if last is not None:
        lines = lines[-last:]
    sys.stderr.write("----- trackerd %s (%s) -----\n" % (label, path))
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.write("----- end of trackerd %s -----\n" % label)


@pytest.fixture(scope="session")
def server(backend, database_dsn, tmp_path_factory):
    binary = Path(os.environ.get("TRACKERD_COMPAT_BIN", REPO / "target" / "debug" / "trackerd"))
    if not binary.is_file():
        raise pytest.UsageError("%s does not exist: run `cargo build -p trackerd` (tests/compat/run does)" % binary)

    workdir = tmp_path_factory.mktemp("trackerd")
    seed = workdir / "seed.yaml"
    seed.write_text(to_yaml(seed_document()) + "\n")
    stdout_log = workdir / "trackerd.stdout.log"
    stderr_log = workdir / "trackerd.stderr.log"
    _server_logs.append(stderr_log)

    # trackerd reads TRACKERD_* variables as configuration (and warns about
    # ones it does not know, TRACKERD_COMPAT_BACKEND among them), so the
    # child gets none: everything it needs is on its command line.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKERD_")}
    # Except automation's: test_automation.py's webhook receiver listens on
    # loopback, which trackerd refuses by default; a short tick delivers fast.
    env["TRACKERD_AUTOMATION__ALLOW_PRIVATE_WEBHOOK_TARGETS"] = "true"
    env["TRACKERD_AUTOMATION__TICK_MS"] = "100"
    # TRACKERD_COMPAT_LOG: trackerd's log filter for this run, e.g.
    # `info,sqlx::query=trace` to see every statement of a failing test.
    if os.environ.get("TRACKERD_COMPAT_LOG"):
        env["TRACKERD_LOG"] = os.environ["TRACKERD_COMPAT_LOG"]
    # The emulator's control plane (docs/emulator.md), for test_emulator.py:
    # a fresh admin token each session, given to the child alone.
    control_token = "compat-control-%s" % secrets.token_hex(16)
    env["TRACKERD_CONTROL_TOKEN"] = control_token
    cmd = [
        str(binary), "serve",
        "--listen", "127.0.0.1:0",
        "--database", database_dsn,
        "--seed", str(seed),
    ]
    with open(stderr_log, "wb") as err:
        proc = subprocess.Popen(
            cmd, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=err,
        )

    found = queue.Queue()

    def pump():
        # Reads stdout to the end so the server never blocks on a full pipe.
        with open(stdout_log, "w") as out:
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace")
                out.write(line)
                out.flush()
                m = LISTENING.match(line)
                if m:
                    found.put(m.group(1))
        found.put(None)

    threading.Thread(target=pump, name="trackerd-stdout", daemon=True).start()

    try:
        base_url = found.get(timeout=STARTUP_TIMEOUT)
    except queue.Empty:
        base_url = None
    if base_url is None:
        proc.kill()
        code = proc.wait()
        _dump(stdout_log, "stdout")
        _dump(stderr_log, "stderr")
        # The error itself, without the backtrace that RUST_BACKTRACE adds:
        # pytest repeats this message for every test of the session.
        err = stderr_log.read_text(errors="replace").split("\nStack backtrace:")[0]
        raise RuntimeError(
            "trackerd did not start (exit code %s, waited at most %ss)\ncommand: %s\nfull log: %s\n%s"
            % (code, STARTUP_TIMEOUT, " ".join(cmd), stderr_log, err[-3000:])
        )

    yield Server(base_url, backend, database_dsn, workdir, stdout_log, stderr_log, control_token)

    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        _dump(stderr_log, "stderr", last=80)
        raise RuntimeError("trackerd did not stop within %ss of SIGTERM" % STOP_TIMEOUT)
    if code != 0:
        _dump(stderr_log, "stderr", last=80)
        raise RuntimeError("trackerd exited with code %s after SIGTERM" % code)


def pytest_report_header(config):
    return "trackerd compat backend: %s" % os.environ.get("TRACKERD_COMPAT_BACKEND", "sqlite")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if exitstatus != 0:
        for path in _server_logs:
            terminalreporter.write_sep("-", "last lines of trackerd's log %s" % path)
            try:
                lines = path.read_text(errors="replace").splitlines()[-60:]
            except OSError:
                continue
            terminalreporter.write_line("\n".join(lines))


# ------------------------------------------------------------------ clients


@pytest.fixture(scope="session")
def base_url(server):
    return server.base_url


@pytest.fixture(scope="session")
def control(server):
    """Calls the control plane: control(method, path, json=None) -> requests.Response."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = "Bearer %s" % server.control_token

    def call(method, path, **kwargs):
        kwargs.setdefault("timeout", 30)
        return session.request(method, server.base_url + path, **kwargs)

    return call


@pytest.fixture(scope="session")
def make_client(base_url):
    """TrackerClient pointed at the server; keyword arguments as the client
    takes them (token=, org_id=, cloud_org_id=, iam_token=)."""
    from yandex_tracker_client import TrackerClient

    def make(**kwargs):
        kwargs.setdefault("timeout", 30)
        return TrackerClient(base_url=base_url, **kwargs)

    return make


@pytest.fixture(scope="session")
def alice(make_client):
    return make_client(token=S.ALICE_TOKEN, org_id=S.ORG_ID)


@pytest.fixture(scope="session")
def bob(make_client):
    return make_client(token=S.BOB_TOKEN, org_id=S.ORG_ID)


@pytest.fixture(scope="session")
def member(make_client):
    return make_client(token=S.MEMBER_TOKEN, org_id=S.ORG_ID)


@pytest.fixture(scope="session")
def mallory(make_client):
    return make_client(token=S.MALLORY_TOKEN, org_id=S.OTHER_ORG_ID)
