"""Issue 20: inputs that cannot crash or stall a server, and imports as strict as the admin."""

import re
from pathlib import Path
import time

import pytest

from lessons.content_files import ContentError, load_course, read_course
from lessons.models import Answer, Lesson, Reference, Term, TierText

pytestmark = pytest.mark.django_db

# Cost is measured in CPU time of this process (time.process_time), so a busy machine
# does not make a refusal look slow.
STALLS = {
    "10k open brackets": "[" * 10_000,
    "4k open citations": "[@a " * 4_000,
    "500 nested list levels": "- " * 500 + "x",
    "500 nested quotes": "> " * 500 + "x",
    "2k unclosed links": "[a](" * 2_000,
    "over 100 KB": "bone " * 21_000,
}


@pytest.fixture
def ina(client, instructor):
    client.force_login(instructor)
    return client


@pytest.mark.parametrize("body", STALLS.values(), ids=STALLS.keys())
def test_preview_refuses_slow_or_deep_markdown_within_a_second(ina, small_course, body):
    started = time.process_time()
    response = ina.post("/admin/lessons/tiertext/preview/", {"body": body, "tier": "fundamentals"})
    assert time.process_time() - started < 1
    assert response.status_code == 200
    assert "problem" in response.content.decode().lower() or "limit" in response.content.decode()


@pytest.mark.parametrize("body", STALLS.values(), ids=STALLS.keys())
def test_saving_a_tier_refuses_slow_or_deep_markdown_and_keeps_the_old_text(ina, small_course, body):
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    data = {"lesson": text.lesson_id, "tier": text.tier, "title": text.title, "summary": text.summary,
            "objectives": "\n".join(text.objectives), "body": body}
    started = time.process_time()
    response = ina.post(f"/admin/lessons/tiertext/{text.pk}/change/", data)
    assert time.process_time() - started < 1
    assert response.status_code == 200  # the form again, with the error
    assert "errornote" in response.content.decode()
    assert TierText.objects.get(pk=text.pk).body == text.body


@pytest.mark.parametrize("body", ["[" * 10_000, "- " * 500 + "x"], ids=["brackets", "nesting"])
def test_term_body_that_cannot_render_is_refused_by_the_model(small_course, body):
    term = Term.objects.get(slug="osteoclast")
    term.body = body
    with pytest.raises(Exception) as caught:
        term.full_clean()
    assert "body" in caught.value.message_dict


def test_gift_question_that_cannot_render_is_refused_with_its_line(ina, small_course):
    from lessons.models import Quiz

    quiz = Quiz.objects.get(text__lesson__slug="alpha", text__tier="academic")
    gift = "::deep::" + "- " * 500 + "x{\n=yes\n~no\n}\n"
    response = ina.post(f"/admin/lessons/quiz/{quiz.pk}/change/", {"text": quiz.text_id, "pass_mark": 70, "shuffle": "on", "gift_text": gift})
    page = response.content.decode()
    assert "line 1" in page and "nested 500 deep" in page
    assert gift.split("{")[0][:20] in page  # the typed text is still in the form
    assert not quiz.questions.filter(name="deep").exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("attempt", "²"), ("question", "²"), ("choice", "²"), ("choice", "٣"),
        ("attempt", "9" * 5000), ("choice", "9" * 20), ("question", "-1"), ("attempt", "1e3"),
    ],
)
def test_quiz_answer_with_a_non_ascii_or_huge_number_is_a_400(client, small_course, field, value):
    from .test_quiz import URL, current_question, start

    attempt = start(client)
    question, _ = current_question(client)
    data = {"attempt": attempt.pk, "question": question.pk, "choice": question.choices.first().pk, field: value}
    before = Answer.objects.count()
    response = client.post(URL + "answer/", data)
    assert response.status_code == 400
    assert "whole number" in response.content.decode()
    assert Answer.objects.count() == before


@pytest.mark.parametrize("value", ["²", "9" * 5000, "x"])
def test_quiz_page_ignores_a_malformed_answered_query(client, small_course, value):
    from .test_quiz import URL, start

    start(client)
    assert client.get(URL, {"answered": value}).status_code == 200


