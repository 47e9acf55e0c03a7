"""trackerd for Python test suites: start the trackerd binary this wheel
installed, seeded, on a free loopback port, and reset it between tests.

The pytest plugin (``trackerd.pytest_plugin``, registered through the
``pytest11`` entry point) builds its fixtures on :class:`TrackerdServer`.
"""

import json
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sysconfig
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["TrackerdServer", "DEFAULT_SEED", "DEFAULT_ORG_ID", "DEFAULT_TOKEN", "find_binary"]

DEFAULT_ORG_ID = "7100001"
DEFAULT_TOKEN = "y0_trackerd_pytest_default_token_000001"

# One organization, an administrator with a read-write token, one queue: what
# a test of a Tracker client needs to create issues at once. A suite passes
# its own with --trackerd-seed (the format of `trackerd seed`).
DEFAULT_SEED = """\
organizations:
  - id: "%s"
    name: Test organization
    users:
      - login: tester
        first_name: Test
        last_name: User
        email: tester@example.test
        admin: true
        tokens:
          - token: "%s"
            scopes: [tracker:read, tracker:write]
    queues:
      - key: TEST
        name: Test queue
        lead: tester
""" % (DEFAULT_ORG_ID, DEFAULT_TOKEN)

_LISTENING = re.compile(r"^trackerd listening on (http://\S+)\s*$")
_NOT_SERVED = "not served by trackerd"


def find_binary():
    """The trackerd binary: ``TRACKERD_BIN``, else the one this wheel put in
    the environment's scripts directory, else the first on ``PATH``."""
    explicit = os.environ.get("TRACKERD_BIN")
    if explicit:
        return explicit
    scripts = Path(sysconfig.get_path("scripts")) / "trackerd"
    if scripts.is_file():
        return str(scripts)
    found = shutil.which("trackerd")
    if found:
        return found
    raise FileNotFoundError("no trackerd binary: install the trackerd wheel or set TRACKERD_BIN")


class TrackerdServer:
    """A trackerd process over a SQLite database of its own.

    ``url`` is its base URL; ``org_id`` and ``token`` the credentials the
    seed gives (the defaults' unless told otherwise).
    """

    def __init__(self, binary=None, seed=None, org_id=DEFAULT_ORG_ID, token=DEFAULT_TOKEN,
                 startup_timeout=60.0):
        self.binary = binary or find_binary()
        self.seed = seed
        self.org_id = org_id
        self.token = token
        self.control_token = secrets.token_hex(16)
        self.startup_timeout = startup_timeout
        self.url = None
        self.restarts = 0
        self._proc = None
        self._workdir = None

    def start(self):
        self._workdir = tempfile.mkdtemp(prefix="trackerd-")
        work = Path(self._workdir)
        seed = Path(self.seed) if self.seed else work / "seed.yaml"
        if not self.seed:
            seed.write_text(DEFAULT_SEED)
        env = dict(os.environ)
        # The control plane's token (POST /_trackerd/reset).
        env["TRACKERD_CONTROL_TOKEN"] = self.control_token
        env.setdefault("TRACKERD_LOG", "warn")
        cmd = [
            self.binary, "serve",
            "--listen", "127.0.0.1:0",
            "--database", "sqlite://%s" % (work / "trackerd.db"),
            "--seed", str(seed),
        ]
        self._stderr = open(work / "trackerd.stderr.log", "wb")
        self._proc = subprocess.Popen(cmd, cwd=work, env=env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=self._stderr)
        found = queue.Queue()

        def pump(proc=self._proc):
            # Read to the end, so the server never blocks on a full pipe.
            for raw in proc.stdout:
                m = _LISTENING.match(raw.decode("utf-8", "replace"))
                if m:
                    found.put(m.group(1))
            found.put(None)

        threading.Thread(target=pump, name="trackerd-stdout", daemon=True).start()
        try:
            self.url = found.get(timeout=self.startup_timeout)
        except queue.Empty:
            self.url = None
        if self.url is None:
            self.stop()
            log = (work / "trackerd.stderr.log").read_text(errors="replace")
            raise RuntimeError("trackerd did not start: %s\n%s" % (" ".join(cmd), log[-3000:]))
        return self

    def stop(self):
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            self._stderr.close()
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def reset(self):
        """Back to the seeded state: ``POST /_trackerd/reset`` with the
        control token. A trackerd without that endpoint is restarted on a
        fresh database instead (its URL changes)."""
        req = urllib.request.Request(
            self.url + "/_trackerd/reset", data=b"", method="POST",
            headers={"Authorization": "Bearer " + self.control_token},
        )
        try:
            with urllib.request.urlopen(req, timeout=30):
                return
        except urllib.error.HTTPError as e:
            body = e.read().decode("utf-8", "replace")
            if e.code != 404 or _NOT_SERVED not in body:
                raise RuntimeError("trackerd reset failed: %s %s" % (e.code, body)) from e
        self.stop()
        self.start()
        self.restarts += 1

    def client(self, **kwargs):
        """A ``yandex_tracker_client.TrackerClient`` for this server."""
        from yandex_tracker_client import TrackerClient

        kwargs.setdefault("token", self.token)
        kwargs.setdefault("org_id", self.org_id)
        return TrackerClient(base_url=self.url, **kwargs)

    def get_json(self, path):
        """``GET path`` with the server's token, as JSON."""
        req = urllib.request.Request(self.url + path, headers={
            "Authorization": "OAuth " + self.token, "X-Org-ID": self.org_id,
        })
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
