"""End-to-end tests in a real Chromium (Playwright), with and without JavaScript.

They skip only when no browser is installed; with REQUIRE_BROWSER=1 (set by CI) a
missing browser is a failure.
"""

import os
import re

import pytest
from playwright.sync_api import expect

from lessons.models import Attempt, Lesson, Status, TierText

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

@pytest.fixture
def site(live_server, small_course):
    return live_server.url


def mark_page(page):
    """Set a flag that survives htmx swaps but not a full page load."""
    page.evaluate("window.__noReload = true")


def not_reloaded(page):
    return page.evaluate("window.__noReload === true")


# --- Lesson tiers -----------------------------------------------------------------------------


def test_tier_tabs_swap_with_htmx_push_url_move_focus_and_back_works(new_page, site):
    page = new_page()
    page.goto(f"{site}/lessons/alpha/fundamentals/")
    mark_page(page)
    page.locator(".depth").get_by_role("link", name="Academic", exact=True).click()
    page.wait_for_url(re.compile(r"/lessons/alpha/academic/$"))
    expect(page.locator("#lesson-title")).to_be_focused()
    assert page.locator("h1").inner_text() == "alpha academic"
    assert page.title().startswith("alpha academic")
    assert not_reloaded(page)
    page.go_back()
    page.wait_for_url(re.compile(r"/lessons/alpha/fundamentals/$"))
    expect(page.locator("h1")).to_have_text("alpha fundamentals")


def test_tier_tabs_are_plain_links_without_javascript(new_page, site):
    page = new_page(java_script_enabled=False)
    page.goto(f"{site}/lessons/alpha/fundamentals/")
    page.locator(".depth").get_by_role("link", name="Intermediate", exact=True).click()
    page.wait_for_url(re.compile(r"/lessons/alpha/intermediate/$"))
    assert page.locator("h1").inner_text() == "alpha intermediate"
    page.go_back()
    page.wait_for_url(re.compile(r"/lessons/alpha/fundamentals/$"))
    assert page.locator("h1").inner_text() == "alpha fundamentals"


# --- Glossary tooltips ------------------------------------------------------------------------


def test_tooltip_hover_stays_on_tooltip_escape_dismisses_and_focus_shows(new_page, site):
    page = new_page()
    page.clock.install()  # the hide delay runs on a virtual clock, moved on below without sleeping
    page.goto(f"{site}/lessons/alpha/fundamentals/")
    term = page.locator("a.term", has_text="osteoclast").first
    tip = page.locator("#tip-osteoclast")
    assert term.get_attribute("aria-describedby") == "tip-osteoclast"
    term.hover()
    tip.wait_for(state="visible")
    assert tip.locator(".tip-text").inner_text() == "A bone-removing cell."  # the Fundamentals definition
    term_box, tip_box = term.bounding_box(), tip.bounding_box()
    overlap = not (tip_box["y"] >= term_box["y"] + term_box["height"] or tip_box["y"] + tip_box["height"] <= term_box["y"])
    assert not overlap, "the tooltip covers its term"
    page.mouse.move(tip_box["x"] + 5, tip_box["y"] + tip_box["height"] / 2, steps=5)
    page.clock.run_for(2000)  # well past the 300 ms hide delay
    expect(tip).to_be_visible()  # the tooltip stays while the pointer is over it
    page.keyboard.press("Escape")
    tip.wait_for(state="hidden")
    page.mouse.move(0, 0)
    page.locator("body").click(position={"x": 2, "y": 2})
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('term')"):
            break
    assert page.evaluate("document.activeElement.classList.contains('term')")
    focused_tip = page.evaluate("document.activeElement.getAttribute('aria-describedby')")
    page.locator(f"#{focused_tip}").wait_for(state="visible")
    page.keyboard.press("Escape")
    page.locator(f"#{focused_tip}").wait_for(state="hidden")


