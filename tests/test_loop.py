"""The learning loop (issue 15) as a client without a browser sees it: what counts as read,
Continue and Up next, quiz results, error pages for HEAD, wrong methods and CSRF, and the
glossary filter's order, marks and suggestions."""

import re

import pytest
from django.test import Client

from lessons.content_files import CONTENT_DIR, ContentError, read_course
from lessons.models import Attempt, Term, name_key

pytestmark = pytest.mark.django_db

QUIZ = "/lessons/alpha/fundamentals/quiz/"


def names_listed(page):
    return re.findall(r'<dt><a href="/glossary/([^/]+)/">', page)


# --- HEAD, 405, CSRF ----------------------------------------------------------------------------


def test_head_answers_200_where_get_does(client, small_course):
    for url in ("/", "/lessons/alpha/fundamentals/", "/glossary/", "/glossary/osteoclast/", "/healthz", "/robots.txt", QUIZ):
        response = client.head(url)
        assert response.status_code == 200, url
        assert response.content == b"", url


def test_get_on_a_post_only_url_is_a_site_styled_405_with_allow(client, small_course):
    for url in (QUIZ + "answer/", QUIZ + "start/", "/lessons/alpha/fundamentals/progress/"):
        response = client.get(url)
        assert response.status_code == 405
        assert response["Allow"] == "POST"
        page = response.content.decode()
        assert "cannot be opened directly" in page and 'class="site-header"' in page and "Educational use only" in page


def test_post_on_a_page_is_a_405_that_names_get_and_head(client, small_course):
    response = client.post("/glossary/")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert "cannot be opened directly" in response.content.decode()


