"""Reading pages and operator endpoints, as a browser without JavaScript sees them."""

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from unittest import mock

import markdown
import pytest
from django.db import DatabaseError
from django.test import Client

from lessons import page_cache
from lessons.models import Lesson, Status, TierText

pytestmark = pytest.mark.django_db


def test_course_map_lists_lessons_with_three_tier_links(client, small_course):
    page = client.get("/").content.decode()
    assert "Lesson alpha" in page and "About beta." in page
    for tier in ("fundamentals", "intermediate", "academic"):
        assert f'href="/lessons/alpha/{tier}/"' in page


def test_course_map_shows_progress_after_reading(client, small_course):
    assert "read</span>" not in client.get("/").content.decode()
    client.get("/lessons/alpha/intermediate/")
    page = client.get("/").content.decode()
    assert page.count('<span class="status read">read</span>') == 1


def test_tier_page_has_tabs_toc_text_references_quiz_link_and_pager(client, small_course):
    response = client.get("/lessons/alpha/intermediate/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'aria-current="page">Intermediate</a>' in page
    assert '<a href="#cells">Cells</a>' in page
    assert '<section class="references"' in page and "A test paper about bone" in page
    assert 'href="/lessons/alpha/intermediate/quiz/"' in page
    assert 'rel="next" href="/lessons/beta/"' in page
    assert "Last updated" in page


def test_tier_page_costs_at_most_four_queries_and_no_markdown(client, small_course, django_assert_max_num_queries):
    client.get("/lessons/alpha/academic/")  # session cookie exists, as for a returning reader
    with mock.patch.object(markdown.Markdown, "convert", side_effect=AssertionError("markdown at request time")) as convert:
        with django_assert_max_num_queries(4):
            response = client.get("/lessons/beta/intermediate/")
    assert response.status_code == 200
    assert convert.call_count == 0


def test_htmx_request_gets_only_the_lesson_partial_from_the_same_view(client, small_course):
    full = client.get("/lessons/alpha/academic/")
    partial = client.get("/lessons/alpha/academic/", headers={"HX-Request": "true"})
    assert "<html" in full.content.decode()
    body = partial.content.decode()
    assert "<html" not in body and "site-header" not in body
    assert body.lstrip().startswith("<title>alpha academic (Academic)")  # htmx sets the document title from it
    assert '<div id="lesson"' in body
    for response in (full, partial):
        assert "HX-Request" in response.headers["Vary"]


def test_history_restore_request_gets_the_full_page(client, small_course):
    response = client.get("/lessons/alpha/academic/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.content.decode()


def test_lesson_url_redirects_to_last_used_tier(client, small_course):
    assert client.get("/lessons/alpha/")["Location"] == "/lessons/alpha/fundamentals/"
    client.get("/lessons/alpha/academic/")
    assert client.get("/lessons/alpha/")["Location"] == "/lessons/alpha/academic/"


def test_unknown_tier_and_lesson_are_404_in_site_style(client, small_course):
    for url in ("/lessons/alpha/expert/", "/lessons/nope/fundamentals/", "/glossary/nope/"):
        response = client.get(url)
        assert response.status_code == 404
        assert "Page not found" in response.content.decode()


def test_draft_is_hidden_from_learners_and_shown_to_staff_with_banner(client, small_course, admin_user):
    Lesson.objects.filter(slug="beta").update(status=Status.DRAFT)
    assert client.get("/lessons/beta/fundamentals/").status_code == 404
    assert client.get("/lessons/beta/fundamentals/quiz/").status_code == 404
    assert "Lesson beta" not in client.get("/").content.decode()
    client.force_login(admin_user)
    page = client.get("/lessons/beta/fundamentals/").content.decode()
    assert "Draft: only staff can see this lesson." in page


def test_glossary_index_filters_without_js_and_returns_partial_for_htmx(client, small_course):
    page = client.get("/glossary/").content.decode()
    assert "osteoclast" in page and "PTH" in page
    filtered = client.get("/glossary/?q=parathyroid").content.decode()
    assert "PTH" in filtered and 'href="/glossary/osteoclast/"' not in filtered
    partial = client.get("/glossary/?q=osteo", headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="glossary-results"') and "<html" not in partial
    assert 'href="/glossary/osteoblast/"' in partial and 'href="/glossary/pth/"' not in partial


def test_term_page_shows_entry_see_also_and_lessons_linking_to_section(client, small_course):
    page = client.get("/glossary/osteoclast/").content.decode()
    assert "A large cell that dissolves bone." in page
    assert 'href="/glossary/osteoblast/"' in page
    assert 'href="/lessons/alpha/fundamentals/#cells"' in page


def test_healthz_ok_and_503_when_database_is_broken(client):
    assert client.get("/healthz").status_code == 200
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=DatabaseError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503


def test_robots_and_sitemap(client, small_course):
    assert "Sitemap: http://testserver/sitemap.xml" in client.get("/robots.txt").content.decode()
    sitemap = client.get("/sitemap.xml").content.decode()
    assert "/lessons/alpha/academic/" in sitemap and "/glossary/pth/" in sitemap
    Lesson.objects.filter(slug="beta").update(status=Status.DRAFT)
    assert "/lessons/beta/" not in client.get("/sitemap.xml").content.decode()


@pytest.mark.parametrize(
    "header, expected",
    [
        ("Content-Security-Policy", "script-src 'self' 'nonce-"),
        ("Content-Security-Policy", "object-src 'none'"),
        ("Content-Security-Policy", "frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ],
)
def test_security_header_on_a_page(learner_client, small_course, header, expected):
    assert expected in learner_client.get("/lessons/alpha/fundamentals/").headers[header]


def test_content_security_policy_allows_no_inline_script(learner_client, small_course):
    assert "unsafe-inline" not in learner_client.get("/lessons/alpha/fundamentals/").headers["Content-Security-Policy"]


class Elements(HTMLParser):
    """(tag, {attribute: value}, text inside) for every element of a page."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.elements, self.open = [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append([tag, dict(attrs), ""])
        self.open.append(self.elements[-1])

    def handle_data(self, data):
        if self.open:
            self.open[-1][2] += data

    def handle_endtag(self, tag):
        if self.open and self.open[-1][0] == tag:
            self.open.pop()


@pytest.mark.parametrize("url", ["/", "/lessons/alpha/fundamentals/", "/glossary/", "/glossary/osteoclast/", "/lessons/alpha/fundamentals/quiz/"])
def test_every_script_is_a_same_origin_file_and_no_element_has_an_event_handler(learner_client, small_course, url):
    response = learner_client.get(url)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    elements = Elements(response.content.decode()).elements
    handlers = [(tag, name) for tag, attrs, _ in elements for name in attrs if name.startswith("on")]
    assert handlers == []
    scripts = [(attrs, text) for tag, attrs, text in elements if tag == "script"]
    assert scripts
    for attrs, text in scripts:
        assert re.match(r"/(?!/)", attrs.get("src") or ""), f"inline or foreign script: {attrs}"
        assert text.strip() == "", f"a script with src also has inline code: {attrs}"
        assert attrs.get("nonce", nonce) == nonce, f"stale nonce on {attrs}"


def test_csrf_is_enforced_on_quiz_posts(small_course):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/lessons/alpha/fundamentals/quiz/start/")
    assert response.status_code == 403


def test_check_deploy_is_clean_with_production_settings():
    env = {**os.environ, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "x" * 60 + "-production-secret", "DJANGO_ALLOWED_HOSTS": "example.org"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests for their own process only
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True, text=True, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr and "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {**os.environ, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": ""}
    result = subprocess.run([sys.executable, "manage.py", "check"], capture_output=True, text=True, env=env)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set" in result.stderr


def test_tier_text_is_rendered_on_save_not_per_request(small_course):
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    text.body = "## New {#new}\n\nAn osteoclast appears."
    text.save()
    text.refresh_from_db()
    assert 'href="/glossary/osteoclast/"' in text.html and text.toc[0]["id"] == "new"


def test_cached_tier_page_sees_edits_at_once_and_gets_a_fresh_nonce_each_time(client, small_course):
    first = client.get("/lessons/alpha/fundamentals/")
    second = client.get("/lessons/alpha/fundamentals/")
    nonce = re.compile(r"nonce-([\w-]+)")
    assert nonce.search(first["Content-Security-Policy"]).group(1) != nonce.search(second["Content-Security-Policy"]).group(1)
    assert f'nonce="{nonce.search(second["Content-Security-Policy"]).group(1)}"' in second.content.decode()
    assert page_cache.NONCE_MARK not in second.content.decode()
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    text.body = text.body.replace("Osteoclasts again.", "A brand new sentence.")
    text.save()
    assert "A brand new sentence." in client.get("/lessons/alpha/fundamentals/").content.decode()
    lesson = Lesson.objects.get(slug="alpha")
    lesson.status = Status.DRAFT
    lesson.save()
    assert client.get("/lessons/alpha/fundamentals/").status_code == 404


def test_term_rename_delete_and_edit_rerender_exactly_the_affected_tiers(only_small_course):
    from lessons.models import Term

    texts = {t.pk: t.updated_at for t in TierText.objects.all()}
    pth = Term.objects.get(slug="pth")
    pth.short = "Raises blood calcium by acting on bone and kidney."
    pth.save()
    changed = {t.pk for t in TierText.objects.all() if t.updated_at != texts[t.pk]}
    mentioning = {t.pk for t in TierText.objects.all() if "PTH" in t.body}
    assert changed == mentioning and changed
    assert all("acting on bone and kidney" in t.html for t in TierText.objects.filter(pk__in=changed))

    osteoblast = Term.objects.get(slug="osteoblast")
    osteoblast.slug = "osteoblast-cell"
    osteoblast.save()
    for text in TierText.objects.all():
        assert "/glossary/osteoblast/" not in text.html and "/glossary/osteoblast-cell/" in text.html

    Term.objects.get(slug="bone-mineral-density").delete()
    for text in TierText.objects.all():
        assert "/glossary/bone-mineral-density/" not in text.html and "tip-bone-mineral-density" not in text.html


def test_error_pages_are_in_the_site_style(client):
    from django.template.loader import render_to_string

    assert "Something went wrong" in render_to_string("500.html") and "site-header" in render_to_string("500.html")
    page = client.get("/missing/").content.decode()
    assert "Page not found" in page and "Educational use only" in page


def test_htmx_may_not_evaluate_inline_scripts(client, small_course):
    page = client.get("/lessons/alpha/fundamentals/").content.decode()
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', page).group(1)
    assert '"allowEval": false' in config and '"allowScriptTags": false' in config
    assert "<script>" not in page and " onclick=" not in page and "style=" not in page


def test_editing_a_reference_rerenders_the_tiers_that_cite_it(small_course):
    from lessons.models import Reference

    ref = Reference.objects.get(key="lee2019")
    ref.title = "A corrected title"
    ref.save()
    citing = TierText.objects.filter(lesson__slug__in=["alpha", "beta"])
    assert citing.count() == 6 and all("A corrected title" in t.html for t in citing)


def test_list_pages_cost_a_fixed_number_of_queries(client, small_course, django_assert_max_num_queries):
    client.get("/lessons/alpha/fundamentals/quiz/")  # a learner with a session
    with django_assert_max_num_queries(3):  # lessons, their tiers, this learner's best scores
        assert client.get("/").status_code == 200
    with django_assert_max_num_queries(1):
        assert client.get("/glossary/").status_code == 200
    with django_assert_max_num_queries(3):
        assert client.get("/glossary/osteoclast/").status_code == 200