def test_tooltip_opens_on_tap_on_a_phone(new_page, site):
    page = new_page(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page.goto(f"{site}/lessons/alpha/intermediate/")
    term = page.locator("a.term", has_text="osteoclast").first
    term.tap()
    page.locator("#tip-osteoclast").wait_for(state="visible")
    assert page.url.endswith("/lessons/alpha/intermediate/"), "the first tap shows the definition, not the entry"
    box = page.locator("#tip-osteoclast").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390


def test_glossary_live_filter(new_page, site):
    page = new_page()
    page.goto(f"{site}/glossary/")
    mark_page(page)
    page.get_by_label("Filter terms").fill("parathyroid")
    expect(page.locator("#glossary-results")).to_contain_text("1 term matching")
    assert page.locator("#glossary-results a", has_text="PTH").count() == 1
    assert not_reloaded(page)


def test_search_live_results_update_the_url_and_the_form_works_without_js(new_page, site):
    page = new_page()
    page.goto(f"{site}/search/")
    mark_page(page)
    page.get_by_label("Search the lessons and the glossary").fill("osteocl")
    expect(page.locator("#search-results")).to_contain_text("In the lessons")
    assert page.locator("#search-results mark", has_text="osteoclast").count() > 0
    assert not_reloaded(page) and page.url.endswith("/search/?q=osteocl")
    box = page.get_by_label("Search the lessons and the glossary")
    box.fill("osteoblast")
    expect(page).to_have_url(re.compile(r"q=osteoblast$"))
    page.go_back()  # htmx restores the earlier results; the box must say what they are for
    expect(page).to_have_url(re.compile(r"q=osteocl$"))
    expect(box).to_have_value("osteocl")
    plain = new_page(java_script_enabled=False)
    plain.goto(f"{site}/")
    plain.locator("#site-q").fill("osteoblast")
    plain.locator(".site-search button").click()
    plain.get_by_role("heading", name="In the lessons").wait_for()
    assert plain.url.endswith("/search/?q=osteoblast")


# --- Quizzes ----------------------------------------------------------------------------------


def answer_all(page, htmx):
    page.get_by_role("button", name="Start the quiz").click()
    for n in range(1, 4):
        page.get_by_text(f"Question {n} of 3").wait_for()
        if htmx:
            mark_page(page)
        page.locator("input[name=choice]").first.check()
        page.get_by_role("button", name="Check answer").click()
        page.locator(".verdict").wait_for()
        assert page.get_by_role("link", name="Review this section of the lesson").is_visible()
        if htmx:
            assert not_reloaded(page), "answering must not load a new page"
        label = "See your score" if n == 3 else "Next question"
        page.get_by_role("link", name=label).click()
    page.get_by_text("Your score:").wait_for()
    return page.locator("#quiz-heading").inner_text()


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_take_a_whole_quiz_and_see_the_score_on_the_course_map(new_page, site, javascript):
    page = new_page(java_script_enabled=javascript)
    page.goto(f"{site}/lessons/alpha/fundamentals/quiz/")
    heading = answer_all(page, htmx=javascript)
    score = re.search(r"(\d+)%", heading).group(1)
    assert Attempt.objects.filter(finished_at__isnull=False).count() == 1
    page.goto(f"{site}/")
    assert f"best {score}%" in page.locator(".lesson-card", has_text="Lesson alpha").inner_text()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_starting_a_quiz_puts_focus_on_the_first_question(new_page, site, javascript):
    page = new_page(java_script_enabled=javascript)
    page.goto(f"{site}/lessons/alpha/fundamentals/quiz/")
    page.get_by_role("button", name="Start the quiz").click()
    page.get_by_text("Question 1 of 3").wait_for()
    question = page.locator("#quiz-card fieldset legend .question-text")
    expect(question).to_be_focused()
    # The next Tab goes to the first answer, not back through the header.
    page.keyboard.press("Tab")
    expect(page.locator("#quiz-card input[name=choice]").first).to_be_focused()


# --- Instructor authoring ----------------------------------------------------------------------


def test_instructor_edits_previews_publishes_and_reverts(new_page, site, instructor):
    Lesson.objects.filter(slug="beta").update(status=Status.DRAFT)
    text = TierText.objects.get(lesson__slug="beta", tier="fundamentals")
    page = new_page()
    page.goto(f"{site}/admin/login/?next=/admin/")
    page.fill("#id_username", "ina")
    page.fill("#id_password", "pw-ina-123456")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site}/admin/")
    page.goto(f"{site}/admin/lessons/tiertext/{text.pk}/change/")
    preview = page.locator(".markdown-preview")
    preview.locator(".preview-body").wait_for()
    body = page.locator("#id_body")
    body.fill("## Rewritten {#rewritten}\n\nEvery osteoblast here is freshly described.")
    preview.get_by_text("freshly described").wait_for()
    assert preview.locator('a.term[href="/glossary/osteoblast/"]').count() == 1
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/lessons/tiertext/$"))
    page.goto(f"{site}/admin/lessons/lesson/")
    page.locator(f"input[name=_selected_action][value='{text.lesson_id}']").check()
    page.select_option("select[name=action]", "publish")
    page.get_by_role("button", name="Run").click()
    page.get_by_text("Published 1 lesson(s).").wait_for()
    public = new_page()
    public.goto(f"{site}/lessons/beta/fundamentals/")
    assert "freshly described" in public.locator(".prose").inner_text()
    page.goto(f"{site}/admin/lessons/tiertext/{text.pk}/history/")
    page.locator("#change-history tbody tr:last-child td:first-child a").click()  # the oldest version
    page.get_by_role("button", name=re.compile("Revert")).click()
    page.wait_for_url(re.compile(r"/admin/lessons/tiertext/"))
    public.reload()
    assert "Osteoclasts again." in public.locator(".prose").inner_text()
    assert "freshly described" not in public.locator(".prose").inner_text()