def test_nul_in_objectives_is_a_form_error_not_a_database_error(ina, small_course):
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    data = {"lesson": text.lesson_id, "tier": text.tier, "title": text.title, "summary": text.summary,
            "objectives": "Know bone\x00", "body": text.body}
    response = ina.post(f"/admin/lessons/tiertext/{text.pk}/change/", data)
    assert response.status_code == 200
    assert "control character" in response.content.decode()
    assert TierText.objects.get(pk=text.pk).objectives == text.objectives


# --- The importer is as strict as the admin ---------------------------------------------


def _replace(course_dir, name, old, new):
    path = course_dir / name
    text = path.read_text()
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1))


IMPORT_CASES = [
    ("references.toml", 'url = ""', 'url = "javascript:alert(1)"', "references.toml:2", "url: Enter a valid URL"),
    ("references.toml", 'url = ""', 'url = "ftp://example.org/paper"', "references.toml:2", "http:// or https://"),
    ("glossary.toml", 'aliases = ["osteoclasts"]', 'aliases = "ab"', "glossary.toml:", "aliases of 'osteoclast' must be a list"),
    ("alpha/lesson.toml", 'title = "Lesson alpha"', "title = 42", "alpha/lesson.toml:1", "title must be text"),
    ("alpha/lesson.toml", "order = 101", "order = -3", "alpha/lesson.toml:3", "order must be a whole number"),
    ("alpha/lesson.toml", "order = 101", 'order = "first"', "alpha/lesson.toml:3", "order must be a whole number"),
    ("alpha/fundamentals.md", 'title = "alpha fundamentals"', 'title = "' + "x" * 300 + '"', "alpha/fundamentals.md:1", "at most 200 characters"),
    ("alpha/fundamentals.md", '"Know alpha fundamentals"', '"Know \\u0000 nothing"', "alpha/fundamentals.md:1", "control character"),
    ("alpha/fundamentals.md", "The osteoclast removes bone", "[" * 10_000 + " The osteoclast removes bone", "alpha/fundamentals.md:", "too slow to render"),
    ("glossary.toml", 'short = "A cell that builds bone."', 'short = "A cell that builds bone.', "glossary.toml:", "bad TOML"),
]


@pytest.mark.parametrize("name, old, new, where, message", IMPORT_CASES, ids=[c[4] for c in IMPORT_CASES])
def test_import_refuses_with_file_and_line_and_changes_nothing(small_course, name, old, new, where, message):
    before = (Lesson.objects.count(), list(TierText.objects.values_list("body", flat=True)), Reference.objects.count())
    _replace(small_course, name, old, new)
    started = time.process_time()
    with pytest.raises(ContentError) as caught:
        load_course(read_course(small_course))
    assert time.process_time() - started < 1
    errors = "\n".join(caught.value.errors)
    assert where in errors and message in errors, errors
    assert (Lesson.objects.count(), list(TierText.objects.values_list("body", flat=True)), Reference.objects.count()) == before


def test_bad_toml_is_reported_at_its_own_line(small_course):
    _replace(small_course, "glossary.toml", 'short = "A cell that builds bone."', 'short = "A cell that builds bone.')
    with pytest.raises(ContentError) as caught:
        read_course(small_course)
    line = next(i for i, l in enumerate((small_course / "glossary.toml").read_text().splitlines(), 1) if "builds bone." in l)
    assert f"glossary.toml:{line}:" in caught.value.errors[0]


def test_non_utf8_file_is_refused_with_file_and_line(small_course):
    path = small_course / "alpha" / "fundamentals.md"
    path.write_bytes(path.read_bytes().replace("removes bone".encode(), "entfernt gr\xf6\xdfer".encode("latin-1")))
    with pytest.raises(ContentError) as caught:
        read_course(small_course)
    line = next(i for i, l in enumerate(path.read_bytes().split(b"\n"), 1) if b"gr\xf6" in l)
    assert any(f"alpha/fundamentals.md:{line}: not UTF-8" in e for e in caught.value.errors)


def test_term_name_already_in_the_database_is_refused(small_course):
    Term.objects.create(slug="made-in-admin", term="Bone lining cell", aliases=["lining cell"], short="x")
    _replace(small_course, "glossary.toml", 'aliases = ["osteoblasts"]', 'aliases = ["osteoblasts", "Lining cell"]')
    with pytest.raises(ContentError) as caught:
        load_course(read_course(small_course))
    assert "already a name of the term “Bone lining cell”" in "\n".join(caught.value.errors)