def test_csrf_failure_is_a_site_styled_403_asking_to_reload(small_course):
    client = Client(enforce_csrf_checks=True)
    response = client.post(QUIZ + "start/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "<h1>Please reload the page</h1>" in page and 'class="site-header"' in page
    assert "Forbidden" not in page and "CSRF verification failed" not in page
    assert Attempt.objects.count() == 0


def test_csrf_failure_on_an_htmx_answer_is_the_quiz_card_not_a_page(small_course):
    client = Client(enforce_csrf_checks=True)
    response = client.post(QUIZ + "answer/", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 403
    assert body.lstrip().startswith('<section id="quiz-card"') and "<html" not in body
    assert "Reload the page" in body


# --- What counts as read; Continue and Up next --------------------------------------------------


def course_map(client):
    return client.get("/").content.decode()


def continue_link(page):
    found = re.search(r'id="continue-link" href="([^"]+)"', page)
    return found.group(1) if found else None


def test_opening_tiers_does_not_count_them_as_read(client, small_course):
    for tier in ("fundamentals", "intermediate", "academic"):
        client.get(f"/lessons/alpha/{tier}/")
    page = course_map(client)
    assert "status read" not in page
    assert "0 of 6 tiers read" in page


def test_the_reading_beacon_counts_a_tier_and_continue_points_at_its_quiz_then_the_next_lesson(client, small_course):
    client.get("/lessons/alpha/intermediate/")
    assert client.post("/lessons/alpha/intermediate/progress/", {"section": "cells"}).status_code == 204
    page = course_map(client)
    assert continue_link(page) == "/lessons/alpha/intermediate/#cells"
    assert "Continue where you left off" in page and "at “Cells”" in page
    assert "status read" not in page and '<span class="status started">started</span>' in page

    assert client.post("/lessons/alpha/intermediate/progress/", {"section": "hormones", "done": "1"}).status_code == 204
    page = course_map(client)
    assert page.count('<span class="status read">read</span>') == 1
    assert "1 of 6 tiers read" in page and "1 of 3 read" in page
    assert continue_link(page) == "/lessons/alpha/intermediate/quiz/"
    assert 'id="up-next-link" href="/lessons/beta/intermediate/"' in page  # the depth the reader reads at


def test_the_beacon_refuses_unknown_sections_and_tiers(client, small_course):
    assert client.post("/lessons/alpha/intermediate/progress/", {"section": "nowhere"}).status_code == 400
    assert client.post("/lessons/alpha/intermediate/progress/", {"section": "<script>"}).status_code == 400
    assert client.post("/lessons/nope/intermediate/progress/", {"done": "1"}).status_code == 404
    assert "status read" not in course_map(client)


def test_tier_page_sets_the_csrf_cookie_the_beacon_needs_but_its_html_stays_shared(small_course):
    first, second = Client(), Client()
    a = first.get("/lessons/alpha/fundamentals/")
    b = second.get("/lessons/alpha/fundamentals/")
    assert a.cookies["csrftoken"].value and a.cookies["csrftoken"].value != b.cookies["csrftoken"].value
    strip = lambda r: re.sub(r'nonce="[^"]+"', "", r.content.decode())  # noqa: E731
    assert strip(a) == strip(b)


def test_new_reader_sees_start_here_and_lesson_numbers(client, small_course):
    page = course_map(client)
    assert "Start here" in page and continue_link(page) == "/lessons/alpha/fundamentals/"
    assert "Lesson 1 of 2" in page and "Lesson 2 of 2" in page
    assert "0 of 6 tiers read, 0 of 6 quizzes passed" in page


def test_course_map_query_counts_are_pinned(client, small_course, django_assert_num_queries):
    with django_assert_num_queries(3):  # the content version, lessons, their tiers (with whether each has a quiz)
        assert client.get("/").status_code == 200
    with django_assert_num_queries(1):  # a new reader's map is the same for all: cached, checked by one query
        assert client.get("/").status_code == 200
    client.get(QUIZ)  # now a learner with an id: their best scores and reviews due cost two more
    with django_assert_num_queries(4):  # personal now: lessons, tiers, best scores, reviews due
        assert client.get("/").status_code == 200
    client.post("/lessons/beta/academic/progress/", {"section": "cells"})
    with django_assert_num_queries(5):  # and the name of the section "Continue" goes back to
        assert "at “Cells”" in client.get("/").content.decode()


# --- Quiz results and edges -----------------------------------------------------------------------


def take_quiz(client, right):
    client.post(QUIZ + "start/")
    attempt = Attempt.objects.get()
    for question in attempt.quiz.questions.active().prefetch_related("choices"):
        choices = [c for c in question.choices.all() if (c.weight > 0) == right]
        client.post(QUIZ + "answer/", {"attempt": attempt.pk, "question": question.pk, "choice": [c.pk for c in choices][:1 if not right else None]})
    return attempt


def test_results_show_n_of_m_correct_a_question_map_and_the_pass_state(client, small_course):
    attempt = take_quiz(client, right=True)
    page = client.get(QUIZ).content.decode()
    assert "3 of 3 correct" in page and "✓</span> Passed" in page
    for question in attempt.quiz.questions.all():
        assert f'href="{QUIZ}?answered={question.pk}"' in page
    assert 'href="/lessons/alpha/fundamentals/#cells"' in page and "Section: Hormones" in page
    assert page.count('<li class="verdict-right">') == 3


def test_failed_results_say_not_passed_and_list_sections_to_review_once(client, small_course):
    take_quiz(client, right=False)
    page = client.get(QUIZ).content.decode()
    assert "0 of 3 correct" in page and "Not passed yet" in page and "Passed</p>" not in page
    review = page.split("Worth reviewing")[1].split("</ul>")[0]
    assert review.count('href="/lessons/alpha/fundamentals/#cells"') == 1 and "questions 1, 3" in review


def test_quiz_title_does_not_repeat_a_colon(client, small_course):
    from lessons.models import TierText

    TierText.objects.filter(lesson__slug="alpha", tier="fundamentals").update(title="Bone is alive: osteocyte control")
    page = client.get(QUIZ).content.decode()
    h1 = re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)
    assert re.sub(r"<[^>]+>", " ", h1).count(":") == 1
    assert "Quiz:" not in page


def test_empty_multiple_select_answer_asks_again_in_place_with_400(client, small_course):
    client.post(QUIZ + "start/")
    attempt = Attempt.objects.get()
    question = attempt.quiz.questions.get(kind="multiple")
    for _ in range(2):  # answer the questions before it
        current = attempt.quiz.questions.exclude(answers__attempt=attempt).order_by("position").first()
        if current == question:
            break
        client.post(QUIZ + "answer/", {"attempt": attempt.pk, "question": current.pk, "choice": current.choices.first().pk})
    response = client.post(QUIZ + "answer/", {"attempt": attempt.pk, "question": question.pk}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 400
    assert body.lstrip().startswith('<section id="quiz-card"')
    assert 'type="checkbox"' in body and "Choose an answer before submitting." in body and 'aria-invalid="true"' in body
    assert not attempt.answers.filter(question=question).exists()


# --- Glossary -------------------------------------------------------------------------------------


def test_osteo_lists_names_containing_it_first_then_definitions(client, bundled_course):
    page = client.get("/glossary/", {"q": "osteo"}).content.decode()
    listed = names_listed(page)
    in_name = [t.slug for t in Term.objects.all() if "osteo" in name_key(t.term)]
    assert set(listed[: len(in_name)]) == set(in_name)
    assert listed[:2] == ["osteoblast", "osteoclast"]  # names starting with it, A–Z, before names containing it
    assert listed.index("glucocorticoid-induced-osteoporosis") < listed.index("abaloparatide")
    assert "in the definition" in page


def test_matches_are_marked_after_escaping(client, small_course):
    Term.objects.filter(slug="osteoblast").update(short="Builds bone <b>fast</b> & osteoid.")
    page = client.get("/glossary/", {"q": "osteo"}).content.decode()
    assert "<mark>Osteo</mark>clast" in page and "<mark>osteo</mark>blasts" in page
    page = client.get("/glossary/", {"q": "fast"}).content.decode()
    assert "&lt;b&gt;<mark>fast</mark>&lt;/b&gt; &amp; osteoid." in page


def test_a_typo_suggests_the_term_and_offers_clear(client, bundled_course):
    page = client.get("/glossary/", {"q": "osteoclst"}).content.decode()
    assert "0 terms matching" in page
    suggestions = page.split("Did you mean")[1].split("</p>")[0]
    assert suggestions.index('href="/glossary/osteoclast/"') == suggestions.index("href")
    assert '<a class="clear" href="/glossary/">Clear the filter</a>' in page


def test_term_page_uses_display_casing_plain_words_first_and_teaching_order(client, small_course):
    page = client.get("/glossary/osteoclast/").content.decode().split("<main")[1]
    assert "<h1>Osteoclast</h1>" in page
    assert page.index("A bone-removing cell.") < page.index("A large cell that dissolves bone.")
    uses = re.findall(r'href="/lessons/(\w+)/(\w+)/#\w+"', page.split("Where it is used")[1])
    assert uses == [(lesson, tier) for lesson in ("alpha", "beta") for tier in ("fundamentals", "intermediate", "academic")]
    assert "<h1>PTH</h1>" in client.get("/glossary/pth/").content.decode()


def test_no_bundled_term_lists_names_that_differ_only_by_case_or_hyphen():
    for entry in read_course(CONTENT_DIR).terms:
        keys = [name_key(n) for n in [entry.fields["term"], *entry.fields.get("aliases", [])]]
        assert len(keys) == len(set(keys)), entry.fields["slug"]


@pytest.mark.parametrize(
    "before, after, twin, of, first",
    [
        ('aliases = ["osteoclasts"]', 'aliases = ["osteoclasts",\n  "OsteoClasts"]', "OsteoClasts", "osteoclast", "osteoclasts"),
        ('slug = "bone-mineral-density"\nterm = "bone mineral density"\naliases = []',
         'slug = "bone-mineral-density"\nterm = "bone mineral density"\naliases = ["BMD", "Bone-mineral density"]',
         "Bone-mineral density", "bone-mineral-density", "bone mineral density"),
    ],
    ids=["case", "hyphen"],
)
def test_importer_refuses_case_or_hyphen_twins_with_file_and_line(course_dir, before, after, twin, of, first):
    path = course_dir / "glossary.toml"
    text = path.read_text()
    assert before in text
    text = text.replace(before, after)
    path.write_text(text)
    with pytest.raises(ContentError) as info:
        read_course(course_dir)
    line = text[: text.index(f'"{twin}"')].count("\n") + 1
    assert info.value.errors == [
        f"{path}:{line}: '{twin}' of '{of}' differs from '{first}' only by case or hyphen/space; keep one of them"
    ]


def test_admin_refuses_case_or_hyphen_twins(small_course):
    from django.core.exceptions import ValidationError

    term = Term.objects.get(slug="pth")
    term.aliases = ["parathyroid hormone", "Parathyroid-Hormone"]
    with pytest.raises(ValidationError, match="only by case or hyphen/space"):
        term.clean()
