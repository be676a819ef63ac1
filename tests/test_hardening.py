"""Issue 20: inputs that cannot crash or stall a server, and imports as strict as the admin."""

import time

import pytest

from lessons.content_files import ContentError, load_course, read_course
from lessons.models import Answer, Lesson, Reference, Term, TierText

pytestmark = pytest.mark.django_db

STALLS = {
    "10k open brackets": "[" * 10_000,
    "4k open citations": "[@a " * 4_000,
    "500 nested list levels": "- " * 500 + "x",
    "500 nested quotes": "> " * 500 + "x",
    "2k unclosed links": "[a](" * 2_000,
    "over 100 KB": "bone " * 21_000,
}


@pytest.fixture
def ina(client, instructor):
    client.force_login(instructor)
    return client


@pytest.mark.parametrize("body", STALLS.values(), ids=STALLS.keys())
def test_preview_refuses_slow_or_deep_markdown_within_a_second(ina, small_course, body):
    started = time.perf_counter()
    response = ina.post("/admin/lessons/tiertext/preview/", {"body": body, "tier": "fundamentals"})
    assert time.perf_counter() - started < 1
    assert response.status_code == 200
    assert "problem" in response.content.decode().lower() or "limit" in response.content.decode()


@pytest.mark.parametrize("body", STALLS.values(), ids=STALLS.keys())
def test_saving_a_tier_refuses_slow_or_deep_markdown_and_keeps_the_old_text(ina, small_course, body):
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    data = {"lesson": text.lesson_id, "tier": text.tier, "title": text.title, "summary": text.summary,
            "objectives": "\n".join(text.objectives), "body": body}
    started = time.perf_counter()
    response = ina.post(f"/admin/lessons/tiertext/{text.pk}/change/", data)
    assert time.perf_counter() - started < 1
    assert response.status_code == 200  # the form again, with the error
    assert "errornote" in response.content.decode()
    assert TierText.objects.get(pk=text.pk).body == text.body


@pytest.mark.parametrize("body", ["[" * 10_000, "- " * 500 + "x"], ids=["brackets", "nesting"])
def test_term_body_that_cannot_render_is_refused_by_the_model(small_course, body):
    term = Term.objects.get(slug="osteoclast")
    term.body = body
    with pytest.raises(Exception) as caught:
        term.full_clean()
    assert "body" in caught.value.message_dict


def test_gift_question_that_cannot_render_is_refused_with_its_line(ina, small_course):
    from lessons.models import Quiz

    quiz = Quiz.objects.get(text__lesson__slug="alpha", text__tier="academic")
    gift = "::deep::" + "- " * 500 + "x{\n=yes\n~no\n}\n"
    response = ina.post(f"/admin/lessons/quiz/{quiz.pk}/change/", {"text": quiz.text_id, "pass_mark": 70, "shuffle": "on", "gift_text": gift})
    page = response.content.decode()
    assert "line 1" in page and "nested 500 deep" in page
    assert gift.split("{")[0][:20] in page  # the typed text is still in the form
    assert not quiz.questions.filter(name="deep").exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("attempt", "²"), ("question", "²"), ("choice", "²"), ("choice", "٣"),
        ("attempt", "9" * 5000), ("choice", "9" * 20), ("question", "-1"), ("attempt", "1e3"),
    ],
)
def test_quiz_answer_with_a_non_ascii_or_huge_number_is_a_400(client, small_course, field, value):
    from .test_quiz import URL, current_question, start

    attempt = start(client)
    question, _ = current_question(client)
    data = {"attempt": attempt.pk, "question": question.pk, "choice": question.choices.first().pk, field: value}
    before = Answer.objects.count()
    response = client.post(URL + "answer/", data)
    assert response.status_code == 400
    assert "whole number" in response.content.decode()
    assert Answer.objects.count() == before


@pytest.mark.parametrize("value", ["²", "9" * 5000, "x"])
def test_quiz_page_ignores_a_malformed_answered_query(client, small_course, value):
    from .test_quiz import URL, start

    start(client)
    assert client.get(URL, {"answered": value}).status_code == 200


