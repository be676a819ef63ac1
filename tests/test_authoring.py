"""Instructor edits are exact (issue 12): what a browser posts changes what was typed and nothing else.

Browsers send textarea text with CRLF line endings, so these tests post CRLF the way a
browser does. The real-browser versions are in test_authoring_browser.py.
"""

import re

import pytest
from django.contrib.auth.models import Permission, User

from lessons.content_files import export_course, load_course, read_course
from lessons.content_files.read import ContentError
from lessons.models import Lesson, Question, Quiz, Term, TierText

pytestmark = pytest.mark.django_db

TIERS = ["fundamentals", "intermediate", "academic"]


@pytest.fixture
def ina(client, instructor):
    client.force_login(instructor)
    return client


def crlf(text):
    return text.replace("\n", "\r\n")


def lesson_form(lesson, edits=None, reason=""):
    """The lesson change form as Chromium submits it: every tier's textarea with CRLF line endings."""
    edits = edits or {}
    texts = sorted(lesson.tiers.all(), key=lambda t: TIERS.index(t.tier))
    data = {"slug": lesson.slug, "title": lesson.title, "summary": lesson.summary, "order": lesson.order,
            "status": lesson.status, "change_reason": reason, "_save": "Save",
            "tiers-TOTAL_FORMS": len(texts), "tiers-INITIAL_FORMS": len(texts), "tiers-MIN_NUM_FORMS": 0, "tiers-MAX_NUM_FORMS": 3}
    for i, text in enumerate(texts):
        body = edits.get(text.tier, text.body)
        data.update({f"tiers-{i}-id": text.pk, f"tiers-{i}-lesson": lesson.pk, f"tiers-{i}-tier": text.tier,
                     f"tiers-{i}-title": text.title, f"tiers-{i}-summary": text.summary,
                     f"tiers-{i}-objectives": crlf("\n".join(text.objectives)), f"tiers-{i}-body": crlf(body)})
    return data


def snapshot(lesson):
    texts = {t.tier: t for t in TierText.objects.filter(lesson=lesson)}
    return {tier: (t.body, t.updated_at, t.history.count()) for tier, t in texts.items()}, lesson.history.count()


# --- Line endings and untouched inlines ---------------------------------------------------------


def test_saving_a_lesson_with_one_word_changed_writes_only_that_tier(ina, small_course):
    lesson = Lesson.objects.get(slug="alpha")
    (before, lesson_rows) = snapshot(lesson)
    body = before["intermediate"][0]
    edited = body.replace("Osteoclasts again.", "Osteoclasts once more.")
    response = ina.post(f"/admin/lessons/lesson/{lesson.pk}/change/", lesson_form(lesson, {"intermediate": edited}, "typo"))
    assert response.status_code == 302, response.content.decode()[:2000]
    after, lesson_rows_after = snapshot(lesson)
    assert after["intermediate"][0] == edited and "\r" not in after["intermediate"][0]
    assert after["intermediate"][2] == before["intermediate"][2] + 1
    for tier in ("fundamentals", "academic"):
        assert after[tier] == before[tier], f"{tier} was rewritten although untouched"
    assert lesson_rows_after == lesson_rows  # the lesson's own fields did not change: no history row
    text = TierText.objects.get(lesson=lesson, tier="intermediate")
    assert text.history.first().history_change_reason == "typo"


def test_saving_an_untouched_lesson_writes_nothing(ina, small_course):
    lesson = Lesson.objects.get(slug="alpha")
    before = snapshot(lesson)
    response = ina.post(f"/admin/lessons/lesson/{lesson.pk}/change/", lesson_form(lesson))
    assert response.status_code == 302
    assert snapshot(lesson) == before
    assert Lesson.objects.get(pk=lesson.pk).updated_at == lesson.updated_at


def test_tier_change_form_with_crlf_stores_lf_and_renders_the_diagram(ina, small_course):
    from lessons.models import Diagram

    Diagram.objects.create(slug="cycle", svg='<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" role="img"><title>Cycle</title><desc>A cycle.</desc></svg>')
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    body = text.body + "\n\n[[diagram:cycle]]\n\nAfter the figure."
    data = {"lesson": text.lesson_id, "tier": text.tier, "title": text.title, "summary": text.summary,
            "objectives": crlf("\n".join(text.objectives)), "body": crlf(body) + "\r\n"}
    assert ina.post(f"/admin/lessons/tiertext/{text.pk}/change/", data).status_code == 302
    text.refresh_from_db()
    assert text.body == body
    assert "<figure" in text.html and "[[diagram" not in text.html


