"""Reading a lesson (issue 14) in a real Chromium at 390×844 and 1280×800, light and dark:
geometry and behaviour, not screenshots. Skips only when no browser is installed."""

import os
import re
import time

import pytest
from playwright.sync_api import expect

from lessons.content_files import CONTENT_DIR, load_course, read_course
from lessons.models import TierText

from .test_browser import SCHEME_AND_WIDTH_RULES, axe_violations


os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
LONG = (
    "Bone is renewed all the time by small teams of cells that take old bone away and lay new bone "
    "down in its place, and the osteoclast leads the removal [@smith2020]. "
)


def tier_md(title, sections):
    body = "".join(f"## {heading}\n\n{LONG * 4}\n\n{LONG * 3}\n\n" for heading in sections)
    return f'+++\ntitle = "{title}"\nsummary = "Summary of {title}."\nobjectives = ["Know {title}"]\n+++\n\n{body}'


KEYED = {
    "fundamentals": ["Cells {#cells}", "Hormones {#hormones}", "Signals {#signals}", "Ageing {#ageing}", "Growth plates {#plates .solo}"],
    "intermediate": ["Cells {#cells}", "Hormones {#hormones}", "Signals {#signals}", "Ageing {#ageing}"],
    "academic": [
        "Cells {#cells}", "Hormones {#hormones}", "Open questions {#open .solo}",
        'Receptor signalling {#receptor-signalling data-section="signals"}', "Ageing {#ageing}",
    ],
}


@pytest.fixture
def keyed_site(live_server, course_dir):
    """The small course with long tiers whose sections share keys (one with its own anchor)."""
    for slug in ("alpha", "beta"):
        for tier, sections in KEYED.items():
            (course_dir / slug / f"{tier}.md").write_text(tier_md(f"{slug} {tier}", sections))
    load_course(read_course(course_dir))
    return live_server.url


@pytest.fixture
def bundled_site(live_server, bundled_course):
    return live_server.url


