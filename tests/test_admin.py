"""Instructor authoring: roles, validation, preview, publishing, history and revert."""

import re

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from lessons.models import Choice, Lesson, Question, Quiz, Status, TierText

pytestmark = pytest.mark.django_db


def test_instructors_group_has_content_permissions_only(instructors_group):
    perms = set(Group.objects.get(name="Instructors").permissions.values_list("codename", flat=True))
    assert {"change_tiertext", "add_question", "change_term", "change_reference", "change_quiz", "delete_choice"} <= perms
    assert not any(p.endswith(("_user", "_group", "_attempt", "_response", "_permission")) for p in perms)


@pytest.mark.parametrize(
    "persona, url, status",
    [
        ("instructor_client", "/admin/auth/user/", 403),
        ("instructor_client", "/admin/auth/group/", 403),
        ("instructor_client", "/admin/lessons/attempt/", 403),
        ("instructor_client", "/admin/lessons/tiertext/", 200),
        ("quizless_instructor_client", "/admin/lessons/tiertext/", 200),
        ("quizless_instructor_client", "/admin/lessons/quiz/", 403),
        ("superuser_client", "/admin/auth/user/", 200),
        ("learner_client", "/admin/lessons/tiertext/", 302),
    ],
)
def test_admin_page_access_by_persona(request, db, persona, url, status):
    assert request.getfixturevalue(persona).get(url).status_code == status


