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


def test_course_map_lists_lessons_with_three_tier_links(learner_client, small_course):
    page = learner_client.get("/").content.decode()
    assert "Lesson alpha" in page and "About beta." in page
    for tier in ("fundamentals", "intermediate", "academic"):
        assert f'href="/lessons/alpha/{tier}/"' in page


def test_course_map_counts_a_tier_read_when_its_quiz_is_opened_not_when_it_is_opened(learner_client, small_course):
    assert "read</span>" not in learner_client.get("/").content.decode()
    learner_client.get("/lessons/alpha/intermediate/")
    assert '<span class="status read">read</span>' not in learner_client.get("/").content.decode()
    learner_client.get("/lessons/alpha/intermediate/quiz/")  # how a reader without JavaScript says "read"
    page = learner_client.get("/").content.decode()
    assert page.count('<span class="status read">read</span>') == 1


@pytest.mark.parametrize(
    "part, html",
    [
        ("current tab", 'aria-current="page"><span class="depth-name">Intermediate</span>'),
        ("who each depth is for", '<span class="depth-meta" id="depth-academic" aria-hidden="true">Med/bio · 1 min</span>'),
        ("table of contents", '<a href="#cells">Cells</a>'),
        ("reference list", '<section class="references"'),
        ("reference", "A test paper about bone"),
        ("quiz link", 'href="/lessons/alpha/intermediate/quiz/"'),
        ("pager", 'rel="next" href="/lessons/beta/"'),
    ],
)
def test_tier_page_shows(learner_client, small_course, part, html):
    response = learner_client.get("/lessons/alpha/intermediate/")
    assert response.status_code == 200
    assert html in response.content.decode(), part


def test_tier_page_shows_the_reviewed_date_from_the_content_files(learner_client, small_course):
    import datetime

    TierText.objects.filter(lesson__slug="alpha", tier="academic").update(reviewed=datetime.date(2026, 11, 29))
    page = learner_client.get("/lessons/alpha/academic/").content.decode()
    assert 'Reviewed <time datetime="2026-11-29">29 November 2026</time>' in page
    assert "Last updated" not in page  # the import time is not when a person checked the text


def test_each_section_links_to_the_same_section_at_the_other_depths(learner_client, small_course):
    page = learner_client.get("/lessons/alpha/fundamentals/").content.decode()
    cells = page.split('<h2 id="cells">')[1].split("</p>")[0]
    assert 'href="/lessons/alpha/intermediate/#cells"' in cells and 'href="/lessons/alpha/academic/#cells"' in cells
    assert 'href="/lessons/alpha/fundamentals/#cells"' not in cells


def test_section_links_follow_shared_keys_and_skip_solo_sections():
    from lessons.sections import add_depth_links, matching_sections

    fundamentals = [
        {"id": "bank", "level": 2, "key": "bank", "solo": False},
        {"id": "plates", "level": 2, "key": "plates", "solo": True},
    ]
    academic = [
        {"id": "igf", "level": 2, "key": "igf", "solo": False},
        {"id": "peak", "level": 2, "key": "bank", "solo": False},
        {"id": "more-peak", "level": 2, "key": "bank", "solo": False},
    ]
    assert matching_sections(fundamentals, {"academic": academic}) == {"bank": {"academic": "peak"}}
    assert matching_sections(academic, {"fundamentals": fundamentals}) == {
        "peak": {"fundamentals": "bank"}, "more-peak": {"fundamentals": "bank"},
    }
    html = add_depth_links('<h2 id="bank">Bank</h2><p>x</p><h2 id="plates" class="solo">P</h2>', {"bank": {"academic": "peak"}},
                           {"academic": ("Academic", "/l/a/")})
    assert html.count('class="also-at"') == 1 and 'href="/l/a/#peak"' in html


def test_lesson_links_open_at_the_preferred_depth(learner_client, small_course):
    page = learner_client.get("/lessons/alpha/fundamentals/").content.decode()
    assert 'rel="next" href="/lessons/beta/"' in page  # resolved per reader, not baked into the cached page
    learner_client.get("/lessons/alpha/academic/")
    assert learner_client.get("/lessons/beta/")["Location"] == "/lessons/beta/academic/"


def test_favicon_and_manifest(client):
    assert client.get("/favicon.ico")["Location"].endswith("/icons/favicon.svg")


def test_tier_page_costs_at_most_four_queries_and_no_markdown(learner_client, small_course, django_assert_max_num_queries):
    learner_client.get("/lessons/alpha/academic/")  # session cookie exists, as for a returning reader
    with mock.patch.object(markdown.Markdown, "convert", side_effect=AssertionError("markdown at request time")) as convert:
        with django_assert_max_num_queries(4):
            response = learner_client.get("/lessons/beta/intermediate/")
    assert response.status_code == 200
    assert convert.call_count == 0


