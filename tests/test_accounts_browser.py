"""Learner accounts in a real Chromium (issue 17): what one browser did anonymously is there
after signing up, on a second device after signing in, and after signing out and in again;
the account pages fit a 390 px phone."""

import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from lessons.models import ReviewItem

from .conftest import PASSWORD
from .test_browser import axe_violations, site  # noqa: F401 (site is a fixture)
from .test_loop_browser import answer

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIER = "/lessons/alpha/fundamentals/"
QUIZ = TIER + "quiz/"
PHONE = {"width": 390, "height": 844}


def fits(page, width=390):
    return page.evaluate("document.documentElement.scrollWidth") <= width


def course_map(page, site):
    """What the course map says about this learner: progress, Continue, reviews and every card
    (without the note that says where progress is kept)."""
    page.goto(f"{site}/")
    journey = page.locator(".journey").inner_text().replace(page.locator(".progress-note").inner_text(), "")
    cards = page.locator(".lesson-card").all_inner_texts()
    return journey, cards


def my_learning(page, site):
    page.goto(f"{site}/me/")
    return [page.locator(f"#{name}").locator("xpath=..").inner_text() for name in ("reviews-h", "lessons-h", "history-h")]


def sign_in(page, site, username="lena"):
    page.goto(f"{site}/")
    page.locator(".account-nav").get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site}/")
    assert page.locator(".account-name").inner_text() == username


def test_anonymous_work_moves_to_the_account_and_every_device_sees_the_same(new_page, site):
    laptop = new_page(viewport={"width": 1280, "height": 800})
    laptop.clock.install()
    laptop.goto(site + TIER)
    laptop.locator("section.references").scroll_into_view_if_needed()
    laptop.clock.fast_forward("00:30")  # the reading beacon fires once the end was on screen long enough
    laptop.locator(".read-note").wait_for()
    laptop.goto(site + QUIZ)
    laptop.get_by_role("button", name="Start the quiz").click()
    for n, right in enumerate([False, True, True], start=1):
        laptop.get_by_text(f"Question {n} of 3").wait_for()
        answer(laptop, right)
        laptop.get_by_role("link", name="See your score" if n == 3 else "Next question").click()
    laptop.get_by_text("Your score:").wait_for()
    ReviewItem.objects.update(due=timezone.now() - timedelta(minutes=1))  # the missed question is due now
    anonymous_map = course_map(laptop, site)
    assert "1 of 3 read" in anonymous_map[1][0] and "best 67%" in anonymous_map[1][0]
    assert "1 review due" in anonymous_map[0]

    laptop.locator(".account-nav").get_by_role("link", name="Sign in").click()
    laptop.get_by_role("link", name="Create one").click()
    laptop.get_by_label("Username").fill("lena")
    laptop.get_by_label("Email (optional)").fill("lena@example.org")
    laptop.get_by_label("Password", exact=True).fill(PASSWORD)
    laptop.get_by_label("Password confirmation").fill(PASSWORD)
    laptop.get_by_role("button", name="Create account").click()
    laptop.wait_for_url(f"{site}/")
    assert laptop.locator(".account-name").inner_text() == "lena"
    signed_up_map = course_map(laptop, site)
    assert laptop.locator(".progress-note").inner_text().startswith("Kept in your account")
    assert signed_up_map == anonymous_map
    history = my_learning(laptop, site)
    assert "Review now: 1 due" in history[0]
    assert re.search(r"67%\s+not passed", history[2])

    phone = new_page(viewport=PHONE)
    sign_in(phone, site)
    assert course_map(phone, site) == signed_up_map
    assert my_learning(phone, site) == history
    assert fits(phone)

    phone.locator(".account-nav").get_by_role("button", name="Sign out").click()
    phone.wait_for_url(f"{site}/")
    assert phone.locator(".account-nav").get_by_role("link", name="Sign in").is_visible()
    signed_out = course_map(phone, site)
    assert "0 of 3 read" in signed_out[1][0] and "review" not in signed_out[0]
    sign_in(phone, site)
    assert course_map(phone, site) == signed_up_map
    assert my_learning(phone, site) == history


@pytest.mark.parametrize("path", ["/account/sign-up/", "/account/sign-in/", "/account/password-reset/", "/me/"])
def test_account_pages_fit_a_phone_when_signed_out(new_page, site, path):
    page = new_page(viewport=PHONE, bypass_csp=True)  # bypass_csp lets axe's injected script run
    page.goto(site + path)
    assert page.locator("h1").is_visible()
    assert fits(page)
    assert axe_violations(page) == []


def test_account_pages_fit_a_phone_when_signed_in_with_a_long_name(new_page, site):
    from django.contrib.auth.models import User

    User.objects.create_user("a-rather-long-learner-name-2026", password=PASSWORD)
    page = new_page(viewport=PHONE, bypass_csp=True)
    sign_in(page, site, "a-rather-long-learner-name-2026")
    for path in ("/", "/me/", "/account/password/", "/me/delete/", TIER):
        page.goto(site + path)
        assert page.locator(".account-nav").get_by_role("button", name="Sign out").is_visible()
        assert fits(page), f"{path} overflows 390 px"
        if path != TIER:  # the tier page has its own axe test
            assert axe_violations(page) == [], path


HEADER_CONTROLS = ".site-header a, .site-header button, .site-header input"


def header_geometry(page):
    """The header's height and the smallest control in it (CSS px)."""
    return page.evaluate(
        f"""(() => {{
        const sizes = [...document.querySelectorAll('{HEADER_CONTROLS}')].filter(e => e.offsetParent !== null)
            .map(e => {{ const r = e.getBoundingClientRect(); return [e.textContent.trim() || e.name, r.width, r.height]; }});
        return {{height: document.querySelector('.site-header').getBoundingClientRect().height, sizes}};
        }})()"""
    )


# Two lines (brand and site links; account links and search) for a reader who is not signed
# in. Signed in, the account name, My learning and Sign out take a line of their own at 390 px.
@pytest.mark.parametrize("who, limit", [("anonymous", 100), ("learner", None)])
def test_the_site_header_takes_two_lines_on_a_phone_with_targets_big_enough(new_page, site, who, limit):
    from django.contrib.auth.models import User

    page = new_page(viewport=PHONE, bypass_csp=True)
    if who == "learner":
        User.objects.create_user("lena", password=PASSWORD)
        sign_in(page, site, "lena")
    page.goto(site + TIER)
    page.evaluate("document.fonts.ready.then(() => true)")
    geometry = header_geometry(page)
    if limit:
        assert geometry["height"] <= limit, f"the header is {geometry['height']:.0f} px tall at 390 px: more than two lines"
    small = [(name, round(w), round(h)) for name, w, h in geometry["sizes"] if w < 24 or h < 24]
    assert small == [], f"tap targets under 24x24 px: {small}"
    assert fits(page)
    assert axe_violations(page, ["target-size"]) == []
