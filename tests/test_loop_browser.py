"""The learning loop in a real Chromium: what counts as read, Continue, quiz results and
the quiz's edges (issue 15). Same browser fixture and rules as test_browser.py."""

import re

import pytest

from lessons.models import Attempt, Question

from .test_browser import mark_page, not_reloaded, site  # noqa: F401 (site is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIER = "/lessons/alpha/fundamentals/"
QUIZ = TIER + "quiz/"


def read_cards(page, site):
    page.goto(f"{site}/")
    return page.locator(".lesson-card", has_text="Lesson alpha")


def test_reading_a_tier_to_its_end_counts_it_and_continue_points_at_the_next_thing(new_page, site):
    page = new_page(viewport={"width": 800, "height": 500})
    page.clock.install()
    page.goto(site + TIER)
    page.locator("section.references").scroll_into_view_if_needed()
    page.clock.fast_forward("00:30")  # time to read it: a quarter of its reading time, at least 5 s
    page.locator(".read-note").wait_for()
    assert page.locator(".read-note").inner_text() == "✓ Counted as read on your course map."
    card = read_cards(page, site)
    assert card.locator(".status.read").count() == 1
    assert "1 of 3 read" in card.inner_text()
    assert page.locator("#continue-link").get_attribute("href") == QUIZ
    assert page.locator("#up-next-link").get_attribute("href") == "/lessons/beta/fundamentals/"


def test_a_section_update_in_flight_never_takes_back_read(new_page, site):
    """The section update (1.5 s after a heading is reached) is still on its way when "read"
    falls due. Each response sets the progress cookie from the cookie its request carried, so
    if both were sent at once and the section update answered last, "read" would be lost. The
    test holds every progress request and lets them go latest first."""
    page = new_page(viewport={"width": 800, "height": 500})
    held, release = [], []
    page.route("**/progress/", lambda route: route.continue_() if release else held.append(route))
    page.clock.install()
    page.goto(site + TIER)
    page.evaluate("document.querySelector('#hormones').scrollIntoView({block: 'start'})")
    page.clock.fast_forward("00:02")
    for _ in range(100):  # the section update reaches the route (events arrive during calls)
        if held:
            break
        page.wait_for_timeout(50)
    page.evaluate("document.querySelector('section.references').scrollIntoView({block: 'start'})")
    page.clock.fast_forward("00:30")
    page.wait_for_timeout(500)  # time for a second request to be sent, if it is sent at once
    in_flight = len(held)
    release.append(True)
    for route in reversed(held):
        route.continue_()
    page.locator(".read-note").wait_for()
    assert in_flight == 1, "the page sent a second progress request before the first was answered"
    assert read_cards(page, site).locator(".status.read").count() == 1


@pytest.fixture
def bundled_site(live_server, bundled_course):
    return live_server.url


def test_reading_to_the_end_counts_on_a_tier_with_an_evidence_legend(new_page, bundled_site):
    """The legend's heading comes after the last section; sent as the place reached, the
    server refused the whole beacon (400, "no section 'evidence-legend-h'") and the tier was
    never counted."""
    tier = "/lessons/calcium-hormones/academic/"
    page = new_page(viewport={"width": 390, "height": 844})
    replies = []
    page.on("response", lambda r: replies.append(r.status) if r.url.endswith("/progress/") else None)
    page.clock.install()
    page.goto(bundled_site + tier)
    assert page.locator("#evidence-legend-h").count() == 1
    # Scrolling down the page, the legend's heading passes the top half of the screen.
    page.evaluate("document.querySelector('#evidence-legend-h').scrollIntoView({block: 'start'})")
    page.clock.fast_forward("00:02")
    page.evaluate("document.querySelector('section.references').scrollIntoView({block: 'start'})")
    page.clock.fast_forward("01:00")
    page.locator(".read-note").wait_for()
    assert 400 not in replies
    page.goto(bundled_site + "/")
    card = page.locator(".lesson-card", has_text="Calcium")
    assert card.locator(".status.read").count() == 1


def test_opening_a_tier_without_reading_to_its_end_does_not_count(new_page, site):
    page = new_page(viewport={"width": 800, "height": 500})
    page.clock.install()
    for tier in ("fundamentals", "intermediate", "academic"):
        page.goto(f"{site}/lessons/alpha/{tier}/")
        page.clock.fast_forward("01:00")  # a minute on the page, never scrolled to the end
    page.goto(f"{site}/lessons/alpha/academic/")
    page.locator("section.references").scroll_into_view_if_needed()  # and a glance at the end, at once
    card = read_cards(page, site)
    assert card.locator(".status.read").count() == 0
    assert "0 of 3 read" in card.inner_text()


def test_a_reader_without_javascript_counts_a_tier_by_opening_its_quiz(new_page, site):
    page = new_page(java_script_enabled=False)
    page.goto(site + TIER)
    assert read_cards(page, site).locator(".status.read").count() == 0
    page.goto(site + TIER)
    page.get_by_role("link", name="Take the Fundamentals quiz").click()
    page.get_by_role("button", name="Start the quiz").wait_for()
    assert read_cards(page, site).locator(".status.read").count() == 1