def test_anonymous_cannot_reach_preview_or_draft(client, small_course):
    response = client.post("/admin/lessons/tiertext/preview/", {"body": "x"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    Lesson.objects.filter(slug="alpha").update(status=Status.DRAFT)
    assert client.get("/lessons/alpha/fundamentals/").status_code == 404


def test_preview_renders_through_the_real_pipeline_and_lists_problems(instructor_client, small_course):
    response = instructor_client.post("/admin/lessons/tiertext/preview/", {"tiers-0-body": "An osteoclast [@smith2020] and [@nope2000].", "tiers-0-tier": "fundamentals"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'href="/glossary/osteoclast/"' in page
    assert "unknown citation key &#x27;nope2000&#x27;" in page
    assert "Glossary terms that will be linked: osteoclast" in page
    assert "bone-removing cell" in page  # the fundamentals tooltip text
    assert "<script" not in instructor_client.post("/admin/lessons/tiertext/preview/", {"body": "<script>alert(1)</script>"}).content.decode().split("preview-body")[1]
    links = instructor_client.post("/admin/lessons/tiertext/preview/", {"body": "[a](/lessons/nope/academic/) [b](/glossary/ghost/) [c](/nowhere/) [d](/lessons/alpha/academic/)"})
    page = links.content.decode()
    assert "unknown lesson or tier: /lessons/nope/academic/" in page
    assert "unknown glossary term: /glossary/ghost/" in page
    assert "does not exist: /nowhere/" in page
    assert "/lessons/alpha/academic/</li>" not in page


def tier_form(text, **changes):
    data = {"lesson": text.lesson_id, "tier": text.tier, "title": text.title, "summary": text.summary,
            "objectives": "\n".join(text.objectives), "body": text.body}
    data.update(changes)
    return data


def test_unknown_citation_key_is_refused_with_message_and_nothing_saved(instructor_client, small_course):
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    response = instructor_client.post(f"/admin/lessons/tiertext/{text.pk}/change/", tier_form(text, body=text.body + "\n\nNew [@ghost1999]."))
    assert response.status_code == 200
    assert "unknown citation key &#x27;ghost1999&#x27;" in response.content.decode()
    assert TierText.objects.get(pk=text.pk).body == text.body


def test_instructor_edit_rerenders_and_history_records_who(instructor_client, instructor, small_course):
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    response = instructor_client.post(f"/admin/lessons/tiertext/{text.pk}/change/", tier_form(text, body="## Fresh {#fresh}\n\nAn osteoblast builds."))
    assert response.status_code == 302
    text.refresh_from_db()
    assert 'href="/glossary/osteoblast/"' in text.html
    latest = text.history.first()
    assert latest.history_user == instructor and latest.body.startswith("## Fresh")
    history_page = instructor_client.get(f"/admin/lessons/tiertext/{text.pk}/history/").content.decode()
    assert "ina" in history_page and "Body" in history_page  # the changes column names the field


def test_revert_restores_the_earlier_text(instructor_client, small_course):
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    original = text.body
    instructor_client.post(f"/admin/lessons/tiertext/{text.pk}/change/", tier_form(text, body="Replaced."))
    old = text.history.filter(body=original).first()
    page = instructor_client.get(f"/admin/lessons/tiertext/{text.pk}/history/{old.history_id}/")
    assert page.status_code == 200 and "Revert" in page.content.decode()
    response = instructor_client.post(f"/admin/lessons/tiertext/{text.pk}/history/{old.history_id}/", tier_form(text, body=original))
    assert response.status_code == 302
    text.refresh_from_db()
    assert text.body == original and "osteoclast" in text.html


def question_form(question, weights):
    data = {"quiz": question.quiz_id, "name": question.name, "kind": question.kind, "text": question.text,
            "explanation": question.explanation, "section": question.section, "position": question.position,
            "title": question.title, "idnumber": question.idnumber, "tags": "\n".join(question.tags),
            "category": question.category, "text_format": question.text_format, "explanation_format": question.explanation_format}
    choices = list(question.choices.all())
    data.update({"choices-TOTAL_FORMS": len(choices), "choices-INITIAL_FORMS": len(choices), "choices-MIN_NUM_FORMS": 0, "choices-MAX_NUM_FORMS": 1000})
    for i, (c, w) in enumerate(zip(choices, weights)):
        data.update({f"choices-{i}-id": c.pk, f"choices-{i}-question": question.pk, f"choices-{i}-position": i,
                     f"choices-{i}-text": c.text, f"choices-{i}-weight": w, f"choices-{i}-feedback": c.feedback,
                     f"choices-{i}-text_format": c.text_format, f"choices-{i}-feedback_format": c.feedback_format})
    return data


def test_moodle_fields_are_edited_in_the_admin_normalised_rendered_per_format_and_exported(instructor_client, small_course):
    from lessons.content_files import quiz_data
    from lessons.quizzes import gift

    question = Question.objects.get(name="alpha-f-q1")
    form = instructor_client.get(f"/admin/lessons/question/{question.pk}/change/").content.decode()
    for field in ("id_title", "id_idnumber", "id_tags", "id_category", "id_text_format", "id_explanation_format",
                  "id_choices-0-text_format", "id_choices-0-feedback_format"):
        assert f'id="{field}"' in form
    versions = question.history.count()
    untouched = instructor_client.post(f"/admin/lessons/question/{question.pk}/change/", question_form(question, [100, 0, 0]))
    assert untouched.status_code == 302 and question.history.count() == versions  # CRLF-free, unchanged: nothing saved
    data = question_form(question, [100, 0, 0])
    data.update({
        "title": "Cells /  who  removes\r\nbone?", "idnumber": "hb-cells-1", "tags": "bone\r\n  cells  \r\n\r\n",
        "category": "$course$/Bone / Cells", "text": "Which cell <b>removes</b> bone?\r\n", "text_format": "html",
        "explanation": "Osteoclasts *remove*\r\nbone.", "explanation_format": "plain",
        "choices-1-text_format": "html", "choices-1-text": "<i>Osteoblast</i><script>x()</script>",
        "choices-1-feedback_format": "plain", "choices-1-feedback": "No <b>, it builds bone.",
    })
    response = instructor_client.post(f"/admin/lessons/question/{question.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    question = Question.objects.get(pk=question.pk)
    assert (question.name, question.title, question.idnumber, question.tags, question.category) == (
        "alpha-f-q1", "Cells / who removes bone?", "hb-cells-1", ["bone", "cells"], "$course$/Bone / Cells",
    )
    assert question.text == "Which cell <b>removes</b> bone?" and question.text_html == "Which cell <b>removes</b> bone?"
    assert question.explanation == "Osteoclasts *remove*\nbone." and question.explanation_html == "<p>Osteoclasts *remove*<br>bone.</p>"
    blast = question.choices.get(position=1)
    assert blast.text_html == "<i>Osteoblast</i>" and blast.feedback_html == "No &lt;b&gt;, it builds bone."
    text = gift.write(quiz_data(question.quiz), moodle=True)
    assert "$CATEGORY: $course$/Bone / Cells\n" in text
    assert "// name: alpha-f-q1\n// [id:hb-cells-1] [tag:bone] [tag:cells]\n::Cells / who removes bone?:: [html]Which cell <b>removes</b> bone?{" in text
    assert "~<i>Osteoblast</i><script>x()</script> #[plain]No <b>, it builds bone." in text
    assert "####[plain]Osteoclasts *remove*\\nbone." in text


@pytest.mark.parametrize(
    "name, weights, message",
    [
        ("alpha-f-q1", [100, 100, 0], "A single-choice question needs exactly one correct choice"),
        ("alpha-f-q1", [0, 0, 0], "A single-choice question needs exactly one correct choice"),
        ("alpha-f-q2", [0, 0, -100], "A multiple-select question needs at least one correct choice"),
        ("alpha-f-q2", [50, 20, -100], "weights add up to 70%"),
        ("alpha-f-q3", [100, 100], "A true/false question needs exactly two choices"),
    ],
)
def test_question_validation_messages_and_nothing_half_saved(instructor_client, small_course, name, weights, message):
    question = Question.objects.get(name=name)
    before = list(Choice.objects.filter(question=question).values_list("weight", flat=True))
    data = question_form(question, weights)
    data["text"] = "Changed text that must not be saved"
    response = instructor_client.post(f"/admin/lessons/question/{question.pk}/change/", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert list(Choice.objects.filter(question=question).values_list("weight", flat=True)) == before
    assert Question.objects.get(pk=question.pk).text == question.text


def test_duplicate_slug_is_refused(instructor_client, small_course):
    response = instructor_client.post("/admin/lessons/lesson/add/", {"slug": "alpha", "title": "Dup", "summary": "s", "order": 5, "status": "draft",
                                                      "tiers-TOTAL_FORMS": 0, "tiers-INITIAL_FORMS": 0, "tiers-MIN_NUM_FORMS": 0, "tiers-MAX_NUM_FORMS": 3})
    assert response.status_code == 200 and "Lesson with this Slug already exists." in response.content.decode()


def test_term_alias_clash_is_refused(instructor_client, small_course):
    response = instructor_client.post("/admin/lessons/term/add/", {"slug": "oc", "term": "OC", "aliases": "osteoclasts", "short": "x"})
    assert "is already a name of the term" in response.content.decode()


def test_publish_and_unpublish_actions(instructor_client, small_course):
    alpha = Lesson.objects.get(slug="alpha")
    instructor_client.post("/admin/lessons/lesson/", {"action": "unpublish", "_selected_action": [alpha.pk]})
    assert Lesson.objects.get(pk=alpha.pk).status == Status.DRAFT
    instructor_client.post("/admin/lessons/lesson/", {"action": "publish", "_selected_action": [alpha.pk]})
    assert Lesson.objects.get(pk=alpha.pk).status == Status.PUBLISHED


def test_gift_upload_in_admin_replaces_questions_and_bad_gift_changes_nothing(instructor_client, small_course):
    from lessons.models import Quiz

    quiz = Quiz.objects.get(text__lesson__slug="alpha", text__tier="academic")
    base = {"text": quiz.text_id, "pass_mark": 80, "shuffle": "on"}
    bad = instructor_client.post(f"/admin/lessons/quiz/{quiz.pk}/change/", {**base, "gift_text": "::x::Q{}\n"})
    assert "essay questions" in bad.content.decode()
    assert Quiz.objects.get(pk=quiz.pk).pass_mark == 70
    good = "::alpha-a-q1::Which cell removes bone?{=Osteoclast #Yes ~Osteoblast #No ~Chondrocyte #No}\n"
    # Two of the three questions are left out: saving asks before archiving them.
    asked = instructor_client.post(f"/admin/lessons/quiz/{quiz.pk}/change/", {**base, "gift_text": good})
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "The new GIFT leaves out 2 of the quiz&#x27;s questions: “alpha-a-q2”, “alpha-a-q3”." in page
    assert Quiz.objects.get(pk=quiz.pk).pass_mark == 70 and not quiz.questions.filter(archived=True).exists()
    response = instructor_client.post(f"/admin/lessons/quiz/{quiz.pk}/change/", {**base, "gift_text": good, "archive_left_out": "on"})
    assert response.status_code == 302
    assert list(quiz.questions.active().values_list("name", flat=True)) == ["alpha-a-q1"]
    assert quiz.questions.filter(archived=True).count() == 2


def test_createinstructor_creates_and_promotes(instructors_group, monkeypatch):
    monkeypatch.setenv("INSTRUCTOR_PASSWORD", "a-long-enough-passphrase")
    call_command("createinstructor", "newbie")
    user = User.objects.get(username="newbie")
    assert user.is_staff and not user.is_superuser and user.groups.filter(name="Instructors").exists()
    assert user.check_password("a-long-enough-passphrase")
    User.objects.create_user("existing")
    call_command("createinstructor", "existing")
    assert User.objects.get(username="existing").groups.filter(name="Instructors").exists()


def test_admin_login_is_throttled_after_repeated_failures(client, settings, small_course):
    settings.AXES_ENABLED = True
    User.objects.create_user("target", password="right-password-123", is_staff=True)
    for _ in range(5):
        client.post("/admin/login/", {"username": "target", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "target", "password": "right-password-123"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_reference_needs_a_doi_pmid_or_url(instructor_client, small_course):
    response = instructor_client.post("/admin/lessons/reference/add/", {"key": "x2020", "authors": "X", "title": "T", "year": 2020})
    assert "needs a DOI, PMID or URL" in response.content.decode()
    from lessons.models import Reference

    assert not Reference.objects.filter(key="x2020").exists()


def breadcrumbs(page):
    match = re.search(r'<ol class="breadcrumbs">(.*?)</ol>', page, re.S)
    assert match, "no breadcrumbs the admin's stylesheet styles (ol.breadcrumbs)"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_revert_and_statistics_pages_have_the_admins_breadcrumbs_naming_what_the_instructor_edits(instructor_client, small_course):
    """Found by hand: both pages drew a bare <div class="breadcrumbs"> that Django 6.1's admin no
    longer styles (dark text flush against the window's edge), and the revert page said
    "Historical tier texts" and "revert to this version of the object"."""
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    instructor_client.post(f"/admin/lessons/tiertext/{text.pk}/change/", tier_form(text, body="Replaced."))
    old = text.history.last()
    page = instructor_client.get(f"/admin/lessons/tiertext/{text.pk}/history/{old.history_id}/").content.decode()
    assert breadcrumbs(page) == f"Home Lessons Tier texts {text} History Revert to this version"
    assert "of the object" not in page and "the current text stays in the history" in page
    quiz = Quiz.objects.get(text=text)
    page = instructor_client.get(f"/admin/lessons/quiz/{quiz.pk}/statistics/").content.decode()
    assert breadcrumbs(page) == f"Home Lessons Quizzes {quiz} Statistics"


def test_a_quizs_form_names_its_tier_field_tier(instructor_client, small_course):
    """Found by hand: the quiz form labelled its tier menu "Text:" (the field's name), which says nothing."""
    quiz = Quiz.objects.get(text__lesson__slug="alpha", text__tier="fundamentals")
    page = instructor_client.get(f"/admin/lessons/quiz/{quiz.pk}/change/").content.decode()
    assert re.search(r'<label[^>]*for="id_text"[^>]*>Tier:</label>', page)
    assert "The lesson and depth this quiz follows." in page


def test_the_quiz_list_is_in_teaching_order_with_each_quizs_live_question_count(instructor_client, small_course, django_assert_max_num_queries):
    """Found by hand: the quiz list came newest first (Sex hormones academic at the top), unlike
    every other list, and counted each quiz's questions with a query of its own."""
    archived = Question.objects.filter(quiz__text__lesson__slug="alpha", quiz__text__tier="fundamentals").first()
    archived.archived = True
    archived.save()
    with django_assert_max_num_queries(12):
        page = instructor_client.get("/admin/lessons/quiz/").content.decode()
    rows = re.findall(r"Quiz: ([^<]+?) — (\w+)</a></th>.*?field-question_count\">(\d+)<", page, re.S)
    titles = [lesson.title for lesson in Lesson.objects.order_by("order", "slug")]
    assert [(lesson, tier) for lesson, tier, _ in rows] == [
        (lesson, tier) for lesson in titles for tier in ("Fundamentals", "Intermediate", "Academic")
    ]
    expected = {(q.text.lesson.title, q.text.get_tier_display()): q.questions.active().count() for q in Quiz.objects.all()}
    assert {(lesson, tier): int(n) for lesson, tier, n in rows} == expected