def wait_js(page, expression, timeout=10.0):
    """Poll a JS expression (page.wait_for_function would need eval, which our CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        page.wait_for_timeout(50)


def console_log(page):
    messages = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    return messages


def top_of(page, selector):
    return page.evaluate(f"document.querySelector({selector!r}).getBoundingClientRect().top")


def depth_bar_bottom(page):
    return page.evaluate("document.querySelector('.depth').getBoundingClientRect().bottom")


def scroll_to_section(page, anchor, javascript=True):
    page.evaluate(f"document.getElementById({anchor!r}).scrollIntoView()")
    if javascript:  # the section spy marks the contents entry on the next animation frame
        expect(page.locator(f'.toc a[href="#{anchor}"]')).to_have_attribute("aria-current", "location")


def assert_section_at_top(page, anchor):
    top, bar = top_of(page, f"#{anchor}"), depth_bar_bottom(page)
    assert bar - 1 <= top <= bar + 48, f"#{anchor} is at {top:.0f}px, the depth bar ends at {bar:.0f}px"


# --- Same place at any depth -------------------------------------------------------------------


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_switching_depth_mid_lesson_lands_on_the_matching_section_with_htmx(new_page, keyed_site, viewport):
    page = new_page(viewport=viewport)
    page.goto(f"{keyed_site}/lessons/alpha/fundamentals/")
    page.evaluate("window.__noReload = true")
    scroll_to_section(page, "signals")  # section 3
    assert page.locator(".toc a[aria-current=location]").get_attribute("href") == "#signals"
    page.locator(".depth-link", has_text="Academic").click()
    page.wait_for_url(re.compile(r"/lessons/alpha/academic/#receptor-signalling$"))
    wait_js(page, "document.querySelector('h1').innerText === 'alpha academic'")
    wait_js(page, "document.activeElement.id === 'receptor-signalling'")  # focus moves after the swap
    assert page.evaluate("window.__noReload === true"), "the switch must not load a new page"
    assert_section_at_top(page, "receptor-signalling")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_switching_depth_mid_lesson_lands_on_the_matching_section_without_javascript(new_page, keyed_site, viewport):
    page = new_page(viewport=viewport, java_script_enabled=False)
    page.goto(f"{keyed_site}/lessons/alpha/fundamentals/")
    scroll_to_section(page, "signals", javascript=False)
    page.locator("#signals + .also-at").get_by_role("link", name="Academic").click()
    page.wait_for_url(re.compile(r"/lessons/alpha/academic/#receptor-signalling$"))
    assert page.locator("h1").inner_text() == "alpha academic"
    assert_section_at_top(page, "receptor-signalling")
    # A section with no counterpart offers no false match.
    page.goto(f"{keyed_site}/lessons/alpha/fundamentals/")
    assert page.locator("#plates + .also-at").count() == 0


def test_depth_switches_keep_one_tooltip_per_term_with_that_tiers_definition_and_no_csp_errors(new_page, keyed_site):
    page = new_page(viewport=DESKTOP)
    log = console_log(page)
    page.goto(f"{keyed_site}/lessons/alpha/fundamentals/")
    term = page.locator("#hormones ~ p a.term").first
    term.hover()
    page.locator(f"#{term.get_attribute('aria-describedby')}").wait_for(state="visible")
    for tier in ["intermediate", "academic", "fundamentals", "intermediate", "academic"]:
        page.locator(".depth-link", has_text=tier.title()).click()
        wait_js(page, f"document.querySelector('h1').innerText === 'alpha {tier}'")
    page.go_back()
    wait_js(page, "document.querySelector('h1').innerText === 'alpha intermediate'")
    page.go_forward()
    wait_js(page, "document.querySelector('h1').innerText === 'alpha academic'")
    page.locator(".depth-link", has_text="Fundamentals").click()
    wait_js(page, "document.querySelector('h1').innerText === 'alpha fundamentals'")
    ids = page.evaluate("[...document.querySelectorAll('.tip')].map(t => t.id)")
    assert ids and len(ids) == len(set(ids)), f"duplicate tooltips: {ids}"
    assert page.evaluate("[...document.querySelectorAll('.tip')].every(t => t.closest('#lesson'))")
    page.mouse.move(0, 0)
    term = page.locator("a.term[aria-describedby=tip-osteoclast]").first
    term.scroll_into_view_if_needed()
    term.hover()
    tip = page.locator("#tip-osteoclast")
    tip.wait_for(state="visible")
    assert "A bone-removing cell." in tip.inner_text()  # the Fundamentals definition, not the last tier's
    assert "osteoclast" in tip.locator(".tip-title").inner_text()
    assert tip.get_by_text("Open in glossary").get_attribute("href") == "/glossary/osteoclast/"
    problems = [m for m in log if "Content Security Policy" in m or "Refused" in m or m.startswith(("error", "pageerror"))]
    assert problems == []


def test_term_preview_waits_for_hover_intent_and_tap_never_leaves_the_page(new_page, keyed_site):
    page = new_page(viewport=DESKTOP)
    page.clock.install()  # the hover-intent delay runs on this clock, not on the wall's
    page.goto(f"{keyed_site}/lessons/alpha/intermediate/")
    term = page.locator("a.term[aria-describedby=tip-osteoclast]").first
    box = term.bounding_box()
    page.mouse.move(box["x"] + 3, box["y"] + 3)
    page.clock.run_for(100)
    assert not page.locator("#tip-osteoclast").is_visible(), "a pointer crossing a term must not flash its card"
    page.clock.run_for(500)
    expect(page.locator("#tip-osteoclast")).to_be_visible()
    phone = new_page(viewport=PHONE, has_touch=True, is_mobile=True)
    phone.goto(f"{keyed_site}/lessons/alpha/intermediate/")
    term = phone.locator("a.term[aria-describedby=tip-osteoclast]").first
    term.tap()
    card = phone.locator("#tip-osteoclast")
    card.wait_for(state="visible")
    term.tap()
    card.wait_for(state="hidden")
    assert phone.url.endswith("/lessons/alpha/intermediate/"), "a second tap closes the card, it does not navigate"
    term.tap()
    card.get_by_text("Open in glossary").tap()
    phone.wait_for_url(re.compile(r"/glossary/osteoclast/$"))


# --- Depth as a preference ---------------------------------------------------------------------


def test_next_lesson_and_the_after_quiz_link_keep_the_chosen_depth(new_page, keyed_site):
    page = new_page(viewport=PHONE)
    page.goto(f"{keyed_site}/lessons/alpha/academic/")
    page.get_by_role("link", name=re.compile("Next lesson")).click()
    page.wait_for_url(re.compile(r"/lessons/beta/academic/$"))
    page.goto(f"{keyed_site}/lessons/alpha/academic/quiz/")
    page.get_by_role("button", name="Start the quiz").click()
    for labels in (["Osteoclast"], ["PTH", "Calcitriol"], ["True"]):
        page.get_by_role("button", name="Check answer").wait_for()
        for label in labels:
            page.locator("label.choice", has=page.get_by_text(label, exact=True)).locator("input").check()
        page.get_by_role("button", name="Check answer").click()
        page.locator(".verdict").wait_for()
        page.get_by_role("link", name=re.compile("Next question|See your score")).click()
    page.get_by_text("Your score: 100%").wait_for()
    assert page.get_by_role("link", name="Go deeper: this lesson at Intermediate").count() == 0  # Academic is the deepest
    page.get_by_role("link", name=re.compile("Next lesson at Academic")).click()
    page.wait_for_url(re.compile(r"/lessons/beta/academic/$"))


# --- Citations ---------------------------------------------------------------------------------


def _reference_highlighted(page):
    return page.evaluate(
        "(() => { const li = document.querySelector('.references li:target');"
        " return !!li && getComputedStyle(li).backgroundColor !== 'rgba(0, 0, 0, 0)'; })()"
    )


def test_citation_preview_highlight_and_back_link_with_mouse(new_page, keyed_site):
    page = new_page(viewport=DESKTOP)
    page.goto(f"{keyed_site}/lessons/alpha/fundamentals/")
    cite = page.locator("sup.cite a").nth(2)
    cite.hover()
    preview = page.locator("#cite-preview")
    preview.wait_for(state="visible")
    assert "A test paper about bone" in preview.inner_text()
    cite_box, preview_box = cite.bounding_box(), preview.bounding_box()
    assert preview_box["y"] >= cite_box["y"] + cite_box["height"] or preview_box["y"] + preview_box["height"] <= cite_box["y"]
    cite.click()
    page.wait_for_url(re.compile(r"#ref-smith2020$"))
    assert _reference_highlighted(page)
    page.locator("#ref-smith2020 .backlink", has_text="c").click()
    page.wait_for_url(re.compile(r"#cite-smith2020-3$"))
    assert page.evaluate("document.querySelector(':target') === document.querySelectorAll('sup.cite a')[2]")
    assert 0 <= top_of(page, "#cite-smith2020-3") < DESKTOP["height"]


def test_citation_preview_highlight_and_back_link_with_keyboard(new_page, keyed_site):
    page = new_page(viewport=DESKTOP)
    page.goto(f"{keyed_site}/lessons/alpha/fundamentals/")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.closest('sup.cite')"):
            break
    assert page.evaluate("document.activeElement.id") == "cite-smith2020-1"
    page.locator("#cite-preview").wait_for(state="visible")
    assert page.evaluate("document.activeElement.getAttribute('aria-describedby')") == "cite-preview"
    page.keyboard.press("Escape")
    page.locator("#cite-preview").wait_for(state="hidden")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"#ref-smith2020$"))
    assert _reference_highlighted(page)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "backlink"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"#cite-smith2020-1$"))


def test_citation_preview_highlight_and_back_link_with_touch(new_page, keyed_site):
    page = new_page(viewport=PHONE, has_touch=True, is_mobile=True)
    page.goto(f"{keyed_site}/lessons/alpha/fundamentals/")
    cite = page.locator("sup.cite a").first
    cite.tap()
    preview = page.locator("#cite-preview")
    preview.wait_for(state="visible")
    assert page.url.endswith("/fundamentals/"), "the first tap previews"
    box = preview.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    preview.get_by_text("Go to the reference list").tap()
    page.wait_for_url(re.compile(r"#ref-smith2020$"))
    assert _reference_highlighted(page)
    page.locator("#ref-smith2020 .backlink").first.tap()
    page.wait_for_url(re.compile(r"#cite-smith2020-1$"))


# --- Print ---------------------------------------------------------------------------------------


def test_printing_in_dark_mode_gives_dark_text_on_white(new_page, keyed_site):
    page = new_page(viewport=DESKTOP, color_scheme="dark")
    page.goto(f"{keyed_site}/lessons/alpha/fundamentals/")
    colours = """[...document.querySelectorAll('body, h1, h2, .prose p, .lede, .meta, a.term, .references li, .site-footer')]
        .filter(e => e.checkVisibility())
        .map(e => [e.tagName + '.' + e.className, getComputedStyle(e).color, getComputedStyle(e).backgroundColor])"""

    def luminance(css):
        channels = [int(v) / 255 for v in re.findall(r"\d+", css)[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    screen = page.evaluate(colours)
    assert luminance(screen[0][1]) > 0.5, "the screen really is in dark mode"
    page.emulate_media(media="print", color_scheme="dark")
    printed = page.evaluate(colours)
    assert len(printed) >= 7
    for name, colour, background in printed:
        contrast_on_white = 1.05 / (luminance(colour) + 0.05)
        assert contrast_on_white >= 4.5, f"{name} prints in {colour}"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"


# --- The whole bundled course: geometry, diagrams, axe -----------------------------------------

OVERLAPS = """() => {
  const sel = 'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])';
  const els = [...document.querySelectorAll(sel)].filter(e => e.checkVisibility({visibilityProperty: true}));
  const boxes = els.map(e => [e, [...e.getClientRects()].filter(r => r.width > 0 && r.height > 0)]).filter(b => b[1].length);
  const bad = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [a, ra] = boxes[i], [b, rb] = boxes[j];
    if (a.contains(b) || b.contains(a)) continue;
    for (const p of ra) for (const q of rb) {
      const w = Math.min(p.right, q.right) - Math.max(p.left, q.left), h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
      if (w > 0.5 && h > 0.5) bad.push([a.outerHTML.slice(0, 80), b.outerHTML.slice(0, 80), Math.round(w), Math.round(h)]);
    }
  }
  return bad.slice(0, 3);
}"""

SMALLEST_LABELS = """() => [...document.querySelectorAll('.diagram-svg')].map(svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const sizes = [...svg.querySelectorAll('text, tspan')].filter(t => t.textContent.trim())
    .map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
  return [svg.closest('figure').id, Math.min(...sizes)];
})"""

DEPTH_ROW = """() => {
  const links = [...document.querySelectorAll('.depth-link')];
  const tops = new Set(links.map(a => Math.round(a.getBoundingClientRect().top)));
  const clipped = links.filter(a => a.scrollWidth > a.clientWidth + 1 || [...a.children].some(c => c.getClientRects().length > 1));
  const nav = document.querySelector('.depth').getBoundingClientRect();
  return {rows: tops.size, clipped: clipped.length, width: nav.width, right: nav.right};
}"""


BUNDLED_LESSONS = sorted(p.parent.name for p in CONTENT_DIR.glob("*/lesson.toml"))


def test_the_bundled_course_has_ten_lessons_for_the_sweep_below():
    assert len(BUNDLED_LESSONS) == 10


# One test per lesson, so that xdist spreads the 30 tiers over every core.
@pytest.mark.parametrize("lesson", BUNDLED_LESSONS)
def test_every_tier_of_the_bundled_course_on_phone_and_desktop_light_and_dark(new_page, bundled_site, lesson):
    """Each tier: first paragraph on the first phone screen, diagram labels >= 12 px at 390 px,
    no overlapping controls, and no axe violations (best practices included) in light and dark."""
    texts = list(TierText.objects.select_related("lesson").filter(lesson__slug=lesson).order_by("tier"))
    assert len(texts) == 3
    page = new_page(viewport=PHONE, bypass_csp=True)  # bypass_csp lets axe's script run
    failures = []
    for text in texts:
        url = f"{bundled_site}{text.get_absolute_url()}"
        for viewport, scheme in ((PHONE, "light"), (DESKTOP, "dark")):
            page.set_viewport_size(viewport)
            page.emulate_media(color_scheme=scheme)
            page.goto(url)
            where = f"{text.lesson.slug}/{text.tier} at {viewport['width']}px {scheme}"
            if viewport is PHONE:
                first = page.evaluate("document.querySelector('.prose > p').getBoundingClientRect().top")
                if first >= PHONE["height"]:
                    failures.append(f"{where}: first paragraph starts at {first:.0f}px")
                for figure, size in page.evaluate(SMALLEST_LABELS):
                    if size < 12:
                        failures.append(f"{where}: {figure} has labels of {size:.1f}px")
            overlaps = page.evaluate(OVERLAPS)
            if overlaps:
                failures.append(f"{where}: overlapping controls {overlaps}")
            # Light at 390 px runs every rule; dark at 1280 px those a scheme or width can change.
            rules = None if viewport is PHONE else SCHEME_AND_WIDTH_RULES
            failures += [f"{where}: {v}" for v in axe_violations(page, rules)]
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{bundled_site}{texts[0].get_absolute_url()}")
    row = page.evaluate(DEPTH_ROW)
    assert row["rows"] == 1 and row["clipped"] == 0 and row["right"] <= 360, f"depth control at 360px: {row}"
    assert failures == []