def test_term_form_with_crlf_is_unchanged_and_tooltips_are_textareas(ina, small_course):
    term = Term.objects.get(slug="osteoclast")
    page = ina.get(f"/admin/lessons/term/{term.pk}/change/").content.decode()
    assert re.search(r'<textarea[^>]*name="short"', page) and re.search(r'<textarea[^>]*name="short_fundamentals"', page)
    rows = term.history.count()
    data = {"slug": term.slug, "term": term.term, "aliases": crlf("\n".join(term.aliases)), "short": term.short,
            "short_fundamentals": term.short_fundamentals, "short_intermediate": "", "short_academic": "",
            "body": crlf(term.body) + "\r\n", "see_also": [t.pk for t in term.see_also.all()], "evidence": "", "evidence_note": ""}
    assert ina.post(f"/admin/lessons/term/{term.pk}/change/", data).status_code == 302
    assert term.history.count() == rows
    data["short"] = "A large cell\r\nthat dissolves bone."
    assert ina.post(f"/admin/lessons/term/{term.pk}/change/", data).status_code == 302
    assert Term.objects.get(pk=term.pk).short == "A large cell that dissolves bone."


def test_crlf_content_files_import_as_lf_and_export_byte_for_byte(small_course, tmp_path):
    source = small_course / "alpha" / "fundamentals.md"
    lf = source.read_bytes()
    source.write_bytes(lf.replace(b"\n", b"\r\n"))
    (small_course / "glossary.toml").write_bytes((small_course / "glossary.toml").read_bytes().replace(b"\n", b"\r\n"))
    load_course(read_course(small_course))
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    assert "\r" not in text.body and "\r" not in Term.objects.get(slug="osteoclast").body
    export_course(tmp_path / "out")
    assert (tmp_path / "out" / "alpha" / "fundamentals.md").read_bytes() == lf


def test_revert_restores_the_old_text_byte_for_byte_and_renders(ina, small_course):
    text = TierText.objects.get(lesson__slug="alpha", tier="academic")
    original = text.body
    data = {"lesson": text.lesson_id, "tier": text.tier, "title": text.title, "summary": text.summary,
            "objectives": "\n".join(text.objectives)}
    ina.post(f"/admin/lessons/tiertext/{text.pk}/change/", {**data, "body": crlf("## Gone {#gone}\n\nReplaced.")})
    old = text.history.order_by("history_date").first()
    # The revert form shows the old text; the browser posts it back with CRLF.
    response = ina.post(f"/admin/lessons/tiertext/{text.pk}/history/{old.history_id}/", {**data, "body": crlf(original) + "\r\n"})
    assert response.status_code == 302
    text.refresh_from_db()
    assert text.body == original and 'href="/glossary/osteoclast/"' in text.html
    assert text.history.first().history_change_reason.startswith("Reverted to the version of")
    assert ina.get("/lessons/alpha/academic/").status_code == 200


# --- History ------------------------------------------------------------------------------------


def test_history_lists_reasons_and_a_line_diff_with_the_changed_word(ina, small_course):
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    data = {"lesson": text.lesson_id, "tier": text.tier, "title": text.title, "summary": text.summary,
            "objectives": "\n".join(text.objectives), "change_reason": "plainer word"}
    ina.post(f"/admin/lessons/tiertext/{text.pk}/change/", {**data, "body": crlf(text.body.replace("removes bone", "dissolves bone"))})
    page = ina.get(f"/admin/lessons/tiertext/{text.pk}/history/").content.decode()
    assert "plainer word" in page and "None" not in page and "[" + "4424 chars]" not in page
    new = text.history.first()
    diff = ina.get(f"/admin/lessons/tiertext/{text.pk}/history/compare/?to={new.history_id}")
    html = diff.content.decode()
    assert diff.status_code == 200
    assert "<del>removes</del>" in html and "<ins>dissolves</ins>" in html
    assert "−1 +1 lines" in html


def test_compare_any_two_versions_and_bad_requests(ina, small_course):
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    data = {"lesson": text.lesson_id, "tier": text.tier, "title": text.title, "summary": text.summary, "objectives": "\n".join(text.objectives)}
    ina.post(f"/admin/lessons/tiertext/{text.pk}/change/", {**data, "body": text.body + "\n\nFirst addition."})
    ina.post(f"/admin/lessons/tiertext/{text.pk}/change/", {**data, "body": text.body + "\n\nFirst addition.\n\nSecond addition."})
    oldest, newest = text.history.order_by("history_date").first(), text.history.first()
    url = f"/admin/lessons/tiertext/{text.pk}/history/compare/"
    html = ina.get(f"{url}?from={newest.history_id}&to={oldest.history_id}").content.decode()  # order does not matter
    assert "<ins>First addition.</ins>" in html and "<ins>Second addition.</ins>" in html
    assert ina.get(f"{url}?to=abc").status_code == 400
    assert ina.get(f"{url}?to=999999").status_code == 404
    assert ina.get(f"{url}").status_code == 400


