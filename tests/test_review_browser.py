"""Spaced review in a real Chromium (issue 17): a wrong quiz answer comes back on /review/
once due, reached from the course map, answered by keyboard, at phone and desktop widths."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from lessons.models import Choice, Question

from .test_browser import axe_violations, mark_page, not_reloaded, site  # noqa: F401 (site is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUIZ = "/lessons/alpha/fundamentals/quiz/"


def looks_right(page, width):
    """No sideways scrolling at this width, and nothing axe-core objects to."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert axe_violations(page) == []


def right_choice(name):
    return str(Choice.objects.get(question__name=name, weight__gt=0).pk)


def answer_first_question_wrong(page, site):
    page.goto(site + QUIZ)
    page.get_by_role("button", name="Start the quiz").click()
    question = Question.objects.get(pk=page.locator("input[name=question]").get_attribute("value"))
    assert question.name == "alpha-f-q1"
    page.locator(f"input[name=choice]:not([value='{right_choice('alpha-f-q1')}'])").first.check()
    page.get_by_role("button", name="Check answer").click()
    expect(page.locator(".verdict")).to_have_text("✗ Not quite")


@pytest.mark.parametrize("width", [390, 1280])
def test_a_wrong_answer_comes_back_for_review_and_is_answered_by_keyboard(new_page, site, width):
    page = new_page(viewport={"width": width, "height": 800}, bypass_csp=True)  # bypass_csp lets axe run
    answer_first_question_wrong(page, site)
    page.goto(f"{site}/")
    assert page.locator("#review-link").count() == 0  # due a minute after the wrong answer, not yet
    real_now = timezone.now
    with mock.patch("django.utils.timezone.now", side_effect=lambda: real_now() + timedelta(minutes=2)):
        page.goto(f"{site}/")
        link = page.locator("#review-link")
        expect(link).to_have_text("1 review due")
        looks_right(page, width)
        link.click()
        page.wait_for_url(f"{site}/review/")
        card = page.locator("#quiz-card")
        expect(card).to_contain_text("Which cell removes bone?")
        expect(card).to_contain_text("1 review due · from Lesson alpha · Fundamentals")
        looks_right(page, width)
        mark_page(page)

        page.locator(f"input[name=choice][value='{right_choice('alpha-f-q1')}']").focus()
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Check answer"
        page.keyboard.press("Enter")
        expect(page.locator(".verdict")).to_have_text("✓ Right")
        page.wait_for_function("document.activeElement.id === 'quiz-heading'")  # focus follows the swap
        section = card.get_by_role("link", name="Review this section of the lesson")
        assert section.get_attribute("href") == "/lessons/alpha/fundamentals/#cells"
        expect(card).to_contain_text("This question comes back in 10 minutes.")
        looks_right(page, width)

        done = card.get_by_role("link", name="Done for now")
        done.focus()
        page.keyboard.press("Enter")
        expect(card.get_by_role("heading", name="Nothing to review right now")).to_be_visible()
        expect(card).to_contain_text(re.compile(r"Your next review is due in (9|10)\s+minutes\s+\("))
        assert not_reloaded(page)
        looks_right(page, width)
        page.goto(f"{site}/")
        assert page.locator("#review-link").count() == 0


def test_without_javascript_a_review_posts_and_lands_on_its_feedback(new_page, site):
    page = new_page(java_script_enabled=False, viewport={"width": 390, "height": 800})
    answer_first_question_wrong(page, site)
    real_now = timezone.now
    with mock.patch("django.utils.timezone.now", side_effect=lambda: real_now() + timedelta(minutes=2)):
        page.goto(f"{site}/review/")
        page.locator(f"input[name=choice]:not([value='{right_choice('alpha-f-q1')}'])").first.check()
        page.get_by_role("button", name="Check answer").click()
        page.wait_for_url(f"{site}/review/?reviewed=*")
        expect(page.locator(".verdict")).to_have_text("✗ Not quite")
        expect(page.get_by_role("link", name="Review this section of the lesson")).to_be_visible()
        expect(page.locator("#quiz-card")).to_contain_text("This question comes back in 1 minute.")
