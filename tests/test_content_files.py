"""Import and export of the course files: validation, atomicity, idempotence, round trips."""

import filecmp
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from lessons.content_files import ContentError, export_course, load_course, read_course
from lessons.models import Lesson, Question, Reference, Term, TierText

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(Lesson.objects.values_list("slug", "title", "updated_at")),
        list(TierText.objects.values_list("pk", "body", "html")),
        list(Term.objects.values_list("slug", "short")),
        list(Question.objects.values_list("pk", "text", "archived")),
    )


def errors_for(course_dir):
    with pytest.raises(ContentError) as info:
        load_course(read_course(course_dir))
    return info.value.errors


def test_import_creates_everything_and_reports_counts(course_dir, capsys):
    call_command("import_content", str(course_dir))
    out = capsys.readouterr().out
    assert "lessons: 2 created" in out
    assert "tier texts: 6 created" in out
    assert "questions: 18 created" in out
    assert TierText.objects.get(lesson__slug="alpha", tier="academic").html.count('class="term"') >= 3


def test_second_import_writes_nothing_and_says_so(small_course, capsys):
    before = snapshot()
    capsys.readouterr()
    call_command("import_content", str(small_course))
    out = capsys.readouterr().out
    assert "Nothing changed" in out
    assert "lessons: 0 created, 0 updated, 2 unchanged" in out
    assert snapshot() == before


def test_changed_file_updates_only_its_rows(small_course, capsys):
    other = TierText.objects.get(lesson__slug="beta", tier="fundamentals")
    path = small_course / "alpha" / "fundamentals.md"
    path.write_text(path.read_text().replace("Osteoclasts again.", "Osteoclasts once more."))
    capsys.readouterr()
    call_command("import_content", str(small_course))
    out = capsys.readouterr().out
    assert "tier texts: 0 created, 1 updated, 5 unchanged" in out
    assert "once more" in TierText.objects.get(lesson__slug="alpha", tier="fundamentals").body
    assert TierText.objects.get(pk=other.pk).updated_at == other.updated_at


def test_dry_run_validates_but_changes_nothing(course_dir, capsys):
    call_command("import_content", str(course_dir), "--dry-run")
    assert "Dry run" in capsys.readouterr().out
    assert not Lesson.objects.filter(slug="alpha").exists()


@pytest.mark.parametrize(
    "path, old, new, expected",
    [
        ("alpha/fundamentals.md", 'title = "alpha fundamentals"', 'title = "alpha', "alpha/fundamentals.md:2: bad TOML"),
        ("alpha/fundamentals.md", 'title = "alpha fundamentals"\n', "", "alpha/fundamentals.md:1: missing title"),
        ("alpha/intermediate.md", "[@smith2020; @lee2019]", "[@nobody1999]", "alpha/intermediate.md:15: unknown citation key 'nobody1999'"),
        ("beta/lesson.toml", 'title = "Lesson beta"\n', "", "beta/lesson.toml:1: missing title"),
        ("beta/lesson.toml", "order = 102", "order = 101", "beta/lesson.toml:3: order 101 is also used by 'alpha'"),
        ("beta/lesson.toml", 'status = "published"', 'status = "live"', "beta/lesson.toml:4: status must be"),
        ("glossary.toml", 'slug = "osteoblast"', 'slug = "osteoclast"', "duplicate term slug 'osteoclast'"),
        ("glossary.toml", 'see_also = ["osteoblast"]', 'see_also = ["nothing"]', "names unknown term 'nothing'"),
        ("references.toml", 'doi = "10.1000/test.1"', 'doi = ""', "reference 'smith2020': A reference needs a DOI, PMID or URL"),
        ("alpha/academic.gift", "=Osteoclast", "~Osteoclast", "alpha/academic.gift:2: question 'alpha-a-q1' has no right answer"),
        ("alpha/academic.gift", "// section: hormones", "// section: nowhere", "alpha/academic.gift:10: section 'nowhere' is not a heading anchor"),
    ],
)
def test_bad_file_names_file_line_and_problem_and_changes_nothing(small_course, path, old, new, expected):
    before = snapshot()
    target = small_course / path
    text = target.read_text()
    assert old in text
    target.write_text(text.replace(old, new, 1))
    # Also change a good file, to show the good change is rolled back with the bad one.
    good = small_course / "beta" / "academic.md"
    good.write_text(good.read_text().replace("Osteoclasts again.", "Changed text."))
    errors = errors_for(small_course)
    assert any(expected in e for e in errors), errors
    assert snapshot() == before


