"""Several app servers for real: nginx -> two gunicorn app servers -> PostgreSQL + Redis,
started by deploy/cluster.py on loopback ports (the setup README's production section
describes). Run with `make test-cluster`; .ci/run runs them with REQUIRE_CLUSTER=1, which
turns the skip for a missing nginx, redis-server or PostgreSQL into a failure.

Every loop is bounded; the cluster is stopped in the fixture's teardown, and each test
that stops a service starts it again in a finally.
"""

import http.client
import os
import re
import threading
import time
import urllib.error
from html.parser import HTMLParser
from urllib.parse import urlencode

import dj_database_url
import pytest
from django.db import connections

from deploy.cluster import Cluster, missing
from lessons.models import Answer, TierText

from .learners import Learner, Run

pytestmark = pytest.mark.cluster

QUIZ = "/lessons/bone-is-alive/fundamentals/quiz/"
TIER = "/lessons/bone-is-alive/intermediate/"
ANSWER_LINE = re.compile(r'"POST /lessons/[^ ]+/quiz/answer/ HTTP/1\.[01]" (\d{3}) ')
PASSWORD = "cluster-instructor-pw-1"


@pytest.fixture(scope="module")
def cluster(django_db_blocker):
    if lack := missing():
        message = "the cluster needs " + ", ".join(lack)
        if os.environ.get("REQUIRE_CLUSTER") == "1":
            pytest.fail("REQUIRE_CLUSTER=1 but " + message)
        pytest.skip(message + " (apt-get install nginx libnginx-mod-http-brotli-static redis-server postgresql)")
    cluster = Cluster(app_servers=2, workers=2, env={"AXES_FAILURE_LIMIT": "3"})
    with cluster:
        # The tests read the cluster's PostgreSQL through the ORM as database "cluster".
        connections.settings["cluster"] = {
            **connections.settings["default"], **dj_database_url.parse(cluster.postgres.url), "OPTIONS": {}, "CONN_MAX_AGE": 0,
        }
        try:
            with django_db_blocker.unblock():
                yield cluster
        finally:
            connections["cluster"].close()
            del connections["cluster"]
            del connections.settings["cluster"]


def answer_lines(app) -> list[str]:
    """Status codes of the answer POSTs in an app server's request log."""
    return ANSWER_LINE.findall(app.log.read_text())


def answers_handled(cluster, before: list, expected: int) -> list[int]:
    """Answer POSTs each app server logged since `before` (counts). gunicorn writes a
    request's line after sending the response, so wait up to 10 s for `expected` of them."""
    deadline = time.monotonic() + 10
    while True:
        handled = [len(answer_lines(app)) - b for app, b in zip(cluster.apps, before)]
        if sum(handled) >= expected or time.monotonic() > deadline:
            return handled
        time.sleep(0.05)


def assert_stored_once(run):
    assert run.acknowledged, "no answer went through"
    saved = list(Answer.objects.using("cluster").values_list("attempt_id", "question_id"))
    assert len(saved) == len(set(saved)), "an answer is stored twice"
    missing_rows = set(run.acknowledged) - set(saved)
    assert not missing_rows, f"{len(missing_rows)} acknowledged answers are not in the database"
    assert len(run.acknowledged) == len(set(run.acknowledged))