def test_nul_in_objectives_is_a_form_error_not_a_database_error(ina, small_course):
    text = TierText.objects.get(lesson__slug="alpha", tier="fundamentals")
    data = {"lesson": text.lesson_id, "tier": text.tier, "title": text.title, "summary": text.summary,
            "objectives": "Know bone\x00", "body": text.body}
    response = ina.post(f"/admin/lessons/tiertext/{text.pk}/change/", data)
    assert response.status_code == 200
    assert "control character" in response.content.decode()
    assert TierText.objects.get(pk=text.pk).objectives == text.objectives


# --- The importer is as strict as the admin ---------------------------------------------


def _replace(course_dir, name, old, new):
    path = course_dir / name
    text = path.read_text()
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1))


IMPORT_CASES = [
    ("references.toml", 'url = ""', 'url = "javascript:alert(1)"', "references.toml:2", "url: Enter a valid URL"),
    ("references.toml", 'url = ""', 'url = "ftp://example.org/paper"', "references.toml:2", "http:// or https://"),
    ("glossary.toml", 'aliases = ["osteoclasts"]', 'aliases = "ab"', "glossary.toml:", "aliases of 'osteoclast' must be a list"),
    ("alpha/lesson.toml", 'title = "Lesson alpha"', "title = 42", "alpha/lesson.toml:1", "title must be text"),
    ("alpha/lesson.toml", "order = 101", "order = -3", "alpha/lesson.toml:3", "order must be a whole number"),
    ("alpha/lesson.toml", "order = 101", 'order = "first"', "alpha/lesson.toml:3", "order must be a whole number"),
    ("alpha/fundamentals.md", 'title = "alpha fundamentals"', 'title = "' + "x" * 300 + '"', "alpha/fundamentals.md:1", "at most 200 characters"),
    ("alpha/fundamentals.md", '"Know alpha fundamentals"', '"Know \\u0000 nothing"', "alpha/fundamentals.md:1", "control character"),
    ("alpha/fundamentals.md", "The osteoclast removes bone", "[" * 10_000 + " The osteoclast removes bone", "alpha/fundamentals.md:", "too slow to render"),
    ("glossary.toml", 'short = "A cell that builds bone."', 'short = "A cell that builds bone.', "glossary.toml:", "bad TOML"),
]


@pytest.mark.parametrize("name, old, new, where, message", IMPORT_CASES, ids=[c[4] for c in IMPORT_CASES])
def test_import_refuses_with_file_and_line_and_changes_nothing(small_course, name, old, new, where, message):
    before = (Lesson.objects.count(), list(TierText.objects.values_list("body", flat=True)), Reference.objects.count())
    _replace(small_course, name, old, new)
    started = time.perf_counter()
    with pytest.raises(ContentError) as caught:
        load_course(read_course(small_course))
    assert time.perf_counter() - started < 1
    errors = "\n".join(caught.value.errors)
    assert where in errors and message in errors, errors
    assert (Lesson.objects.count(), list(TierText.objects.values_list("body", flat=True)), Reference.objects.count()) == before


def test_bad_toml_is_reported_at_its_own_line(small_course):
    _replace(small_course, "glossary.toml", 'short = "A cell that builds bone."', 'short = "A cell that builds bone.')
    with pytest.raises(ContentError) as caught:
        read_course(small_course)
    line = next(i for i, l in enumerate((small_course / "glossary.toml").read_text().splitlines(), 1) if "builds bone." in l)
    assert f"glossary.toml:{line}:" in caught.value.errors[0]


def test_non_utf8_file_is_refused_with_file_and_line(small_course):
    path = small_course / "alpha" / "fundamentals.md"
    path.write_bytes(path.read_bytes().replace("removes bone".encode(), "entfernt gr\xf6\xdfer".encode("latin-1")))
    with pytest.raises(ContentError) as caught:
        read_course(small_course)
    line = next(i for i, l in enumerate(path.read_bytes().split(b"\n"), 1) if b"gr\xf6" in l)
    assert any(f"alpha/fundamentals.md:{line}: not UTF-8" in e for e in caught.value.errors)


def test_term_name_already_in_the_database_is_refused(small_course):
    Term.objects.create(slug="made-in-admin", term="Bone lining cell", aliases=["lining cell"], short="x")
    _replace(small_course, "glossary.toml", 'aliases = ["osteoblasts"]', 'aliases = ["osteoblasts", "Lining cell"]')
    with pytest.raises(ContentError) as caught:
        load_course(read_course(small_course))
    assert "already a name of the term “Bone lining cell”" in "\n".join(caught.value.errors)
