"""Matching, numerical and short-answer questions in a real Chromium (issue 16): answered with
the selects and text boxes, with htmx and without JavaScript, on a phone and a desktop."""

import re

import pytest
from playwright.sync_api import expect

from lessons.content_files.load import import_quiz
from lessons.models import Attempt, Quiz

from .test_browser import axe_violations, mark_page, not_reloaded
from .test_qtypes import GIFT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUIZ = "/lessons/alpha/fundamentals/quiz/"
MATCHES = {"PTH": "raises it", "Calcitonin": "lowers it briefly", "Vitamin D": "raises absorption"}


@pytest.fixture
def site(live_server, small_course):
    import_quiz(Quiz.objects.get(text__lesson__slug="alpha", text__tier="fundamentals"), GIFT)
    return live_server.url


def fits(page, width):
    return page.evaluate("document.documentElement.scrollWidth") <= width


def unlabelled(page):
    """The answer inputs that have no label with text (their accessible name)."""
    return page.evaluate(
        """[...document.querySelectorAll('#quiz-card select, #quiz-card input:not([type=hidden])')]
             .filter((e) => ![...e.labels].some((l) => l.textContent.trim())).map((e) => e.name)"""
    )


def check_answer(page, js):
    if js:
        mark_page(page)
    page.get_by_role("button", name="Check answer").click()
    page.locator(".verdict").wait_for()
    if js:
        assert not_reloaded(page), "htmx swaps the feedback into the card"
    else:
        assert "?answered=" in page.url


def next_question(page, label="Next question"):
    page.get_by_role("link", name=label).click()


# (JavaScript, width, number typed): each number is tried with and without JavaScript and at both widths.
CASES = [
    (True, 390, "-2.1"), (True, 1280, "7"), (False, 390, "7"), (False, 1280, "-2.1"),
]


@pytest.mark.parametrize("js, width, typed", CASES, ids=[f"{'htmx' if j else 'no-js'}-{w}px-{t}" for j, w, t in CASES])
def test_matching_numerical_and_short_answer_in_the_browser(new_page, site, js, width, typed):
    page = new_page(viewport={"width": width, "height": 844}, java_script_enabled=js, bypass_csp=True)
    page.goto(site + QUIZ)
    page.get_by_role("button", name="Start the quiz").click()

    # Matching: one select per item, named by its item, options in the attempt's order.
    page.get_by_text("Question 1 of 3").wait_for()
    selects = page.locator("select")
    assert selects.count() == 3
    for item, match in MATCHES.items():
        select = page.get_by_role("combobox", name=re.compile(f"^{item}"))
        expect(select).to_have_count(1)
        select.select_option(label=match)
    assert fits(page, width) and unlabelled(page) == []
    if js:
        assert axe_violations(page) == []
    check_answer(page, js)
    assert "✓ Right" in page.locator(".verdict").inner_text()
    assert page.locator(".feedback-list .tag.ok").count() == 3
    assert fits(page, width)
    next_question(page)

    # Numerical: a decimal point, as Moodle reads it in English.
    page.get_by_text("Question 2 of 3").wait_for()
    box = page.get_by_role("textbox", name=re.compile("Your answer"))
    expect(box).to_have_attribute("inputmode", "decimal")
    expect(box).to_have_accessible_name("Your answer (a number; a decimal point or comma both work)")
    box.fill(typed)
    assert fits(page, width) and unlabelled(page) == []
    if js:
        assert axe_violations(page) == []
    check_answer(page, js)
    card = page.locator("#quiz-card")
    if typed == "-2.1":  # within -2 ± 0.5: half credit
        assert "◐ Partly right" in card.inner_text() and "Close: that is the osteopenia range." in card.inner_text()
    else:
        assert "✗ Not quite" in card.inner_text() and "No. Osteoporosis starts at a lower value." in card.inner_text()
    assert f"Your answer: {typed}" in card.inner_text() and "Accepted answer: -2.5" in card.inner_text()
    assert fits(page, width)
    next_question(page)

    # Short answer: case does not matter.
    page.get_by_text("Question 3 of 3").wait_for()
    box = page.get_by_role("textbox", name="Your answer")
    expect(box).to_have_accessible_name("Your answer")
    assert unlabelled(page) == []
    box.fill("OsteoClast")
    check_answer(page, js)
    card = page.locator("#quiz-card")
    assert "✓ Right" in card.inner_text() and "Right." in card.inner_text() and "Osteoclasts are multinucleated." in card.inner_text()
    assert fits(page, width)
    next_question(page, "See your score")

    page.get_by_text("Your score:").wait_for()
    score = 83 if typed == "-2.1" else 67  # (1 + 0.5 + 1) / 3 or (1 + 0 + 1) / 3
    assert f"Your score: {score}%" in page.locator("#quiz-heading").inner_text()
    assert "2 of 3 correct" in page.locator("#quiz-heading").inner_text()
    assert Attempt.objects.get().score == pytest.approx(round(100 * (2.5 if typed == "-2.1" else 2) / 3, 1))
    assert fits(page, width)


def test_matching_items_keep_their_shuffled_order_on_reload_and_after_a_refused_answer(new_page, site):
    page = new_page()
    page.goto(site + QUIZ)
    page.get_by_role("button", name="Start the quiz").click()
    page.get_by_text("Question 1 of 3").wait_for()
    items = page.locator("label.match > span").all_inner_texts()
    options = page.locator("select").first.locator("option").all_inner_texts()
    page.reload()
    assert page.locator("label.match > span").all_inner_texts() == items
    assert page.locator("select").first.locator("option").all_inner_texts() == options
    # A forged partial answer is refused; back at the question, the order is the same.
    page.locator("select").first.evaluate("(s) => { s.required = false; }")
    for select in page.locator("select").all()[1:]:
        select.select_option(index=1)
    page.get_by_role("button", name="Check answer").click()
    page.locator("#quiz-card .notice.error").wait_for()
    page.get_by_role("link", name="Back to the quiz").click()
    page.get_by_text("Question 1 of 3").wait_for()
    assert page.locator("label.match > span").all_inner_texts() == items