# --- Markup the renderer did not produce ------------------------------------------------


def _render(body):
    from lessons.rendering import Glossary, RenderSources, render_tier

    return render_tier(body, "fundamentals", RenderSources(Glossary([("osteoclast", ["osteoclast"], False, {})]), {}, {}))


def test_markdown_cannot_point_a_tooltip_at_the_page(db):
    html = _render('A [link](/x){: .term aria-describedby="main" } here.').html
    assert 'aria-describedby="main"' not in html


@pytest.mark.parametrize("anchor", ["main", "lesson-title", "tip-osteoclast", "ref-smith2020", "quiz-card"])
def test_markdown_cannot_take_an_id_the_page_uses(db, anchor):
    html = _render(f"## Heading {{#{anchor}}}\n\nAn osteoclast.").html
    assert f'id="{anchor}"' not in html.split('<div class="tips">')[0]


def test_contents_list_shows_headings_with_ampersands_once_escaped(db):
    toc = _render("## Calcium & PTH <3\n\ntext").toc
    assert toc[0]["name"] == "Calcium & PTH <3"


def test_a_heading_attribute_cannot_smuggle_markup_into_an_anchor(db):
    result = _render('## H {#x"><img src=x onerror=alert(1)>}\n\ntext')
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_:.-]*", item["id"]) for item in result.toc)
    assert "onerror" not in result.html


# --- Sessions that end ------------------------------------------------------------------


def _copy_session(client):
    from django.test import Client

    copy = Client()
    copy.cookies["sessionid"] = client.cookies["sessionid"].value
    return copy


def test_a_copied_admin_session_is_refused_after_logout(client, instructor):
    client.post("/admin/login/", {"username": "ina", "password": "pw-ina-123456"})
    copy = _copy_session(client)
    assert copy.get("/admin/").status_code == 200
    client.post("/admin/logout/")
    response = copy.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_copied_admin_session_is_refused_after_a_password_change(client, instructor):
    client.post("/admin/login/", {"username": "ina", "password": "pw-ina-123456"})
    copy = _copy_session(client)
    response = client.post(
        "/admin/password_change/",
        {"old_password": "pw-ina-123456", "new_password1": "a-new-pw-98765", "new_password2": "a-new-pw-98765"},
    )
    assert response.status_code == 302
    assert copy.get("/admin/").status_code == 302
    assert client.get("/admin/").status_code == 200  # the session that changed it stays in


def test_staff_sessions_end_after_hours_idle_not_a_year(client, instructor, settings):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client.post("/admin/login/", {"username": "ina", "password": "pw-ina-123456"})
    client.get("/admin/")
    session = Session.objects.get(session_key=client.cookies["sessionid"].value)
    left = (session.expire_date - timezone.now()).total_seconds()
    assert 0 < left <= settings.STAFF_IDLE_SECONDS


def test_reading_creates_no_session_and_no_session_row(client, small_course):
    from django.contrib.sessions.models import Session

    response = client.get("/lessons/alpha/fundamentals/")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert Session.objects.count() == 0
    assert "progress" in response.cookies  # what was read rides in a signed cookie
    assert client.get("/lessons/alpha/").url.endswith("/alpha/fundamentals/")


def test_a_forged_progress_cookie_is_ignored(client, small_course):
    client.cookies["progress"] = '{"last_tier": {"alpha": "academic"}}'
    assert client.get("/lessons/alpha/").url.endswith("/alpha/fundamentals/")


# --- Headers and endpoints ----------------------------------------------------------------


def test_pages_send_a_permissions_policy_and_a_csp_report_endpoint(client, small_course):
    response = client.get("/lessons/alpha/fundamentals/")
    assert "camera=()" in response["Permissions-Policy"]
    assert "report-uri /csp-report" in response["Content-Security-Policy"]


def test_csp_reports_are_logged_and_answered_204(client, caplog):
    response = client.post("/csp-report", b'{"csp-report": {"violated-directive": "script-src"}}', content_type="application/csp-report")
    assert response.status_code == 204
    assert "script-src" in caplog.text


