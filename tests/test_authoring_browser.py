"""Issue 12 as an instructor meets it: real Chromium, real typing into the admin's textareas, real saves."""

import os
import re
import subprocess

import pytest
from django.core.management import call_command

from lessons.content_files import CONTENT_DIR
from lessons.models import Lesson, TierText


def wait_js(page, expression, timeout=10.0):
    """Poll a JS expression (page.wait_for_function would need eval, which the admin's CSP forbids)."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        page.wait_for_timeout(50)


os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LESSON = "bone-is-alive"
TIERS = ["fundamentals", "intermediate", "academic"]


@pytest.fixture
def bundled(live_server, bundled_course):
    return live_server.url


def log_in(page, site):
    page.goto(f"{site}/admin/login/?next=/admin/")
    page.fill("#id_username", "ina")
    page.fill("#id_password", "pw-ina-123456")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site}/admin/")


def plain_word(body):
    """A word that occurs once, on a prose line, so replacing it changes one line and nothing else."""
    prose = [line for line in body.split("\n") if line and line[0].isalpha()]
    counts = {}
    for word in re.findall(r"\b[a-z]{7,}\b", body):
        counts[word] = counts.get(word, 0) + 1
    for line in prose:
        for word in re.findall(r"(?<=\s)[a-z]{7,}(?=[\s,.])", line):
            if counts.get(word) == 1:
                return word
    raise AssertionError("no unique plain word found")


def select_in_textarea(page, selector, start, end):
    page.locator(selector).click()
    page.eval_on_selector(selector, f"(t) => {{ t.focus(); t.setSelectionRange({start}, {end}); }}")


def numstat(a, b):
    result = subprocess.run(["git", "diff", "--no-index", "--numstat", str(a), str(b)], capture_output=True, text=True)
    return [line.split("\t") for line in result.stdout.splitlines()]


def test_editing_one_word_in_the_browser_changes_one_line_keeps_the_diagram_and_reverts_exactly(new_page, bundled, instructor, tmp_path):
    site = bundled
    lesson = Lesson.objects.get(slug=LESSON)
    texts = {t.tier: t for t in lesson.tiers.all()}
    original = texts["fundamentals"].body
    assert "[[diagram:" in original
    rows_before = {tier: t.history.count() for tier, t in texts.items()}
    word = plain_word(original)
    new_word = "remarkably"
    page = new_page(viewport={"width": 1280, "height": 800})
    log_in(page, site)
    page.goto(f"{site}/admin/lessons/lesson/{lesson.pk}/change/")
    assert page.locator("#id_tiers-0-tier").input_value() == "fundamentals"  # teaching order
    at = original.index(f" {word}") + 1
    select_in_textarea(page, "#id_tiers-0-body", at, at + len(word))
    page.keyboard.type(new_word)
    page.fill("#id_change_reason", "plainer word")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/lessons/lesson/$"))

    edited = original[:at] + new_word + original[at + len(word):]
    assert TierText.objects.get(pk=texts["fundamentals"].pk).body == edited

    public = new_page()
    public.goto(f"{site}/lessons/{LESSON}/fundamentals/")
    assert public.locator(".prose figure svg").count() >= 1
    assert "[[diagram:" not in public.content() and new_word in public.locator(".prose").inner_text()

    out = tmp_path / "content"
    subprocess.run(["cp", "-r", str(CONTENT_DIR), str(out)], check=True)
    call_command("export_content", str(out))
    changes = numstat(CONTENT_DIR, out)
    assert len(changes) == 1 and changes[0][:2] == ["1", "1"], changes
    assert changes[0][2].endswith(f"{LESSON}/fundamentals.md")

    new_rows = {tier: TierText.objects.get(pk=t.pk).history.count() - rows_before[tier] for tier, t in texts.items()}
    assert new_rows == {"fundamentals": 1, "intermediate": 0, "academic": 0}

    page.goto(f"{site}/admin/lessons/lesson/{lesson.pk}/history/")
    assert page.locator("#tier-changes").get_by_text("plainer word").count() == 1
    page.locator("#tier-changes tbody tr").first.get_by_role("link", name="What changed").click()
    page.locator("table.diff").wait_for()
    assert page.locator("table.diff ins").all_inner_texts() == [new_word]
    assert page.locator("table.diff del").all_inner_texts() == [word]

    # Revert from History: open the version before and press Revert.
    page.get_by_role("link", name="Open the older version to revert to it").click()
    page.get_by_role("button", name=re.compile("Revert")).click()
    page.wait_for_url(re.compile(r"/admin/lessons/tiertext/"))
    assert TierText.objects.get(pk=texts["fundamentals"].pk).body == original
    public.reload()
    assert public.locator(".prose figure svg").count() >= 1 and new_word not in public.locator(".prose").inner_text()
    call_command("export_content", str(out))
    assert numstat(CONTENT_DIR, out) == []


def boxes(page, i):
    return page.evaluate(
        f"""(() => {{
          const t = document.querySelector('#id_tiers-{i}-body').getBoundingClientRect();
          const p = document.querySelector('#id_tiers-{i}-body-preview').getBoundingClientRect();
          return {{t: [t.left, t.top, t.right, t.bottom], p: [p.left, p.top, p.right, p.bottom], w: document.documentElement.clientWidth}};
        }})()"""
    )


def overlap(a, b):
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


@pytest.mark.parametrize("width", [1280, 900])
def test_each_inline_preview_shows_its_own_text_and_problems_and_never_covers_the_textarea(new_page, live_server, small_course, instructor, width):
    site = live_server.url
    lesson = Lesson.objects.get(slug="alpha")
    page = new_page(viewport={"width": width, "height": 800})
    previews = []
    page.on("request", lambda r: previews.append(r.post_data or "") if r.url.endswith("/preview/?kind=tier") else None)
    log_in(page, site)
    page.goto(f"{site}/admin/lessons/lesson/{lesson.pk}/change/")
    wait_js(page, "document.querySelectorAll('.markdown-preview .preview-body').length === 3")
    assert len(previews) == 3 and not any("__prefix__" in p for p in previews)
    for i, (label, key) in {0: ("Fundamentals", "nofund1"), 2: ("Academic", "noacad2")}.items():
        page.locator(f"#id_tiers-{i}-body").click()
        page.keyboard.press("Control+End")
        page.keyboard.type(f"\n\n{label} marker text [@{key}]")
    fund, acad = page.locator("#id_tiers-0-body-preview"), page.locator("#id_tiers-2-body-preview")
    fund.get_by_text("Fundamentals marker text").wait_for()
    acad.get_by_text("Academic marker text").wait_for()
    assert "nofund1" in fund.locator(".preview-problems").inner_text() and "noacad2" not in fund.inner_text()
    assert "noacad2" in acad.locator(".preview-problems").inner_text() and "nofund1" not in acad.inner_text()
    assert "Academic marker" not in fund.inner_text() and "Fundamentals marker" not in acad.inner_text()
    assert "of the Fundamentals tier" in fund.inner_text() and "of the Academic tier" in acad.inner_text()
    for i in (0, 1, 2):
        b = boxes(page, i)
        assert not overlap(b["t"], b["p"]), (width, b)
        assert b["t"][2] <= b["w"] and b["p"][2] <= b["w"], f"off screen at {width}px: {b}"
        assert b["t"][2] - b["t"][0] >= 300, f"textarea too narrow at {width}px: {b}"
    assert not any("__prefix__" in p for p in previews)


@pytest.mark.parametrize("width", [1280, 900])
def test_a_quizs_gift_box_shows_its_questions_in_a_box_tall_and_wide_enough_to_edit(new_page, live_server, small_course, instructor, width):
    """Found by hand: Django 6.1's admin lays a field's widgets out in a column, so the box's
    flex-basis of 0 left it 12 px tall at 1280 px: the quiz's GIFT could be neither read nor edited."""
    from lessons.models import Quiz

    site = live_server.url
    quiz = Quiz.objects.get(text__lesson__slug="alpha", text__tier="fundamentals")
    page = new_page(viewport={"width": width, "height": 800})
    log_in(page, site)
    page.goto(f"{site}/admin/lessons/quiz/{quiz.pk}/change/")
    box = page.locator("textarea.gift-source")
    assert "::alpha-f-q1::" in box.input_value()
    size = box.bounding_box()
    assert size["height"] >= 300, f"GIFT box {size['height']} px tall at {width}px"
    assert size["width"] >= 500 and size["x"] + size["width"] <= width, f"GIFT box {size} at {width}px"


