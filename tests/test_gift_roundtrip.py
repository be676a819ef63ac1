"""Issue 16: a Moodle question bank kept whole. Everything GIFT carries is stored (names as
shown, [id:], [tag:], $CATEGORY, the text format of every field) and written back: import →
export → import → export is byte-identical, for a bank of every type, every bundled quiz and
Moodle's own snippets."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lessons.content_files import CONTENT_DIR, quiz_data
from lessons.content_files.load import import_quiz
from lessons.models import Choice, Question, Quiz
from lessons.quizzes import gift
from lessons.rendering import render_inline

from .test_gift import SUPPORTED, observed, wanted

pytestmark = pytest.mark.django_db

# Every type; names with spaces and slashes; [id:], [tag:], two categories; every format tag on
# question texts, answers, feedback and general feedback; escapes; decimal weights; a
# `// name:` identity kept after the title changed. In the writer's canonical layout.
BANK = r"""$CATEGORY: $course$/Bone/Cells

// section: cells
// [id:hb-1] [tag:bone] [tag:cells and signals]
::Cells / who removes bone?:: [html]Which cell <b>removes</b> bone \{really\}\: yes?{
=[markdown]**Osteoclast** #[plain]Right \# one <b>
~Osteoblast #[moodle]No, it *builds*.
~[plain]<Osteocyte> #[markdown]No\: it senses load.
~%50%Lining cell #<em>Half</em>\: it can, a little.
~%0%%50% of cells #Text that starts like a weight
####[plain]Because <maths> \= fun\nand a second line.
}

// [tag:thirds]
::Remodeling / why (thirds):: [plain]Which are reasons to remodel? <Choose all>{
~%33.33333%[markdown]*Repair* #[html]<b>Yes</b>
~%33.33333%Fit to load #Yes
~%33.33333%Calcium store \~ reserve \\ backslash #Yes
~%-100%[moodle]Growth in length #[markdown]No\: that is the *growth plate*.
####[html]<p>Three reasons.</p>
}

// name: eighths-v1
::Eighths / v2:: Pick the eight right ones.\nAll of them.{
~%12.5%A
~%12.5%B
~%12.5%C
~%12.5%D
~%12.5%E
~%12.5%F
~%12.5%G
~%12.5%H
~%-100%None #[markdown]**No**
}

// section: hormones
::True or false / PTH:: [markdown]PTH raises blood calcium.{TRUE#[plain]Look again <here>.#[html]<b>Right</b>.
####[moodle]PTH acts on bone, kidney and, through calcitriol, gut.
}

$CATEGORY: $course$/Bone/Hormones

// [id:match/1]
::Hormone → effect:: [markdown]Match each hormone with its effect.{
=[html]<b>PTH</b> -> raises calcium
=Calcitonin -> lowers calcium \{briefly\}
=[plain]<Vitamin D> -> raises absorption
= -> has no effect
####[plain]See the <hormones> section.
}

::T-score / cut-off:: [markdown]A T-score at or below which value defines osteoporosis?{#
=-2.5 #[html]<b>Exactly.</b>
=%50%-2:0.5 #[plain]Close\: osteopenia <range>.
=%33.33333%-4..-3 #Lower than needed.
~#[moodle]No. Osteoporosis starts at -2.5.
####General feedback for numbers.
}