def answer(page, right):
    """Answer the question on screen, rightly or wrongly, and wait for the feedback."""
    question = Question.objects.get(pk=page.locator("input[name=question]").get_attribute("value"))
    wanted = {str(c.pk) for c in question.choices.all() if (c.weight > 0) == right}
    for box in page.locator("input[name=choice]").all():
        if box.get_attribute("value") in wanted:
            box.check()
            if question.kind != "multiple":
                break
    page.get_by_role("button", name="Check answer").click()
    page.locator(".verdict").wait_for()


def test_results_show_n_of_m_correct_and_a_question_map_linking_feedback_and_sections(new_page, site):
    page = new_page()
    page.goto(site + QUIZ)
    page.get_by_role("button", name="Start the quiz").click()
    for n, right in enumerate([True, False, True], start=1):
        page.get_by_text(f"Question {n} of 3").wait_for()
        answer(page, right)
        page.get_by_role("link", name="See your score" if n == 3 else "Next question").click()
    page.get_by_text("Your score:").wait_for()
    assert "2 of 3 correct" in page.locator("#quiz-heading").inner_text()
    items = page.locator(".question-map li")
    assert items.count() == 3
    assert [items.nth(i).get_attribute("class") for i in range(3)] == ["verdict-right", "verdict-wrong", "verdict-right"]
    assert page.locator(".result-banner .result-state").inner_text() in {"✓ Passed", "Not passed yet"}
    section = items.nth(1).get_by_role("link", name=re.compile("Lesson section for question 2"))
    assert section.get_attribute("href") == TIER + "#hormones"
    items.nth(1).get_by_role("link", name="Feedback on question 2").click()
    page.locator(".verdict").wait_for()
    assert "Not quite" in page.locator(".verdict").inner_text()


def go_to_multiple_question(page, site):
    page.goto(site + QUIZ)
    page.get_by_role("button", name="Start the quiz").click()
    page.get_by_text("Question 1 of 3").wait_for()
    answer(page, True)
    page.get_by_role("link", name="Next question").click()
    page.get_by_text("Question 2 of 3").wait_for()
    assert page.locator("input[type=checkbox]").count() == 3


def test_empty_multiple_select_never_reaches_the_server_and_says_so_inline(new_page, site):
    page = new_page()
    go_to_multiple_question(page, site)
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.get_by_role("button", name="Check answer").click()
    message = page.locator("#choice-error")
    message.wait_for(state="visible")
    assert message.inner_text() == "Choose at least one answer, then check it."
    page.wait_for_timeout(300)
    assert posts == []
    assert page.locator("input[type=checkbox]").count() == 3, "the question stays on screen"
    page.locator("input[type=checkbox]").first.check()
    message.wait_for(state="hidden")
    page.get_by_role("button", name="Check answer").click()
    page.locator(".verdict").wait_for()
    assert len(posts) == 1


def test_in_debug_a_refused_answer_stays_inside_the_card(new_page, site, settings):
    settings.DEBUG = True  # django-htmx then adds its error handler, which would swap the whole document
    page = new_page()
    page.goto(site + QUIZ)
    assert page.locator("script[src*='django-htmx']").count() == 1
    page.get_by_role("button", name="Start the quiz").click()
    page.get_by_text("Question 1 of 3").wait_for()
    mark_page(page)
    page.locator("input[name=attempt]").evaluate("(input) => { input.value = '999999'; }")
    page.locator("input[name=choice]").first.check()
    page.get_by_role("button", name="Check answer").click()
    page.locator("#quiz-card .notice.error").wait_for()
    assert "That attempt does not exist" in page.locator("#quiz-card").inner_text()
    assert not_reloaded(page)
    assert page.locator("header.site-header").is_visible() and page.locator("footer.site-footer").is_visible()
    assert page.locator("h1").count() == 1
    assert Attempt.objects.get().answers.count() == 0


def test_feedback_tags_stay_inside_their_choice_at_390px(new_page, site):
    for choice in Question.objects.filter(kind="single").first().choices.filter(weight__gt=0):
        choice.text = "Osteoclast, the large many-nucleated cell that dissolves mineral and matrix where bone is renewed"
        choice.save()  # renders text_html, which the page shows
    page = new_page(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page.goto(site + QUIZ)
    page.get_by_role("button", name="Start the quiz").click()
    page.get_by_text("Question 1 of 3").wait_for()
    answer(page, False)
    items = page.locator(".feedback-list li")
    tags = 0
    for i in range(items.count()):
        li = items.nth(i).bounding_box()
        for tag in items.nth(i).locator(".tag").all():
            box = tag.bounding_box()
            tags += 1
            assert li["x"] <= box["x"] and box["x"] + box["width"] <= li["x"] + li["width"] + 0.5
            assert li["y"] <= box["y"] and box["y"] + box["height"] <= li["y"] + li["height"] + 0.5
    assert tags == 2  # "your answer" on one choice, "correct" on another
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