def test_deleting_a_question_from_the_gift_box_asks_before_archiving_it(new_page, live_server, small_course, instructor):
    """Leaving a question out of the quiz's GIFT archives it; the save says which and asks first."""
    from lessons.models import Question, Quiz

    site = live_server.url
    quiz = Quiz.objects.get(text__lesson__slug="alpha", text__tier="fundamentals")
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, site)
    page.goto(f"{site}/admin/lessons/quiz/{quiz.pk}/change/")
    box = page.locator("textarea.gift-source")
    text = box.input_value()
    start = text.rfind("\n\n", 0, text.index("::alpha-f-q3::"))
    select_in_textarea(page, "textarea.gift-source", start, len(text))
    page.keyboard.press("Delete")
    page.get_by_role("button", name="Save", exact=True).click()
    error = page.locator(".errorlist").filter(has_text="leaves out 1 of the quiz's questions")
    assert "“alpha-f-q3”" in error.inner_text()
    assert "::alpha-f-q3::" not in page.locator("textarea.gift-source").input_value()  # the edit is kept
    assert Question.objects.filter(quiz=quiz, archived=False).count() == 3

    page.get_by_label("Archive the questions left out").check()
    page.get_by_role("button", name="Save", exact=True).click()
    page.locator(".messagelist").filter(has_text="1 archived").wait_for()
    assert Question.objects.get(quiz=quiz, name="alpha-f-q3").archived
    assert Question.objects.filter(quiz=quiz, archived=False).count() == 2


@pytest.mark.parametrize("width", [1280, 900])
def test_quiz_statistics_fit_the_window_and_the_wide_table_scrolls_in_its_own_box(new_page, bundled, instructor, width):
    """Found by hand: the ten-column questions table pushed the statistics page 97 px wider than a
    1280 px window, so the whole admin page, sidebar and header included, scrolled sideways."""
    from lessons.models import Quiz

    quiz = Quiz.objects.get(text__lesson__slug=LESSON, text__tier="academic")
    page = new_page(viewport={"width": width, "height": 800})
    log_in(page, bundled)
    page.goto(f"{bundled}/admin/lessons/quiz/{quiz.pk}/statistics/")
    page.get_by_role("link", name=quiz.questions.first().name).wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    header = page.get_by_role("columnheader", name="Answers picked")
    header.scroll_into_view_if_needed()
    box = header.bounding_box()
    assert 0 <= box["x"] and box["x"] + box["width"] <= width, f"'Answers picked' out of reach at {width}px: {box}"