def test_unknown_tier_file_is_rejected(course_dir):
    (course_dir / "alpha" / "expert.md").write_text("+++\ntitle = 'x'\n+++\n\ntext\n")
    assert any("alpha/expert.md:1: unknown tier 'expert'" in e for e in errors_for(course_dir))


def test_lesson_already_in_the_database_is_updated_in_place(small_course):
    before = Lesson.objects.get(slug="alpha")
    path = small_course / "alpha" / "lesson.toml"
    path.write_text(path.read_text().replace('title = "Lesson alpha"', 'title = "Lesson alpha, revised"'))
    load_course(read_course(small_course))
    assert list(Lesson.objects.filter(slug="alpha").values_list("pk", "title")) == [(before.pk, "Lesson alpha, revised")]


def test_command_exits_non_zero_with_errors_on_stderr(course_dir, capsys):
    (course_dir / "alpha" / "lesson.toml").write_text("title = \n")
    with pytest.raises(CommandError, match="nothing was changed"):
        call_command("import_content", str(course_dir))
    assert "alpha/lesson.toml:1: bad TOML" in capsys.readouterr().err


def test_removed_question_is_archived_not_deleted(small_course):
    path = small_course / "alpha" / "fundamentals.gift"
    blocks = path.read_text().split("\n\n")
    path.write_text("\n\n".join(blocks[:2]) + "\n")
    summary = load_course(read_course(small_course))
    question = Question.objects.get(name="alpha-f-q3")
    assert question.archived
    assert summary.counts["questions"]["archived"] == 1


def test_import_keeps_rows_that_exist_only_in_the_database(small_course):
    Reference.objects.create(key="admin2024", authors="A", title="Added in admin", year=2024, url="https://example.org")
    load_course(read_course(small_course))
    assert Reference.objects.filter(key="admin2024").exists()


def test_export_then_import_is_lossless_and_byte_identical(only_small_course, tmp_path):
    out = tmp_path / "export1"
    export_course(out)
    before = snapshot()
    summary = load_course(read_course(out))
    assert not summary.changed
    assert snapshot() == before
    again = tmp_path / "export2"
    export_course(again)
    assert_same_tree(out, again)


def assert_same_tree(a: Path, b: Path, only=None):
    docs = {"README.md", "REVIEW.md"}  # written by people, not exported
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and p.name not in docs)
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file() and p.name not in docs)
    if only is not None:
        files_b = [f for f in files_b if f in set(files_a)]
    assert files_a == files_b
    mismatched = [str(f) for f in files_a if not filecmp.cmp(a / f, b / f, shallow=False)]
    assert mismatched == []


def test_bundled_course_exports_byte_for_byte(bundled_course, tmp_path):
    out = tmp_path / "export"
    export_course(out)
    assert_same_tree(Path(bundled_course), out, only=True)


def test_changing_only_a_choice_counts_its_question_as_updated(small_course):
    path = small_course / "alpha" / "fundamentals.gift"
    path.write_text(path.read_text().replace("#No, it senses load.", "#No: it senses load and signals."))
    summary = load_course(read_course(small_course))
    assert summary.counts["questions"] == {"created": 0, "updated": 1, "unchanged": 17, "archived": 0}
    assert Question.objects.get(name="alpha-f-q1").choices.filter(feedback__contains="and signals").exists()