def test_lesson_history_links_to_its_tiers_histories(ina, small_course):
    lesson = Lesson.objects.get(slug="alpha")
    edited = lesson.tiers.get(tier="academic").body + "\n\nA new closing line."
    ina.post(f"/admin/lessons/lesson/{lesson.pk}/change/", lesson_form(lesson, {"academic": edited}))
    page = ina.get(f"/admin/lessons/lesson/{lesson.pk}/history/").content.decode()
    for text in lesson.tiers.all():
        assert f"/admin/lessons/tiertext/{text.pk}/history/" in page
    academic = lesson.tiers.get(tier="academic")
    assert f"/admin/lessons/tiertext/{academic.pk}/history/compare/?to={academic.history.first().history_id}" in page


def test_history_pages_need_history_permission(client, small_course):
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    url = f"/admin/lessons/tiertext/{text.pk}/history/compare/?to={text.history.first().history_id}"
    assert client.get(url).status_code == 302  # to the login page
    clerk = User.objects.create_user("clerk", password="pw-clerk-123456", is_staff=True)
    client.force_login(clerk)
    assert client.get(url).status_code == 403


# --- Form layout: teaching order, error summary ---------------------------------------------------


def test_tier_inlines_are_in_teaching_order(ina, small_course):
    lesson = Lesson.objects.get(slug="alpha")
    page = ina.get(f"/admin/lessons/lesson/{lesson.pk}/change/").content.decode()
    ids = {t.tier: t.pk for t in lesson.tiers.all()}
    positions = [page.index(f'name="tiers-{i}-id" value="{ids[tier]}"') for i, tier in enumerate(TIERS)]
    assert positions == sorted(positions)


def test_errors_are_summarised_on_top_with_links_to_the_fields(ina, small_course):
    lesson = Lesson.objects.get(slug="alpha")
    academic = lesson.tiers.get(tier="academic").body
    data = lesson_form(lesson, {"academic": academic + "\n\nBad [@ghost1999]."})
    data["title"] = ""
    response = ina.post(f"/admin/lessons/lesson/{lesson.pk}/change/", data)
    page = response.content.decode()
    summary = page[page.index('class="error-summary"'):page.index("</div>", page.index('class="error-summary"'))]
    assert 'href="#id_title"' in summary and "This field is required." in summary
    assert 'href="#id_tiers-2-body">Academic tier: Body</a>' in summary and "ghost1999" in summary
    assert page.index('class="error-summary"') < page.index('name="title"')
    assert lesson.tiers.get(tier="academic").body == academic


# --- Live preview ----------------------------------------------------------------------------------


def test_preview_renders_the_named_field_at_its_own_tier(ina, small_course):
    data = {"tiers-0-body": "Fundamentals text osteoclast", "tiers-0-tier": "fundamentals",
            "tiers-2-body": "Academic text osteoclast [@ghost2]", "tiers-2-tier": "academic"}
    page = ina.post("/admin/lessons/tiertext/preview/", {**data, "field": "tiers-0-body"}).content.decode()
    assert "Fundamentals text" in page and "Academic text" not in page and "ghost2" not in page
    assert "bone-removing cell" in page  # the fundamentals tooltip
    page = ina.post("/admin/lessons/tiertext/preview/", {**data, "field": "tiers-2-body"}).content.decode()
    assert "Academic text" in page and "unknown citation key &#x27;ghost2&#x27;" in page
    assert "bone-removing cell" not in page and "dissolves bone" in page  # the general tooltip
    assert ina.post("/admin/lessons/tiertext/preview/", {"field": "tiers-__prefix__-body", "tiers-__prefix__-body": ""}).status_code == 400
    assert ina.post("/admin/lessons/tiertext/preview/", data).status_code == 400  # two bodies and no field: ambiguous


# --- Glossary citations are refused, alike in preview, save and import --------------------------


def test_citation_in_a_glossary_body_is_refused_in_preview_save_and_import(ina, small_course):
    preview = ina.post("/admin/lessons/tiertext/preview/?kind=plain", {"field": "body", "body": "Cells [@smith2020]."}).content.decode()
    assert "glossary entries cannot cite references (@smith2020)" in preview
    response = ina.post("/admin/lessons/term/add/", {"slug": "osteocyte", "term": "osteocyte", "aliases": "", "short": "A cell in bone.",
                                                    "body": "Senses load [@smith2020]."})
    assert "Glossary entries cannot cite references (@smith2020)" in response.content.decode()
    assert not Term.objects.filter(slug="osteocyte").exists()
    glossary = small_course / "glossary.toml"
    glossary.write_text(glossary.read_text().replace("Osteoclasts resorb bone.", "Osteoclasts resorb bone [@smith2020]."))
    with pytest.raises(ContentError) as caught:
        read_course(small_course)
    assert re.search(r"glossary\.toml:\d+: term 'osteoclast': body: Glossary entries cannot cite references", str(caught.value))