class Direct:
    """One client talking to one app server directly, as nginx does (X-Forwarded-Proto:
    https), keeping cookies by hand: they are Secure and this hop is plain http."""

    def __init__(self, app):
        self.port, self.cookies = app.port, {}
        self.origin = f"https://127.0.0.1:{self.port}"

    def request(self, method, path, form=None):
        headers = {"X-Forwarded-Proto": "https", "Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers.update({"Content-Type": "application/x-www-form-urlencoded", "Origin": self.origin, "Referer": self.origin + path})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            data = response.read().decode()
        finally:
            conn.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, data


class PostForm(HTMLParser):
    """The fields a browser would submit from the form with this id, as (name, value) pairs."""

    def __init__(self, html, form_id):
        super().__init__()
        self.form_id = form_id
        self.fields, self.in_form, self.textarea, self.select, self.options = [], False, None, None, []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == self.form_id:
            self.in_form = True
        if not self.in_form or "name" not in a and tag != "option":
            return
        if tag == "input" and a.get("type", "text") not in {"submit", "button", "file", "image", "reset"}:
            if a.get("type") not in {"checkbox", "radio"} or "checked" in a:
                self.fields.append((a["name"], a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "textarea":
            self.textarea = [a["name"], ""]
        elif tag == "select":
            self.select, self.options = a["name"], []
        elif tag == "option" and self.select:
            self.options.append((a.get("value", ""), "selected" in a))

    def handle_data(self, data):
        if self.textarea:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self.textarea:
            self.fields.append((self.textarea[0], self.textarea[1].removeprefix("\n")))
            self.textarea = None
        elif tag == "select" and self.select:
            chosen = [v for v, selected in self.options if selected] or [v for v, _ in self.options[:1]]
            self.fields.extend((self.select, v) for v in chosen)
            self.select = None
        elif tag == "form":
            self.in_form = False


def login(client, username, password):
    client.request("GET", "/admin/login/")
    form = {"csrfmiddlewaretoken": client.cookies["csrftoken"], "username": username, "password": password, "next": "/admin/"}
    return client.request("POST", "/admin/login/?next=/admin/", form)


def test_answers_through_the_load_balancer_land_on_both_servers_and_are_stored_once(cluster):
    before = [len(answer_lines(app)) for app in cluster.apps]
    run = Run(cluster.url, QUIZ, learners=6, seconds=6, context=cluster.nginx.ssl_context()).start().join()
    assert run.server_errors == [] and run.connection_errors == []
    assert_stored_once(run)
    handled = answers_handled(cluster, before, len(run.acknowledged))
    assert all(n > 0 for n in handled), f"answer POSTs per app server: {handled}"
    assert sum(handled) >= len(run.acknowledged)


def test_a_resent_answer_gets_the_stored_feedback_from_either_server(cluster):
    """A learner whose response was lost resends the same POST; nginx sends it to the
    other server, which answers with the feedback stored the first time."""
    learner = Learner(cluster.url, cluster.nginx.ssl_context())
    learner.get(QUIZ)
    learner.post(QUIZ + "start/", {})
    _, page = learner.get(QUIZ)
    form = {name: re.search(rf'name="{name}" value="(\d+)"', page).group(1) for name in ("attempt", "question", "choice")}
    before = [len(answer_lines(app)) for app in cluster.apps]
    replies = [learner.post(QUIZ + "answer/", form, headers={"HX-Request": "true"}) for _ in range(4)]
    assert [status for status, _ in replies] == [200] * 4
    assert len({body for _, body in replies}) == 1 and 'id="quiz-card"' in replies[0][1]
    handled = answers_handled(cluster, before, 4)
    assert all(handled) and sum(handled) == 4, f"answer POSTs per app server: {handled}"
    stored = Answer.objects.using("cluster").filter(attempt_id=int(form["attempt"]), question_id=int(form["question"]))
    assert stored.count() == 1


def test_an_instructors_edit_through_server_a_is_what_the_next_reader_gets_from_server_b(cluster):
    a, b = cluster.apps
    reader = Direct(b)
    status, _, page = reader.request("GET", TIER)
    assert status == 200
    marker = f"Edited through server a at {time.time_ns()}."
    assert marker not in page
    cluster.manage("createinstructor", "ina", env={"INSTRUCTOR_PASSWORD": PASSWORD})
    instructor = Direct(a)
    assert login(instructor, "ina", PASSWORD)[0] == 302
    text = TierText.objects.using("cluster").get(lesson__slug="bone-is-alive", tier="intermediate")
    change = f"/admin/lessons/tiertext/{text.pk}/change/"
    status, _, form_page = instructor.request("GET", change)
    assert status == 200
    fields = [(k, v + f"\n\n{marker}\n" if k == "body" else v) for k, v in PostForm(form_page, "tiertext_form").fields]
    assert any(k == "body" for k, _ in fields), fields
    status, headers, body = instructor.request("POST", change, fields)
    assert status == 302, body[-3000:]
    status, _, page = reader.request("GET", TIER)
    assert status == 200 and marker in page
    assert f'"POST {change} HTTP/1.1" 302' in a.log.read_text() and change not in b.log.read_text()


def test_quiz_rate_limit_counts_across_servers(cluster):
    limit = 4
    cluster.start_apps({"QUIZ_RATE_LIMIT": str(limit)})
    try:
        learner = Learner(cluster.url, cluster.nginx.ssl_context())
        learner.get(QUIZ)
        learner.post(QUIZ + "start/", {})
        before = [answer_lines(app) for app in cluster.apps]
        statuses = []
        for _ in range(2 * limit):
            try:
                if learner.answer_next(QUIZ) is None:
                    continue  # finished the quiz and started a retake: no answer sent
                statuses.append(200)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
                assert "answering faster than anyone can read" in exc.read().decode()
        # Starting the quiz counted too (lessons/throttling.py), so limit - 1 answers go through.
        accepted = limit - 1
        assert statuses[:accepted] == [200] * accepted and set(statuses[accepted:]) == {429}, statuses
        after = [answer_lines(app)[len(b):] for app, b in zip(cluster.apps, before)]
        # Both servers counted: each took some of the accepted answers or of the refused ones.
        assert all(after), f"answer POSTs per app server: {after}"
    finally:
        cluster.start_apps()


def test_login_lockout_counts_across_servers(cluster):
    cluster.manage("createinstructor", "locked", env={"INSTRUCTOR_PASSWORD": PASSWORD})
    a, b = cluster.apps
    # AXES_FAILURE_LIMIT=3: a wrong password on a, one on b, and the third (on a, which has
    # seen only two) locks the account; counted per server it would not.
    for app in (a, b):
        status, _, page = login(Direct(app), "locked", "wrong password")
        assert status == 200 and "Please enter the correct username and password" in page
    assert login(Direct(a), "locked", "wrong password")[0] == 429
    for app in (a, b):
        status, _, _ = login(Direct(app), "locked", PASSWORD)
        assert status == 429, f"server {app.name} let a locked-out user in"


def test_stopping_one_app_server_mid_load_moves_traffic_and_loses_no_answer(cluster):
    a, b = cluster.apps
    run = Run(cluster.url, QUIZ, learners=6, seconds=8, context=cluster.nginx.ssl_context()).start()
    try:
        time.sleep(2.5)
        b.stop()  # SIGTERM, as systemctl stop: requests in flight finish
        stopped_at = len(answer_lines(a))
        run.join()
    finally:
        if not b.process.running:
            b.start()
            b.wait()
    assert run.server_errors == [] and run.connection_errors == []
    assert_stored_once(run)
    assert len(answer_lines(a)) > stopped_at, "server a took no answers after b stopped"


def test_stopping_redis_mid_load_pages_still_answer_and_answers_are_stored(cluster):
    ctx = cluster.nginx.ssl_context()
    statuses, stop = [], threading.Event()

    def reader():
        client = Learner(cluster.url, ctx)
        while not stop.is_set():
            for path in ("/", TIER, "/glossary/"):
                try:
                    statuses.append(client.get(path)[0])
                except urllib.error.HTTPError as exc:
                    statuses.append(exc.code)

    run = Run(cluster.url, QUIZ, learners=4, seconds=8, context=ctx).start()
    pages = threading.Thread(target=reader)
    pages.start()
    try:
        time.sleep(2.5)
        cluster.redis.stop()
        down_at, acknowledged_before = time.monotonic(), len(run.acknowledged)
        run.join()
        stop.set()
        pages.join(60)
        answered_while_down = time.monotonic() - down_at
    finally:
        stop.set()
        cluster.redis.start()
    assert answered_while_down > 3
    assert statuses and set(statuses) == {200}, {s: statuses.count(s) for s in set(statuses)}
    assert run.server_errors == [] and run.connection_errors == []
    assert_stored_once(run)
    logs = "".join(app.log.read_text() for app in cluster.apps)
    assert "WARNING hormonebone.cache: cache unavailable, treated as empty" in logs
    # Answers kept coming after Redis stopped: the rate limit failed open, as README says.
    assert len(run.acknowledged) > acknowledged_before
