"""What an operator sees: make serve on plain http, one log line per event, the admin URL
createinstructor prints, and every message README's Troubleshooting section quotes.

Each test runs the real command in a subprocess on a throwaway SQLite database and a free
loopback port, and stops what it started.
"""

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import brotli
import pytest
from django.conf import settings

pytestmark = pytest.mark.system

ROOT = Path(settings.BASE_DIR)
PYTHON = sys.executable
VENV = Path(sys.prefix)
README = (ROOT / "README.md").read_text()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bare_env(tmp: Path, **extra) -> dict:
    """An environment with nothing of this run's settings in it: PATH, HOME, a database
    and static root of its own (so nothing in the checkout is touched), and `extra`."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp)), "LANG": "C.UTF-8"}
    env["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
    env["DJANGO_STATIC_ROOT"] = str(tmp / "static")
    return {**env, **extra}


def manage(env, *args, timeout=120):
    return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def get(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def wait_until_up(port, process, seconds=180):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            get(port, "/healthz")
            return True
        except OSError:
            time.sleep(0.2)
    return False


class Started:
    """A command started in its own process group, its output in a file; stop() ends
    the whole group (make, gunicorn and its workers, runserver and its reloader)."""

    def __init__(self, command, env, log: Path):
        self.log = log
        self.out = open(log, "w")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        self.out.flush()
        return self.log.read_text()

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.out.close()


def readme_says(message: str):
    assert message in README, f"README does not quote the message the operator sees: {message!r}"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A migrated throwaway SQLite database and collected static files, shared by the tests
    that need no course."""
    tmp = tmp_path_factory.mktemp("operator")
    for args in (["migrate", "--no-input"], ["collectstatic", "--no-input"]):
        done = manage(bare_env(tmp, DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50), *args, "-v0")
        assert done.returncode == 0, done.stderr
    return tmp


# --- make serve -------------------------------------------------------------------------


def test_make_serve_answers_plain_http_on_loopback_with_only_a_secret_key(tmp_path):
    port = free_port()
    env = bare_env(tmp_path, DJANGO_SECRET_KEY=secrets.token_urlsafe(40), WEB_CONCURRENCY="1")
    # -o: the shared virtualenv is already installed; make must not reinstall it.
    command = ["make", "-s", "-o", f"{VENV}/bin/.installed", f"VENV={VENV}", f"PORT={port}", "serve"]
    server = Started(command, env, tmp_path / "serve.log")
    try:
        assert wait_until_up(port, server.process), "make serve did not come up:\n" + server.output()[-3000:]
        status, headers, body = get(port, "/")
        assert status == 200, (status, headers.get("Location"))
        assert b"Hormones &amp; Bone" in body or b"Hormones & Bone" in body
        assert "Strict-Transport-Security" not in headers
        cookies = headers.get_all("Set-Cookie") or []
        assert cookies and not any("secure" in c.lower() for c in cookies), cookies
        time.sleep(0.5)  # the access log line is written after the response
        lines = [line for line in server.output().splitlines() if '"GET / HTTP/1.1"' in line]
        assert len(lines) == 1, lines
        # The request log: status, path and duration.
        assert re.search(r'"GET / HTTP/1\.1" 200 \d+ \d+ms$', lines[0]), lines[0]
    finally:
        server.stop()


def test_plain_http_is_refused_for_a_public_host_and_production_redirects_to_https(tmp_path, migrated):
    key = secrets.token_urlsafe(40)
    env = bare_env(migrated, DJANGO_SECRET_KEY=key, DJANGO_DEBUG="0", DJANGO_HTTPS="0", DJANGO_ALLOWED_HOSTS="hb.example.org")
    done = manage(env, "check")
    message = "DJANGO_HTTPS=0 serves plain http and is only for loopback, but DJANGO_ALLOWED_HOSTS names hb.example.org."
    assert done.returncode != 0 and message in done.stderr, done.stderr[-2000:]
    # Without DJANGO_HTTPS=0, production settings redirect plain http to https.
    port = free_port()
    env = bare_env(migrated, DJANGO_SECRET_KEY=key, DJANGO_DEBUG="0", WEB_CONCURRENCY="1")
    server = Started([PYTHON, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "hormonebone.wsgi", "-b", f"127.0.0.1:{port}"],
                     env, tmp_path / "gunicorn.log")
    try:
        assert wait_until_up(port, server.process), server.output()[-3000:]
        status, headers, _ = get(port, "/")
        assert (status, headers["Location"]) == (301, f"https://127.0.0.1:{port}/")
        status, headers, _ = get(port, "/robots.txt", {"X-Forwarded-Proto": "https"})
        assert status == 200 and "max-age=31536000" in headers["Strict-Transport-Security"]
    finally:
        server.stop()