Which cell resorbs bone? Give its name.{
=osteoclast #[html]<b>Right.</b>
=%50%osteoclast* #Right idea, check the spelling.
=%12.5%OC #[plain]An <abbreviation>.
####[markdown]Osteoclasts are *multinucleated*.
}
"""

BUNDLED = [q for path in sorted(CONTENT_DIR.glob("*/*.gift")) for q in gift.parse(path.read_text(encoding="utf-8"), moodle=True).questions]


@pytest.fixture
def quiz(small_course):
    return Quiz.objects.get(text__lesson__slug="alpha", text__tier="academic")


def export(quiz):
    return gift.write(quiz_data(Quiz.objects.get(pk=quiz.pk)), moodle=True)


def test_a_moodle_bank_is_stored_and_written_back_byte_for_byte(quiz):
    import_quiz(quiz, BANK)
    first = export(quiz)
    assert first == BANK
    summary = import_quiz(quiz, first)
    assert summary.counts["questions"] == {"created": 0, "updated": 0, "unchanged": 7, "archived": 0}
    assert export(quiz) == first


def test_names_ids_tags_categories_and_formats_are_stored_on_the_rows(quiz):
    import_quiz(quiz, BANK)
    rows = {q.name: q for q in quiz.questions.active()}
    assert list(rows) == [
        "hb-1", "remodeling-why-thirds", "eighths-v1", "true-or-false-pth", "match1", "t-score-cut-off",
        "which-cell-resorbs-bone-give-its-name",
    ]
    cells = rows["hb-1"]
    assert (cells.title, cells.idnumber, cells.tags, cells.category) == (
        "Cells / who removes bone?", "hb-1", ["bone", "cells and signals"], "$course$/Bone/Cells",
    )
    assert (cells.text, cells.text_format, cells.explanation_format) == ("Which cell <b>removes</b> bone {really}: yes?", "html", "plain")
    assert cells.explanation == "Because <maths> = fun\nand a second line."
    assert [(c.text, c.text_format, c.feedback_format) for c in cells.choices.all()] == [
        ("**Osteoclast**", "markdown", "plain"), ("Osteoblast", "html", "moodle"), ("<Osteocyte>", "plain", "markdown"),
        ("Lining cell", "html", "html"), ("%50% of cells", "html", "html"),
    ]
    assert (rows["eighths-v1"].title, rows["eighths-v1"].text_format) == ("Eighths / v2", "moodle")
    assert {q.category for q in rows.values()} == {"$course$/Bone/Cells", "$course$/Bone/Hormones"}
    assert (rows["match1"].idnumber, rows["which-cell-resorbs-bone-give-its-name"].title) == ("match/1", "")
    assert [format(c.weight.normalize(), "f") for c in rows["remodeling-why-thirds"].choices.all()] == ["33.33333"] * 3 + ["-100"]
    assert {str(c.weight.normalize()) for c in rows["eighths-v1"].choices.filter(weight__gt=0)} == {"12.5"}


def test_each_field_is_rendered_in_its_own_format(quiz):
    import_quiz(quiz, BANK)
    cells = Question.objects.get(quiz=quiz, name="hb-1")
    assert cells.text_html == "Which cell <b>removes</b> bone {really}: yes?"  # html, sanitised
    assert cells.explanation_html == "<p>Because &lt;maths&gt; = fun<br>and a second line.</p>"  # plain, escaped
    html = {c.text: (c.text_html, c.feedback_html) for c in cells.choices.all()}
    assert html["**Osteoclast**"] == ("<strong>Osteoclast</strong>", "Right # one &lt;b&gt;")
    assert html["Osteoblast"] == ("Osteoblast", "No, it <em>builds</em>.")  # [moodle] is shown as markdown
    assert html["<Osteocyte>"] == ("&lt;Osteocyte&gt;", "No: it senses load.")
    assert html["Lining cell"][1] == "<em>Half</em>: it can, a little."
    thirds = Question.objects.get(quiz=quiz, name="remodeling-why-thirds")
    assert thirds.text_html == "<p>Which are reasons to remodel? &lt;Choose all&gt;</p>" and thirds.explanation_html == "<p>Three reasons.</p>"
    left = [c.text_html for c in Choice.objects.filter(question__quiz=quiz, question__name="match1")]
    assert left == ["<b>PTH</b>", "Calcitonin", "&lt;Vitamin D&gt;", ""]


def test_the_learner_sees_each_format_on_the_question_and_feedback(client, quiz):
    import_quiz(quiz, BANK)
    url = "/lessons/alpha/academic/quiz/"
    client.post(url + "start/")
    attempt = quiz.attempts.get()
    page = client.get(url).content.decode()
    assert "Which cell <b>removes</b> bone {really}: yes?" in page
    assert "<span><strong>Osteoclast</strong></span>" in page and "<span>&lt;Osteocyte&gt;</span>" in page
    cells = Question.objects.get(quiz=quiz, name="hb-1")
    right = cells.choices.get(position=0)
    feedback = client.post(url + "answer/", {"attempt": attempt.pk, "question": cells.pk, "choice": right.pk}, follow=True).content.decode()
    assert "Right # one &lt;b&gt;" in feedback and "Because &lt;maths&gt; = fun<br>and a second line." in feedback


def test_every_bundled_quiz_goes_through_the_database_unchanged(bundled_course):
    quizzes = list(Quiz.objects.select_related("text__lesson"))
    assert len(quizzes) == 30
    for quiz in quizzes:
        path = CONTENT_DIR / quiz.text.lesson.slug / f"{quiz.text.tier}.gift"
        first = export(quiz)
        # The files carry the lesson's quiz defaults in lesson.toml, so compare the questions.
        assert first.split("\n\n", 1)[-1] in path.read_text(encoding="utf-8"), path
        summary = import_quiz(quiz, first)
        assert summary.counts["questions"]["created"] == summary.counts["questions"]["updated"] == 0, path
        assert export(quiz) == first, path


def test_moodles_snippets_survive_import_and_export_with_the_values_moodle_reads(quiz):
    """Each supported snippet of Moodle's tests and examples: into the database, out as GIFT,
    read again by the Moodle reader, with the values Moodle's tests assert."""
    for filename, index, start, padded, expected in SUPPORTED:
        import_quiz(quiz, padded)
        exported = export(quiz)
        (question,) = gift.parse(exported, moodle=True).questions
        got = observed(question)
        assert {k: got[k] for k in wanted(expected)} == wanted(expected), (filename, index)
        if "formats" in expected:
            assert got["formats"] == expected["formats"], (filename, index)
        import_quiz(quiz, exported)
        assert export(quiz) == exported, (filename, index)
    assert len(SUPPORTED) == 60


