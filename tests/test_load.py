"""Bounded load and fault tests on loopback: a soak, a killed worker, an interrupted import."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection

from lessons.content_files import ContentError, load_course, read_course
from lessons.models import Answer, Question, TierText

from .learners import Run

pytestmark = pytest.mark.system

QUIZ = "/lessons/alpha/fundamentals/quiz/"


def database_url():
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn(transactional_db, small_course, tmp_path):
    """The real app under gunicorn (2 workers) on loopback, sharing the test database."""
    port = free_port()
    env = {
        **os.environ, "DATABASE_URL": database_url(), "DJANGO_DEBUG": "1", "AXES_ENABLED": "0",
        "QUIZ_RATE_LIMIT": "100000", "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = open(tmp_path / "gunicorn.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "hormonebone.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2", "--graceful-timeout", "2"],
        cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        server.kill()
        pytest.fail("gunicorn did not start: " + (tmp_path / "gunicorn.log").read_text())
    yield base, server
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def assert_nothing_lost(run):
    saved = set(Answer.objects.values_list("attempt_id", "question_id"))
    assert run.acknowledged, "no answer went through"
    missing = set(run.acknowledged) - saved
    assert not missing, f"{len(missing)} acknowledged answers are not in the database"
    assert len(run.acknowledged) == len(set(run.acknowledged))


def test_soak_concurrent_learners_no_5xx_and_no_lost_answers(gunicorn):
    base, _ = gunicorn
    seconds = float(os.environ.get("SOAK_SECONDS", 2))  # make bench runs 30
    run = Run(base, QUIZ, learners=8, seconds=seconds + 60).start()
    run.wait_for_answers(float("inf"), timeout=seconds)  # the soak itself
    run.wait_for_answers(8, timeout=60)  # a loaded machine may need longer for the first answers
    run.stop().join()
    assert run.server_errors == [] and run.connection_errors == []
    assert_nothing_lost(run)
    assert Answer.objects.count() == len(run.acknowledged)
    print(f"\nsoak: {run.learners} learners, {seconds:.0f} s, {len(run.acknowledged)} answers acknowledged and saved, 0 errors")


def test_killing_a_worker_mid_load_loses_no_committed_answer(gunicorn):
    base, server = gunicorn
    run = Run(base, QUIZ, learners=8, seconds=30).start()
    assert run.wait_for_answers(5, timeout=10), "no answers before the kill"
    workers = [int(p) for p in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()]
    assert workers, "gunicorn has no workers to kill"
    os.kill(workers[0], signal.SIGKILL)
    # Answers keep flowing after the master replaces the worker.
    assert run.wait_for_answers(len(run.acknowledged) + 10, timeout=15), "answers stopped after the kill"
    run.stop().join()
    assert run.server_errors == []
    assert_nothing_lost(run)


@pytest.mark.django_db
def test_interrupted_import_leaves_the_previous_course_intact(small_course):
    before = list(TierText.objects.order_by("pk").values_list("body", "html"))
    questions = Question.objects.count()
    for path in small_course.rglob("*.md"):
        path.write_text(path.read_text().replace("Osteoclasts again.", "Changed."))
    calls = {"n": 0}
    real_render = TierText.render

    def render_then_die(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # the operator pressed Ctrl-C halfway through
        return real_render(self, *args, **kwargs)

    with mock.patch.object(TierText, "render", render_then_die), pytest.raises(KeyboardInterrupt):
        load_course(read_course(small_course))
    assert calls["n"] == 4
    assert list(TierText.objects.order_by("pk").values_list("body", "html")) == before
    assert Question.objects.count() == questions
    with pytest.raises(ContentError):
        (small_course / "beta" / "lesson.toml").write_text("title =\n")
        load_course(read_course(small_course))
    assert list(TierText.objects.order_by("pk").values_list("body", "html")) == before