def test_htmx_request_gets_only_the_lesson_partial_from_the_same_view(learner_client, small_course):
    full = learner_client.get("/lessons/alpha/academic/")
    partial = learner_client.get("/lessons/alpha/academic/", headers={"HX-Request": "true"})
    assert "<html" in full.content.decode()
    body = partial.content.decode()
    assert "<html" not in body and "site-header" not in body
    assert body.lstrip().startswith("<title>alpha academic (Academic)")  # htmx sets the document title from it
    assert '<div id="lesson"' in body
    for response in (full, partial):
        assert "HX-Request" in response.headers["Vary"]


def test_history_restore_request_gets_the_full_page(learner_client, small_course):
    response = learner_client.get("/lessons/alpha/academic/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.content.decode()


@pytest.mark.parametrize("path", ["/lessons/nope/", "/lessons/nope/fundamentals/"])
def test_an_unknown_lesson_is_404_at_once_not_after_a_redirect(learner_client, small_course, path):
    assert learner_client.get(path).status_code == 404


def test_lesson_url_redirects_to_the_depth_last_read(learner_client, small_course):
    assert learner_client.get("/lessons/alpha/")["Location"] == "/lessons/alpha/fundamentals/"
    learner_client.get("/lessons/alpha/academic/")
    assert learner_client.get("/lessons/alpha/")["Location"] == "/lessons/alpha/academic/"


@pytest.mark.parametrize("url", ["/lessons/alpha/expert/", "/lessons/nope/fundamentals/", "/glossary/nope/"])
def test_unknown_page_is_a_404_in_site_style(learner_client, small_course, url):
    response = learner_client.get(url)
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.fixture
def draft_beta(small_course):
    Lesson.objects.filter(slug="beta").update(status=Status.DRAFT)


@pytest.mark.parametrize("url", ["/lessons/beta/fundamentals/", "/lessons/beta/fundamentals/quiz/"])
def test_draft_is_a_404_for_a_learner(learner_client, draft_beta, url):
    assert learner_client.get(url).status_code == 404


def test_draft_is_not_on_the_course_map(learner_client, draft_beta):
    assert "Lesson beta" not in learner_client.get("/").content.decode()


@pytest.mark.parametrize("persona", ["instructor_client", "superuser_client"])
def test_draft_is_shown_to_staff_with_a_banner(request, draft_beta, persona):
    page = request.getfixturevalue(persona).get("/lessons/beta/fundamentals/").content.decode()
    assert "Draft: only staff can see this lesson." in page


def test_glossary_index_lists_every_term(learner_client, small_course):
    page = learner_client.get("/glossary/").content.decode()
    assert "osteoclast" in page and "PTH" in page


def test_glossary_index_filters_without_javascript(learner_client, small_course):
    filtered = learner_client.get("/glossary/?q=parathyroid").content.decode()
    assert "PTH" in filtered and 'href="/glossary/osteoclast/"' not in filtered


def test_glossary_filter_returns_only_the_results_partial_to_htmx(learner_client, small_course):
    partial = learner_client.get("/glossary/?q=osteo", headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="glossary-results"') and "<html" not in partial
    assert 'href="/glossary/osteoblast/"' in partial and 'href="/glossary/pth/"' not in partial


@pytest.mark.parametrize(
    "part, html",
    [
        ("definition", "A large cell that dissolves bone."),
        ("see also", 'href="/glossary/osteoblast/"'),
        ("lesson section using it", 'href="/lessons/alpha/fundamentals/#cells"'),
    ],
)
def test_term_page_shows(learner_client, small_course, part, html):
    assert html in learner_client.get("/glossary/osteoclast/").content.decode(), part


def test_healthz_is_200_when_the_database_answers(learner_client):
    assert learner_client.get("/healthz").status_code == 200


def test_healthz_is_503_when_the_database_is_broken(learner_client):
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=DatabaseError("down")):
        response = learner_client.get("/healthz")
    assert response.status_code == 503


def test_robots_txt_names_the_sitemap(learner_client):
    assert "Sitemap: http://testserver/sitemap.xml" in learner_client.get("/robots.txt").content.decode()


def test_sitemap_lists_tiers_and_terms(learner_client, small_course):
    sitemap = learner_client.get("/sitemap.xml").content.decode()
    assert "/lessons/alpha/academic/" in sitemap and "/glossary/pth/" in sitemap


def test_sitemap_leaves_out_drafts(learner_client, draft_beta):
    assert "/lessons/beta/" not in learner_client.get("/sitemap.xml").content.decode()


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
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/lessons/alpha/fundamentals/quiz/start/")
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


NONCE = re.compile(r"nonce-([\w-]+)")


def test_cached_tier_page_gets_a_fresh_nonce_each_time(learner_client, small_course):
    first = learner_client.get("/lessons/alpha/fundamentals/")
    second = learner_client.get("/lessons/alpha/fundamentals/")
    nonce = NONCE.search(second["Content-Security-Policy"]).group(1)
    assert NONCE.search(first["Content-Security-Policy"]).group(1) != nonce
    assert f'nonce="{nonce}"' in second.content.decode()
    assert page_cache.NONCE_MARK not in second.content.decode()


def test_cached_tier_page_shows_an_edit_at_once(learner_client, small_course):
    learner_client.get("/lessons/alpha/fundamentals/")
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    text.body = text.body.replace("Osteoclasts again.", "A brand new sentence.")
    text.save()
    assert "A brand new sentence." in learner_client.get("/lessons/alpha/fundamentals/").content.decode()


def test_cached_tier_page_is_gone_once_its_lesson_is_a_draft(learner_client, small_course):
    learner_client.get("/lessons/alpha/fundamentals/")
    lesson = Lesson.objects.get(slug="alpha")
    lesson.status = Status.DRAFT
    lesson.save()
    assert learner_client.get("/lessons/alpha/fundamentals/").status_code == 404


def test_editing_a_term_rerenders_exactly_the_tiers_that_mention_it(only_small_course):
    from lessons.models import Term

    texts = {t.pk: t.updated_at for t in TierText.objects.all()}
    pth = Term.objects.get(slug="pth")
    pth.short = "Raises blood calcium by acting on bone and kidney."
    pth.save()
    changed = {t.pk for t in TierText.objects.all() if t.updated_at != texts[t.pk]}
    mentioning = {t.pk for t in TierText.objects.all() if "PTH" in t.body}
    assert changed == mentioning and changed
    assert all("acting on bone and kidney" in t.html for t in TierText.objects.filter(pk__in=changed))


def test_renaming_a_term_moves_its_links(only_small_course):
    from lessons.models import Term

    osteoblast = Term.objects.get(slug="osteoblast")
    osteoblast.slug = "osteoblast-cell"
    osteoblast.save()
    for text in TierText.objects.all():
        assert "/glossary/osteoblast/" not in text.html and "/glossary/osteoblast-cell/" in text.html


def test_deleting_a_term_removes_its_links_and_tooltips(only_small_course):
    from lessons.models import Term

    Term.objects.get(slug="bone-mineral-density").delete()
    for text in TierText.objects.all():
        assert "/glossary/bone-mineral-density/" not in text.html and "tip-bone-mineral-density" not in text.html


def test_error_pages_are_in_the_site_style(learner_client):
    from django.template.loader import render_to_string

    assert "Something went wrong" in render_to_string("500.html") and "site-header" in render_to_string("500.html")
    page = learner_client.get("/missing/").content.decode()
    assert "Page not found" in page and "Educational use only" in page


def test_htmx_may_not_evaluate_inline_scripts(learner_client, small_course):
    page = learner_client.get("/lessons/alpha/fundamentals/").content.decode()
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


def test_list_pages_cost_a_fixed_number_of_queries(learner_client, small_course, django_assert_max_num_queries):
    learner_client.get("/lessons/alpha/fundamentals/quiz/")  # a learner with a session
    with django_assert_max_num_queries(4):  # lessons, their tiers, this learner's best scores, reviews due
        assert learner_client.get("/").status_code == 200
    with django_assert_max_num_queries(2):  # the content version, the terms (then cached)
        assert learner_client.get("/glossary/").status_code == 200
    with django_assert_max_num_queries(4):  # the content version, the term, its uses, see-also
        assert learner_client.get("/glossary/osteoclast/").status_code == 200


def test_cached_public_pages_cost_one_query_and_show_edits_at_once(client, small_course, django_assert_max_num_queries):
    from lessons.models import Term

    for url in ("/", "/glossary/", "/glossary/?q=osteo", "/glossary/osteoclast/"):
        assert client.get(url).status_code == 200
        with django_assert_max_num_queries(1):  # the content version only
            assert client.get(url).status_code == 200
    term = Term.objects.get(slug="osteoclast")
    term.short = "A freshly edited definition."
    term.save()
    for url in ("/glossary/", "/glossary/?q=osteo", "/glossary/osteoclast/"):
        assert "A freshly edited definition." in client.get(url).content.decode()
    lesson = Lesson.objects.get(slug="alpha")
    lesson.title = "Alpha, renamed"
    lesson.save()
    assert "Alpha, renamed" in client.get("/").content.decode()
    lesson.status = Status.DRAFT
    lesson.save()
    assert "Alpha, renamed" not in client.get("/").content.decode()
    # A reader with progress gets their own map, not the cached one.
    assert 'class="status read"' not in client.get("/").content.decode()
    client.get("/lessons/beta/fundamentals/")
    client.post("/lessons/beta/fundamentals/progress/", {"section": "cells", "done": "on"})  # reached the end
    assert 'class="status read"' in client.get("/").content.decode()


def test_cached_pages_give_each_reader_their_own_csrf_token(small_course):
    readers = [Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)]
    tokens = []
    for reader in readers:  # the first builds the cached page, the second is served from it
        page = reader.get("/glossary/").content.decode()
        assert page_cache.CSRF_MARK not in page
        tokens.append(re.search(r'"x-csrftoken": "([^"]+)"', page).group(1))
    start = "/lessons/alpha/fundamentals/quiz/start/"
    assert readers[1].post(start, headers={"X-CSRFToken": tokens[1]}).status_code == 302
    assert readers[0].post(start, headers={"X-CSRFToken": tokens[1]}).status_code == 403