# --- one log line per event ---------------------------------------------------------------


def test_dev_server_logs_each_request_once(tmp_path, migrated):
    port = free_port()
    # Exactly what `make run` runs, autoreloader included.
    server = Started([PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}"], bare_env(migrated), tmp_path / "run.log")
    try:
        assert wait_until_up(port, server.process, 60), server.output()[-3000:]
        assert get(port, "/no-such-page/")[0] == 404
        time.sleep(0.5)
        output = server.output()
    finally:
        server.stop()
    mentions = [line for line in output.splitlines() if "/no-such-page/" in line]
    assert len(mentions) == 1, output
    assert re.search(r'"GET /no-such-page/ HTTP/1\.1" 404 \d+$', mentions[0])


def test_gunicorn_logs_each_request_once_with_status_path_and_duration(tmp_path, migrated):
    port = free_port()
    env = bare_env(migrated, DJANGO_SECRET_KEY=secrets.token_urlsafe(40), DJANGO_DEBUG="0", DJANGO_HTTPS="0", WEB_CONCURRENCY="1")
    server = Started([PYTHON, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "hormonebone.wsgi", "-b", f"127.0.0.1:{port}"],
                     env, tmp_path / "gunicorn.log")
    try:
        assert wait_until_up(port, server.process), server.output()[-3000:]
        # A quiz of a lesson that does not exist is a 404: one access line, no warning.
        assert get(port, "/lessons/no-such-lesson/fundamentals/quiz/")[0] == 404
        time.sleep(0.5)
        output = server.output()
    finally:
        server.stop()
    mentions = [line for line in output.splitlines() if "/no-such-lesson/" in line]
    assert len(mentions) == 1, output
    assert re.search(r'"GET /lessons/no-such-lesson/fundamentals/quiz/ HTTP/1\.1" 404 \d+ \d+ms$', mentions[0])


# --- createinstructor ---------------------------------------------------------------------


def test_createinstructor_prints_the_full_admin_url_for_the_configured_port_or_site(migrated):
    env = bare_env(migrated, INSTRUCTOR_PASSWORD="a-long-enough-passphrase", PORT="8742")
    done = manage(env, "createinstructor", "alice")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Created instructor 'alice'. Log in at http://127.0.0.1:8742/admin/"
    done = manage({**env, "DJANGO_SITE_URL": "https://hb.example.org/"}, "createinstructor", "alice")
    assert done.stdout.strip() == "Promoted instructor 'alice'. Log in at https://hb.example.org/admin/"


# --- Troubleshooting: each message README quotes ------------------------------------------


def test_port_in_use_messages(tmp_path, migrated):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = manage(bare_env(migrated), "runserver", f"127.0.0.1:{port}", "--noreload", timeout=60)
        assert done.returncode != 0
        assert "Error: That port is already in use." in done.stdout + done.stderr
        readme_says("Error: That port is already in use.")

        env = bare_env(migrated, DJANGO_SECRET_KEY="x" * 50, DJANGO_DEBUG="0", DJANGO_HTTPS="0", WEB_CONCURRENCY="1")
        done = subprocess.run([PYTHON, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "hormonebone.wsgi", "-b", f"127.0.0.1:{port}"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    output = (done.stdout + done.stderr).replace(str(port), "8000")
    for message in ("[ERROR] Connection in use: ('127.0.0.1', 8000)", "[ERROR] Can't connect to ('127.0.0.1', 8000)"):
        assert message in output, output
        readme_says(message)


def test_python_too_old_message(tmp_path):
    old = next((p for p in ("/usr/bin/python3.11", "/usr/bin/python3.10", "/usr/bin/python3.9") if os.access(p, os.X_OK)), None)
    if old is None:
        # No old interpreter on this machine: a stand-in that reports 3.11.2 and runs the rest.
        old = tmp_path / "python3.11"
        old.write_text(f"#!{PYTHON}\nimport sys\nsys.version_info = (3, 11, 2, 'final', 0)\nexec(sys.argv[2])\n")
        old.chmod(0o755)
    done = subprocess.run(["make", "-s", f"PYTHON={old}", "check-python"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    first = done.stderr.splitlines()[0]
    assert re.fullmatch(rf"Hormones & Bone needs Python 3\.12 or newer, but {re.escape(str(old))} is 3\.\d+\.\d+\. "
                        r"Install 3\.12\+ or run: make PYTHON=/path/to/python3\.12 \.\.\.", first), first
    readme_says(re.sub(r"but \S+ is 3\.\d+\.\d+", "but /usr/bin/python3.11 is 3.11.2", first))


def test_chromium_missing_messages(tmp_path):
    """The browser tests with no chromium on PATH: a skip that says how to install it,
    or with REQUIRE_BROWSER=1 (CI) a failure."""
    env = bare_env(tmp_path, PATH=str(tmp_path))  # an empty directory: no chromium, no chromium-browser
    command = [PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "-q", "tests/test_browser.py", "-k", "tooltip", "-x"]
    skipped = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    failed = subprocess.run(command, cwd=ROOT, env={**env, "REQUIRE_BROWSER": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'other.sqlite3'}"},
                            capture_output=True, text=True, timeout=180)
    skipped_out = skipped.communicate(timeout=180)[0]
    assert skipped.returncode == 0, skipped_out
    assert "no Chromium installed (apt-get install chromium)" in skipped_out
    readme_says("no Chromium installed (apt-get install chromium)")
    assert failed.returncode == 1, failed.stdout
    assert "Failed: REQUIRE_BROWSER=1 but no chromium is installed" in failed.stdout
    readme_says("Failed: REQUIRE_BROWSER=1 but no chromium is installed")


def test_postgresql_url_wrong_messages(tmp_path):
    port = free_port()  # nothing listens there
    done = manage(bare_env(tmp_path, DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/hormonebone"), "migrate", "--no-input")
    assert done.returncode != 0
    last = [line for line in done.stderr.splitlines() if line.strip()][-2:]
    message = "\n".join(last).replace(str(port), "5432")
    assert message == ('django.db.utils.OperationalError: connection failed: connection to server at "127.0.0.1", '
                       "port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?"), done.stderr[-2000:]
    for line in message.split("\n"):
        readme_says(line.strip())

    done = manage(bare_env(tmp_path, DATABASE_URL="postgress://postgres@127.0.0.1/hormonebone"), "check")
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    message = "dj_database_url.UnknownSchemeError: Scheme 'postgress://' is unknown. Did you forget to register custom backend?"
    assert last.startswith(message), last
    readme_says(message)


def test_static_files_are_served_brotli_compressed_to_browsers_that_accept_it(tmp_path, migrated):
    manifest = json.loads((migrated / "static-manifest" / "staticfiles.json").read_text())["paths"]
    port = free_port()
    env = bare_env(migrated, DJANGO_SECRET_KEY=secrets.token_urlsafe(40), DJANGO_DEBUG="0", DJANGO_HTTPS="0", WEB_CONCURRENCY="1")
    server = Started([PYTHON, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "hormonebone.wsgi", "-b", f"127.0.0.1:{port}"],
                     env, tmp_path / "gunicorn.log")
    try:
        assert wait_until_up(port, server.process), server.output()[-3000:]
        css = "/static/" + manifest["css/site.css"]
        status, headers, body = get(port, css, {"Accept-Encoding": "gzip, br"})
        assert (status, headers["Content-Encoding"]) == (200, "br")
        assert b"{" in brotli.decompress(body)
        assert "immutable" in headers["Cache-Control"]
        status, headers, _ = get(port, css, {"Accept-Encoding": "gzip"})
        assert (status, headers["Content-Encoding"]) == (200, "gzip")
        # The manifest of hashed names is not public.
        assert get(port, "/static/staticfiles.json", {})[0] == 404
        # The admin's files get gzip only (see hormonebone/storage.py).
        status, headers, _ = get(port, "/static/" + manifest["admin/css/base.css"], {"Accept-Encoding": "gzip, br"})
        assert (status, headers["Content-Encoding"]) == (200, "gzip")
    finally:
        server.stop()
