"""Issue 16, phase 2: exact weights, matching/numerical/short-answer questions stored, written and read back."""

import re
from decimal import Decimal

import pytest

from lessons.quizzes import gift
from lessons.content_files import CONTENT_DIR
from lessons.content_files.load import import_quiz
from lessons.content_files.write import quiz_data
from lessons.models import Choice, Question, Quiz

pytestmark = pytest.mark.django_db

ALL_TYPES = """\
::pick-one:: [markdown]Which cell removes bone?{
=Osteoclast #Yes
~%50%Osteocyte #Half\\: it can, a little.
~Osteoblast #No, it builds.
}

::pick-three:: [markdown]Which are reasons to remodel? Choose all that apply.{
~%33.33333%Repair #Yes
~%33.33333%Fit to load #Yes
~%33.33333%Calcium #Yes
~%-100%Growth in length #No
}

::tf:: [markdown]Osteoblasts build bone.{TRUE#Look again.#Right.
}

::hormone-effect:: [markdown]Match each hormone with its main effect on blood calcium.{
=PTH -> raises it
=Calcitonin -> lowers it briefly
=Vitamin D -> raises absorption
= -> has no effect
}

::t-score:: [markdown]A T-score at or below which value defines osteoporosis?{#
=-2.5 #Right.
=%50%-2:0.5 #Close\\: that is the osteopenia range.
=%25%-4..-3 #Lower than needed.
~#No. Osteoporosis starts at -2.5.
}

::cell-name:: [markdown]Which cell resorbs bone?{
=osteoclast #Right.
=%50%osteoclast* #Right idea, check the spelling.
####Osteoclasts are multinucleated.
}
"""


@pytest.fixture
def quiz(small_course):
    return Quiz.objects.get(text__lesson__slug="alpha", text__tier="academic")


def export(quiz):
    return gift.write(quiz_data(Quiz.objects.get(pk=quiz.pk)), moodle=True)


def test_every_type_round_trips_through_the_database_byte_for_byte(quiz):
    import_quiz(quiz, ALL_TYPES)
    first = export(quiz)
    assert first == ALL_TYPES
    import_quiz(quiz, first)
    assert export(quiz) == first


def test_each_type_is_stored_in_choice_rows_exactly(quiz):
    import_quiz(quiz, ALL_TYPES)
    kinds = dict(quiz.questions.active().values_list("name", "kind"))
    assert kinds == {"pick-one": "single", "pick-three": "multiple", "tf": "truefalse",
                     "hormone-effect": "matching", "t-score": "numerical", "cell-name": "shortanswer"}
    thirds = Choice.objects.filter(question__name="pick-three", weight__gt=0)
    assert {c.weight for c in thirds} == {Decimal("33.33333")}
    pairs = [(c.text, c.match) for c in Choice.objects.filter(question__name="hormone-effect")]
    assert pairs[0] == ("PTH", "raises it") and pairs[-1] == ("", "has no effect")
    numbers = list(Choice.objects.filter(question__name="t-score"))
    assert numbers[0].value == Decimal("-2.5") and numbers[1].tolerance == Decimal("0.5")
    assert (numbers[2].minimum, numbers[2].maximum) == (Decimal("-4"), Decimal("-3"))
    assert numbers[3].value is None and numbers[3].weight == 0
    short = list(Choice.objects.filter(question__name="cell-name"))
    assert [(c.text, c.weight) for c in short] == [("osteoclast", 100), ("osteoclast*", 50)]


def test_a_weight_outside_moodles_grades_is_refused_with_its_line(quiz):
    before = list(Question.objects.values_list("pk", "text"))
    with pytest.raises(gift.GiftError) as info:
        import_quiz(quiz, "\n\n::q:: Pick{~%33%a ~%33%b ~%34%c ~%-100%d}\n")
    assert info.value.line == 3 and "33.33333" in str(info.value)
    assert list(Question.objects.values_list("pk", "text")) == before


BUNDLED_GIFT = sorted(CONTENT_DIR.glob("*/*.gift"))


def test_every_bundled_gift_uses_only_moodles_grades():
    weights = []
    for path in BUNDLED_GIFT:
        parsed = gift.parse(path.read_text(encoding="utf-8"), moodle=True, filename=str(path))
        weights += [c.percent for q in parsed.questions for c in q.choices if q.kind != "truefalse"]
        weights += [a.weight for q in parsed.questions for a in q.answers + q.numbers]
        assert gift.write(parsed, moodle=True) == path.read_text(encoding="utf-8")
    assert weights and all(gift.is_moodle_grade(w) for w in weights)
    assert not [p for p in BUNDLED_GIFT if re.search(r"%3[34]%", p.read_text(encoding="utf-8"))]


def test_a_non_utf8_upload_names_file_line_and_byte_and_changes_nothing(quiz, admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("bank.gift", "::q:: Pick{=ja ~nein}\n\n::r:: Gr\u00f6\u00dfer?{=a ~b}\n".encode("latin-1"))
    response = admin_client.post(
        f"/admin/lessons/quiz/{quiz.pk}/change/",
        {"text": quiz.text_id, "pass_mark": 90, "shuffle": "on", "gift_file": upload},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "bank.gift:3" in body and "byte 0xf6" in body
    assert Quiz.objects.get(pk=quiz.pk).pass_mark == 70


def test_an_instructor_without_quiz_rights_gets_403_on_statistics_and_gift(quiz, client, django_user_model):
    user = django_user_model.objects.create_user("helper", password="pw-long-enough-1", is_staff=True)
    client.force_login(user)
    assert client.get(f"/admin/lessons/quiz/{quiz.pk}/statistics/").status_code == 403
    assert client.get(f"/admin/lessons/quiz/{quiz.pk}/gift/").status_code == 403