@pytest.mark.parametrize(
    "source, line, message",
    [
        ("\n\n::e:: Describe remodeling.{}\n", 3, "question 'e': essay questions are not supported"),
        ("\n::m:: The {=osteoclast ~osteoblast} removes bone.\n", 2, "question 'm': missing-word questions"),
    ],
)
def test_an_essay_or_missing_word_bank_is_refused_with_line_and_type_and_changes_nothing(quiz, source, line, message):
    before = list(Question.objects.values_list("pk", "name", "text", "archived"))
    with pytest.raises(gift.GiftError) as info:
        import_quiz(quiz, source)
    assert info.value.line == line and message in str(info.value)
    assert list(Question.objects.values_list("pk", "name", "text", "archived")) == before


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_question_with_its_name_shown_and_markdown_formats():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("lessons", "0007_review_items")], [("lessons", "0008_moodle_names_tags_formats")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        lesson = apps.get_model("lessons", "Lesson").objects.create(slug="m", title="M", summary="s")
        text = apps.get_model("lessons", "TierText").objects.create(lesson=lesson, tier="fundamentals", title="T", body="b")
        quiz = apps.get_model("lessons", "Quiz").objects.create(text=text)
        old = apps.get_model("lessons", "Question").objects.create(quiz=quiz, name="m-f-1", text="Which *one*?", explanation="Why.")
        apps.get_model("lessons", "Choice").objects.create(question=old, text="**This**", weight=100, feedback="Yes *indeed*")
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        question = executor.loader.project_state(after).apps.get_model("lessons", "Question").objects.get(pk=old.pk)
        assert (question.name, question.title, question.text, question.text_format, question.explanation_format) == (
            "m-f-1", "m-f-1", "Which *one*?", "markdown", "markdown",
        )
        assert (question.idnumber, question.tags, question.category) == ("", [], "")
        choice = question.choices.get()
        assert (choice.text, choice.weight, choice.text_format, choice.feedback_format) == ("**This**", 100, "markdown", "markdown")
        assert (choice.text_html, choice.feedback_html) == ("<strong>This</strong>", "Yes <em>indeed</em>")
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZé9 ,.;:?!'\"()%/+=-_*#<&\n1"), max_size=30))
def test_plain_prose_answers_skip_markdown_only_where_markdown_would_give_the_same(text):
    from lessons.rendering import render_markdown

    full = render_markdown(text).strip()
    inline = full[3:-4] if full.startswith("<p>") and full.endswith("</p>") and full.count("<p>") == 1 else full
    assert render_inline(text) == inline


def test_every_bundled_answer_and_feedback_renders_as_markdown_would():
    from lessons.rendering import render_markdown

    texts = {c.text for q in BUNDLED for c in q.choices} | {c.feedback for q in BUNDLED for c in q.choices}
    shortcut = [t for t in texts if render_inline(t) == t]
    assert len(shortcut) > 0.9 * len(texts)
    for t in texts:
        full = render_markdown(t).strip()
        assert render_inline(t) == (full[3:-4] if full.count("<p>") == 1 and full.startswith("<p>") else full)


@pytest.mark.parametrize(
    "source, line, message",
    [
        (f"::{'n' * 256}:: Q?{{T}}\n", 1, "the name is 256 characters long; the limit is 255"),
        (f"// [id:{'i' * 101}]\n::q:: Q?{{T}}\n", 2, "the [id:] is 101 characters long; the limit is 100"),
        (f"$CATEGORY: {'c' * 501}\n\n::q:: Q?{{T}}\n", 3, "the $CATEGORY path is 501 characters long; the limit is 500"),
        (f"::q:: Q?{{=a #{'f' * 1001} ~b}}\n", 1, "a feedback is 1,001 characters long; the limit is 1,000"),
    ],
)
def test_a_moodle_field_longer_than_its_column_is_refused_with_its_line(quiz, source, line, message):
    from lessons.content_files import ContentError

    before = list(Question.objects.values_list("pk", "name", "archived"))
    with pytest.raises(ContentError) as info:
        import_quiz(quiz, source)
    assert f"line {line}: {message}" in str(info.value)
    assert list(Question.objects.values_list("pk", "name", "archived")) == before