# --- Quizzes: GIFT download permission, all-or-nothing save ----------------------------------------


def test_gift_download_needs_quiz_rights(client, small_course):
    quiz = Quiz.objects.get(text__lesson__slug="alpha", text__tier="fundamentals")
    writer = User.objects.create_user("writer", password="pw-writer-123456", is_staff=True)
    writer.user_permissions.set(Permission.objects.filter(codename__in=["view_tiertext", "change_tiertext", "view_lesson"]))
    client.force_login(writer)
    assert client.get(f"/admin/lessons/quiz/{quiz.pk}/gift/").status_code == 403
    writer.user_permissions.add(Permission.objects.get(codename="view_quiz"))
    writer = User.objects.get(pk=writer.pk)
    client.force_login(writer)
    response = client.get(f"/admin/lessons/quiz/{quiz.pk}/gift/")
    assert response.status_code == 200 and "::alpha-f-q1::" in response.content.decode()


def test_quiz_form_saves_pass_mark_and_questions_together_or_nothing(ina, small_course, monkeypatch):
    quiz = Quiz.objects.get(text__lesson__slug="alpha", text__tier="academic")
    names = list(quiz.questions.active().values_list("name", flat=True))
    typed = "// section: nowhere\n::alpha-a-q1::Which cell?{=Osteoclast ~Osteoblast}\n"
    bad = ina.post(f"/admin/lessons/quiz/{quiz.pk}/change/", {"text": quiz.text_id, "pass_mark": 90, "shuffle": "on", "gift_text": "::x::Q{=a ~b\n"})
    assert bad.status_code == 200 and Quiz.objects.get(pk=quiz.pk).pass_mark == 70
    kept = ina.post(f"/admin/lessons/quiz/{quiz.pk}/change/", {"text": quiz.text_id, "pass_mark": 90, "shuffle": "on", "gift_text": typed})
    assert "Which cell?" in kept.content.decode()  # what was typed stays in the form
    assert Quiz.objects.get(pk=quiz.pk).pass_mark == 70

    def refuse(*args, **kwargs):
        raise RuntimeError("refused while saving the questions")

    monkeypatch.setattr("lessons.admin.import_quiz", refuse)
    good = "::alpha-a-q1::Which cell removes bone?{=Osteoclast #Yes ~Osteoblast #No}\n"
    with pytest.raises(RuntimeError):
        ina.post(f"/admin/lessons/quiz/{quiz.pk}/change/",
                 {"text": quiz.text_id, "pass_mark": 90, "shuffle": "on", "gift_text": good, "archive_left_out": "on"})
    assert Quiz.objects.get(pk=quiz.pk).pass_mark == 70
    assert list(quiz.questions.active().values_list("name", flat=True)) == names
    assert Question.objects.filter(quiz=quiz, archived=True).count() == 0


# --- Edit links on public pages ----------------------------------------------------------------------


def test_edit_links_for_staff_who_may_change_and_never_in_the_anonymous_cache(client, instructor, small_course):
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    quiz = Quiz.objects.get(text=text)
    term = Term.objects.get(slug="osteoclast")
    assert "Edit this tier" not in client.get("/lessons/alpha/fundamentals/").content.decode()  # fills the cache
    client.force_login(instructor)
    pages = {
        "/lessons/alpha/fundamentals/": [f"/admin/lessons/tiertext/{text.pk}/change/", f"/admin/lessons/lesson/{text.lesson_id}/change/"],
        "/glossary/osteoclast/": [f"/admin/lessons/term/{term.pk}/change/"],
        "/lessons/alpha/fundamentals/quiz/": [f"/admin/lessons/quiz/{quiz.pk}/change/"],
    }
    for url, links in pages.items():
        page = client.get(url).content.decode()
        for link in links:
            assert f'href="{link}"' in page, (url, link)
    client.logout()
    for url in pages:
        page = client.get(url).content.decode()
        assert "staff-edit" not in page and "/admin/" not in page, url
    reader = User.objects.create_user("reader", password="pw-reader-123456", is_staff=True)
    client.force_login(reader)
    assert "staff-edit" not in client.get("/lessons/alpha/fundamentals/").content.decode()