# --- Accessibility -----------------------------------------------------------------------------


# The rules whose result can change with the colour scheme or the width of the window; every
# other rule reads markup that is the same in both schemes and at every width.
SCHEME_AND_WIDTH_RULES = ["color-contrast", "link-in-text-block", "target-size", "scrollable-region-focusable"]


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(page, rules=None):
    """axe's violations on the page: every WCAG 2.2 A/AA rule and best practice (axe leaves
    some 2.2 rules, target size among them, out unless asked), or only the given rules."""
    from axe_playwright_python.sync_playwright import Axe

    only = {"type": "rule", "values": rules} if rules else {"type": "tag", "values": AXE_TAGS}
    options = {"runOnly": only, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options)
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes, e.g. {v['nodes'][0]['target']})" for v in results.response["violations"]]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_on_any_page(new_page, site, instructor, scheme):
    # bypass_csp lets axe's injected script run; the pages themselves are unchanged.
    page = new_page(color_scheme=scheme, bypass_csp=True)
    checked = {}

    def check(name):
        page.evaluate("document.fonts.ready.then(() => true)")  # sizes are final once fonts are in
        # Light mode runs every rule; dark mode only those a colour scheme can change.
        checked[name] = axe_violations(page, None if scheme == "light" else SCHEME_AND_WIDTH_RULES)

    for path, name in [
        ("/", "course map"),
        ("/lessons/alpha/fundamentals/", "fundamentals tier"),
        ("/lessons/alpha/intermediate/", "intermediate tier"),
        ("/lessons/alpha/academic/", "academic tier"),
        ("/glossary/", "glossary index"),
        ("/glossary/osteoclast/", "term page"),
        ("/no/such/page/", "404 page"),
    ]:
        page.goto(site + path)
        check(name)
    page.goto(f"{site}/lessons/alpha/fundamentals/quiz/")
    page.get_by_role("button", name="Start the quiz").click()
    page.get_by_text("Question 1 of 3").wait_for()
    check("quiz mid-attempt")
    page.locator("input[name=choice]").first.check()
    page.get_by_role("button", name="Check answer").click()
    page.locator(".verdict").wait_for()
    check("quiz feedback")
    page.goto(f"{site}/admin/login/")
    page.fill("#id_username", "ina")
    page.fill("#id_password", "pw-ina-123456")
    page.get_by_role("button", name="Log in").click()
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    page.goto(f"{site}/admin/lessons/tiertext/{text.pk}/change/")
    page.locator(".markdown-preview .preview-body").wait_for()
    check("admin change form with preview")
    assert {name: v for name, v in checked.items() if v} == {}


FOCUSED = (
    "(Array.from(document.querySelectorAll('a[href], button, input, select, textarea, summary:not([tabindex=\"-1\"]), [tabindex=\"0\"]')).indexOf(document.activeElement)"
    " + ' ' + document.activeElement.outerHTML.slice(0, 80))"
)


def test_keyboard_reaches_every_control_with_visible_focus_and_no_trap(new_page, site):
    page = new_page()
    page.goto(f"{site}/lessons/alpha/intermediate/")
    expected = page.evaluate(
        "Array.from(document.querySelectorAll('a[href], button, input, select, textarea, summary:not([tabindex=\"-1\"]), [tabindex=\"0\"]'))"
        ".filter(e => e.offsetParent !== null || e.classList.contains('skip-link')).length"
    )
    seen, first = set(), None
    for _ in range(expected + 5):
        page.keyboard.press("Tab")
        info = page.evaluate(
            "(() => { const e = document.activeElement; const s = getComputedStyle(e);"
            f" return {{key: {FOCUSED}, tag: e.tagName,"
            " visible: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0}; })()"
        )
        if info["tag"] == "BODY":
            break
        if first is None:
            first = info["key"]
        elif info["key"] == first:
            break
        assert info["visible"], f"no visible focus on {info['key']}"
        seen.add(info["key"])
        last = info["key"]
    assert len(seen) == expected, f"reached {len(seen)} of {expected} controls"
    page.keyboard.press("Shift+Tab")  # focus goes backwards too: no trap
    assert page.evaluate(FOCUSED) == last