def test_login_with_a_rejected_next_lands_on_the_course_map(client, instructor):
    response = client.post("/admin/login/?next=https://evil.example/", {"username": "ina", "password": "pw-ina-123456", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil")


def test_an_instructor_without_lesson_rights_sees_no_drafts_and_no_preview(client, small_course, instructor):
    from django.contrib.auth.models import User

    Lesson.objects.filter(slug="alpha").update(status="draft")
    clerk = User.objects.create_user("clerk", password="pw-clerk-12345", is_staff=True)
    client.force_login(clerk)
    assert client.get("/lessons/alpha/fundamentals/").status_code == 404
    assert client.post("/admin/lessons/tiertext/preview/", {"body": "x"}).status_code == 403


# --- Throttling that matches the deployment ------------------------------------------------


def test_behind_a_proxy_one_clients_bad_logins_do_not_lock_out_another(client, instructor, settings):
    from django.test import Client

    settings.AXES_ENABLED = True
    settings.TRUSTED_PROXY_COUNT = 1
    # The attacker also forges an X-Forwarded-For of the colleague's address: the proxy appends the real one.
    attacker = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        attacker.post("/admin/login/?next=/admin/", {"username": "ina", "password": "wrong"})
    assert attacker.post("/admin/login/?next=/admin/", {"username": "ina", "password": "pw-ina-123456"}).status_code == 429
    colleague = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    response = colleague.post("/admin/login/?next=/admin/", {"username": "ina", "password": "pw-ina-123456"})
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_failures_during_a_lockout_do_not_extend_it(client, instructor, settings):
    from axes.models import AccessAttempt

    settings.AXES_ENABLED = True
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/?next=/admin/", {"username": "ina", "password": "wrong"})
    first = AccessAttempt.objects.get().attempt_time
    client.post("/admin/login/?next=/admin/", {"username": "ina", "password": "wrong"})
    assert AccessAttempt.objects.get().attempt_time == first


def test_starting_quizzes_is_rate_limited_too(client, small_course, settings):
    from django.core.cache import cache

    cache.clear()
    settings.QUIZ_RATE_LIMIT = 3
    url = "/lessons/alpha/fundamentals/quiz/start/"
    statuses = [client.post(url).status_code for _ in range(5)]
    assert statuses == [302, 302, 302, 429, 429]


def test_one_address_is_limited_even_with_a_fresh_cookie_each_time(small_course, settings):
    from django.core.cache import cache
    from django.test import Client

    cache.clear()
    settings.QUIZ_IP_RATE_LIMIT = 4
    url = "/lessons/alpha/fundamentals/quiz/start/"
    statuses = [Client(REMOTE_ADDR="192.0.2.5").post(url).status_code for _ in range(6)]
    assert statuses == [302, 302, 302, 302, 429, 429]


@pytest.mark.system
def test_the_quiz_limit_is_shared_by_every_worker_process(transactional_db, course_dir, tmp_path):
    """Two gunicorn workers, one learner: the limit counts answers and starts across both."""
    import http.cookiejar
    import os
    import signal
    import subprocess
    import sys
    import urllib.request

    from django.conf import settings

    from .test_load import database_url, free_port

    load_course(read_course(course_dir))
    port, cache_dir = free_port(), tmp_path / "cache"
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_DEBUG": "1", "AXES_ENABLED": "0", "QUIZ_RATE_LIMIT": "4",
           "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "CACHE_DIR": str(cache_dir)}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "hormonebone.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2", "--reuse-port"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        for _ in range(200):
            try:
                page = opener.open(base + "/lessons/alpha/fundamentals/quiz/", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.05)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        statuses = []
        for _ in range(8):
            request = urllib.request.Request(
                base + "/lessons/alpha/fundamentals/quiz/start/", data=f"csrfmiddlewaretoken={token}".encode(),
                headers={"Referer": base + "/", "Connection": "close"},
            )
            try:
                statuses.append(opener.open(request, timeout=5).status)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
        assert statuses == [200] * 4 + [429] * 4, statuses
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)


def test_the_static_manifest_is_kept_outside_the_public_static_folder(tmp_path):
    from hormonebone.storage import StaticFilesStorage

    storage = StaticFilesStorage(location=tmp_path / "staticfiles", base_url="/static/")
    manifest = Path(storage.manifest_storage.path(storage.manifest_name))
    assert manifest.parent == tmp_path / "staticfiles-manifest"
    assert not manifest.is_relative_to(tmp_path / "staticfiles")
