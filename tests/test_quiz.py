"""Quizzes: GIFT files, grading, the answer flow, forged input, statistics, concurrency."""

import re
import threading
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import timezone

from lessons.quizzes import gift
from lessons.content_files import CONTENT_DIR
from lessons.models import Answer, Attempt, Choice, Question, Quiz
from lessons.quizzes.stats import quiz_statistics

from .learners import Learner

pytestmark = pytest.mark.django_db


# --- GIFT ----------------------------------------------------------------------------


def test_gift_parses_every_supported_type_with_feedback_weights_and_escapes():
    quiz = gift.parse(
        "// pass_mark: 80\n// shuffle: false\n\n"
        "// a comment that is ignored\n"
        "// section: cells\n"
        "::q1:: [markdown]Is 2 \\= 1 \\+ 1\\: **yes**?{\n=Yes \\{really\\} #Right \\# one\n~No #Wrong\n####Because *maths*.\n}\n\n"
        "::q2::Pick two{~%50%A #fa ~%50%B #fb ~%-100%C #fc}\n\n"
        "::q3::The sky is green.{FALSE#It is not green.#Right, it is blue.####Rayleigh.}\n"
    )
    assert (quiz.pass_mark, quiz.shuffle) == (80, False)
    q1, q2, q3 = quiz.questions
    assert q1.section == "cells" and q1.text == "Is 2 = 1 \\+ 1: **yes**?"
    assert [(c.text, c.weight, c.feedback) for c in q1.choices] == [("Yes {really}", 100, "Right # one"), ("No", 0, "Wrong")]
    assert q1.explanation == "Because *maths*."
    assert q2.kind == "multiple" and [c.weight for c in q2.choices] == [50, 50, -100]
    assert q3.kind == "truefalse"
    assert [(c.text, c.weight, c.feedback) for c in q3.choices] == [("True", 0, "It is not green."), ("False", 100, "Right, it is blue.")]


@pytest.mark.parametrize(
    "source, line, message",
    [
        ("::a::Q{=x}\n", 1, "short-answer questions"),
        ("\n\n::a::Q{=x -> y =z -> w}\n", 3, "matching questions"),
        ("::a::Q{#3:1}\n", 1, "numerical questions"),
        ("::a::Q{}\n", 1, "essay questions"),
        ("::a::Grant is {~buried =entombed} in the tomb.\n", 1, "missing-word questions"),
        ("::a::Q{=x ~y}\n\n::a::Q2{=x ~y}\n", 3, "duplicate question name 'a'"),
        ("\n// only text\nA question with no answers\n", 3, "description items"),
        ("::a::Q{~%50%x ~%20%y ~z}\n", 1, "add up to 70%"),
        ("::a::Q{=x =y ~z}\n", 1, "exactly one '=' answer"),
        ("::a::Q{=x ~y\n", 1, "no closing '}'"),
        ("// pass_mark: lots\n\n::a::Q{=x ~y}\n", 1, "pass_mark must be"),
    ],
)
def test_gift_errors_name_the_line_and_the_problem(source, line, message):
    with pytest.raises(gift.GiftError) as info:
        gift.parse(source)
    assert info.value.line == line
    assert message in info.value.message


BUNDLED_GIFT = sorted(CONTENT_DIR.glob("*/*.gift"))


@pytest.mark.parametrize("path", BUNDLED_GIFT, ids=[f"{p.parent.name}/{p.name}" for p in BUNDLED_GIFT])
def test_bundled_quiz_gift_round_trip_is_exact(path: Path):
    text = path.read_text(encoding="utf-8")
    parsed = gift.parse(text, moodle=True)
    assert gift.write(parsed, moodle=True) == text
    assert gift.parse(gift.write(parsed, moodle=True), moodle=True) == parsed


def test_every_quiz_downloads_as_gift_that_reimports_identically(small_course, instructor_client):
    quiz = Quiz.objects.get(text__lesson__slug="alpha", text__tier="fundamentals")
    response = instructor_client.get(f"/admin/lessons/quiz/{quiz.pk}/gift/")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('alpha-fundamentals.gift"')
    original = gift.parse((small_course / "alpha" / "fundamentals.gift").read_text(), moodle=True)
    assert gift.parse(response.content.decode(), moodle=True) == original


# --- Grading --------------------------------------------------------------------------


def choices(question):
    return {c.text: c.pk for c in question.choices.all()}


@pytest.mark.parametrize(
    "position, picked, grade",
    [
        (1, ["Osteoclast"], 1),
        (1, ["Osteoblast"], 0),
        (2, ["PTH"], 0.5),
        (2, ["PTH", "Calcitriol"], 1),
        (2, ["PTH", "Calcitriol", "Calcitonin"], 0),
        (2, ["Calcitonin"], 0),  # never below zero
        (3, ["True"], 1),
        (3, ["False"], 0),
    ],
)
def test_grade_of_a_choice_set(small_course, position, picked, grade):
    question = Question.objects.filter(quiz__text__lesson__slug="alpha", quiz__text__tier="fundamentals").order_by("position")[position - 1]
    assert question.grade([choices(question)[text] for text in picked]) == grade


# --- The answer flow --------------------------------------------------------------------

URL = "/lessons/alpha/fundamentals/quiz/"


def start(client):
    client.get(URL)
    client.post(URL + "start/")
    return Attempt.objects.filter(quiz__text__lesson__slug="alpha", quiz__text__tier="fundamentals").latest("started_at")


def current_question(client):
    page = client.get(URL).content.decode()
    qid = int(re.search(r'name="question" value="(\d+)"', page).group(1))
    return Question.objects.get(pk=qid), page


def test_question_html_holds_no_hint_of_the_right_answer(client, small_course):
    start(client)
    question, page = current_question(client)
    form = page.split("<form", 2)[2] if page.count("<form") > 1 else page.split("<form", 1)[1]
    assert "correct" not in form.lower() and "weight" not in form.lower()
    for c in question.choices.all():
        assert c.feedback not in page
    assert 'name="choice"' in form
    assert "Question 1 of 3" in page and '<progress max="3" value="0"' in page


def test_without_js_answer_posts_and_redirects_to_feedback_then_finishes(client, small_course):
    attempt = start(client)
    for _ in range(3):
        question, _ = current_question(client)
        right = question.choices.filter(weight__gt=0).values_list("pk", flat=True)
        response = client.post(URL + "answer/", {"attempt": attempt.pk, "question": question.pk, "choice": list(right)})
        assert response.status_code == 302 and response["Location"] == f"{URL}?answered={question.pk}"
        feedback = client.get(response["Location"]).content.decode()
        assert "✓ Right" in feedback and "Review this section" in feedback
        assert f'href="/lessons/alpha/fundamentals/#{question.section}"' in feedback
    attempt.refresh_from_db()
    assert attempt.finished_at and attempt.score == 100
    result = client.get(URL).content.decode()
    assert "Your score: 100%" in result
    # The next lesson at the learner's depth, and going deeper only as an offer.
    assert 'href="/lessons/beta/fundamentals/">Next lesson at Fundamentals: Lesson beta</a>' in result
    assert 'href="/lessons/alpha/intermediate/">Go deeper: this lesson at Intermediate</a>' in result
    course_map = client.get("/").content.decode()
    assert "quiz passed, best 100%" in course_map


def test_htmx_answer_returns_feedback_fragment(client, small_course):
    attempt = start(client)
    question, _ = current_question(client)
    wrong = question.choices.filter(weight__lte=0).first()
    response = client.post(URL + "answer/", {"attempt": attempt.pk, "question": question.pk, "choice": wrong.pk}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<section id="quiz-card"')
    assert "✗ Not quite" in body and wrong.feedback in body and "Next question" in body


def answer_current(client, attempt):
    question, _ = current_question(client)
    client.post(URL + "answer/", {"attempt": attempt.pk, "question": question.pk, "choice": question.choices.first().pk})


def test_start_while_unfinished_resumes_the_same_attempt(learner_client, small_course):
    attempt = start(learner_client)
    answer_current(learner_client, attempt)
    learner_client.post(URL + "start/")
    assert Attempt.objects.filter(learner=attempt.learner).count() == 1
    assert "Question 2 of 3" in learner_client.get(URL).content.decode()


def test_retake_after_finishing_keeps_the_old_attempt(learner_client, small_course):
    attempt = start(learner_client)
    for _ in range(3):
        answer_current(learner_client, attempt)
    learner_client.post(URL + "start/")
    assert Attempt.objects.filter(learner=attempt.learner).count() == 2
    assert Answer.objects.filter(attempt=attempt).count() == 3


def test_second_learner_gets_an_attempt_of_their_own(learner_client, second_learner_client, small_course):
    first, second = start(learner_client), start(second_learner_client)
    assert first.pk != second.pk and first.learner != second.learner


# --- Forged and malformed input -----------------------------------------------------------


def bad_post(client, data, status=400, headers=None):
    before = (Answer.objects.count(), list(Attempt.objects.values_list("pk", "finished_at", "score")))
    response = client.post(URL + "answer/", data, headers=headers or {})
    assert response.status_code == status
    assert (Answer.objects.count(), list(Attempt.objects.values_list("pk", "finished_at", "score"))) == before
    return response.content.decode()


@pytest.fixture
def answering(learner_client, small_course):
    """A learner on question 1 of an attempt, and the ids a forged answer borrows."""
    attempt = start(learner_client)
    question, _ = current_question(learner_client)
    other_question = Question.objects.filter(quiz=question.quiz).exclude(pk=question.pk).first()
    return SimpleNamespace(
        client=learner_client, attempt=attempt, question=question, other_question=other_question,
        other_quiz_question=Question.objects.exclude(quiz=question.quiz).first(), mine=question.choices.first().pk,
    )


def answer_after_finishing(s):
    Attempt.objects.filter(pk=s.attempt.pk).update(finished_at=timezone.now(), score=0)
    return {"attempt": s.attempt.pk, "question": s.other_question.pk, "choice": s.other_question.choices.first().pk}


FORGED = {
    "choice of another question": (lambda s: {"attempt": s.attempt.pk, "question": s.question.pk, "choice": s.other_question.choices.first().pk}, "does not belong to this question"),
    "question of another quiz": (lambda s: {"attempt": s.attempt.pk, "question": s.other_quiz_question.pk, "choice": s.mine}, "not part of this quiz"),
    "choice not a number": (lambda s: {"attempt": s.attempt.pk, "question": s.question.pk, "choice": "1; DROP TABLE"}, "must be a whole number"),
    "attempt not a number": (lambda s: {"attempt": "abc", "question": s.question.pk, "choice": s.mine}, "must be a whole number"),
    "no choice": (lambda s: {"attempt": s.attempt.pk, "question": s.question.pk}, "Choose an answer"),
    "every choice of a single-choice question": (lambda s: {"attempt": s.attempt.pk, "question": s.question.pk, "choice": [c.pk for c in s.question.choices.all()]}, "exactly one answer"),
    "someone else's attempt": (lambda s: {"attempt": Attempt.objects.create(quiz=s.question.quiz, learner="someone-else").pk, "question": s.question.pk, "choice": s.mine}, "not yours"),
    "attempt already finished": (answer_after_finishing, "already finished"),
}


@pytest.mark.parametrize("case", FORGED)
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_forged_answer_gets_400_with_a_message_and_changes_nothing(answering, case, htmx):
    forge, message = FORGED[case]
    data = forge(answering)
    assert message in bad_post(answering.client, data, headers={"HX-Request": "true"} if htmx else {})


@pytest.mark.parametrize("htmx", [False, True])
def test_resending_an_answer_gets_the_stored_feedback_and_stores_nothing_new(client, small_course, htmx):
    """A retry after a lost response, a double click, or a second tab with another choice."""
    headers = {"HX-Request": "true"} if htmx else {}
    attempt = start(client)
    question, _ = current_question(client)
    wrong = question.choices.filter(weight__lte=0).first()
    right = question.choices.filter(weight__gt=0).first()
    first = client.post(URL + "answer/", {"attempt": attempt.pk, "question": question.pk, "choice": wrong.pk}, headers=headers)
    for choice in (wrong, right):
        again = client.post(URL + "answer/", {"attempt": attempt.pk, "question": question.pk, "choice": choice.pk}, headers=headers)
        if htmx:
            assert again.status_code == 200 and again.content == first.content
            body = again.content.decode()
        else:
            assert again.status_code == 302 and again["Location"] == first["Location"] == f"{URL}?answered={question.pk}"
            page = client.get(again["Location"])
            assert page.status_code == 200
            body = page.content.decode()
        assert "✗ Not quite" in body and wrong.feedback in body
    assert list(Answer.objects.filter(attempt=attempt).values_list("question_id", "selected")) == [(question.pk, [wrong.pk])]


def test_resending_the_last_answer_of_a_finished_attempt_gets_its_feedback(client, small_course):
    attempt = start(client)
    for _ in range(3):
        question, _ = current_question(client)
        last = {"attempt": attempt.pk, "question": question.pk, "choice": question.choices.first().pk}
        client.post(URL + "answer/", last)
    attempt.refresh_from_db()
    assert attempt.finished_at
    again = client.post(URL + "answer/", last, headers={"HX-Request": "true"})
    assert again.status_code == 200 and 'id="quiz-card"' in again.content.decode()
    assert Answer.objects.filter(attempt=attempt).count() == 3


def test_answer_endpoint_refuses_get(client, small_course):
    assert client.get(URL + "answer/").status_code == 405


def test_quiz_posts_are_rate_limited_per_learner(client, small_course, settings):
    settings.QUIZ_RATE_LIMIT = 3
    from django.core.cache import cache

    cache.clear()
    attempt = start(client)  # starting counts too
    for _ in range(2):
        bad_post(client, {"attempt": attempt.pk, "question": "x"})
    body = bad_post(client, {"attempt": attempt.pk, "question": "x"}, status=429)
    assert "Wait a minute" in body


# --- Statistics ------------------------------------------------------------------------------


def test_statistics_match_hand_computed_moodle_figures(small_course):
    quiz = Quiz.objects.get(text__lesson__slug="beta", text__tier="academic")
    q1, q2, q3 = quiz.questions.order_by("position")  # q2 is the multiple-select one
    # Marks per learner (first attempts), question order q1, q2, q3:
    #   A: 1, 1, 1    total 3
    #   B: 1, 0.5, 1  total 2.5
    #   C: 0, 1, 0    total 1
    #   D: 0, 0, 1    total 1
    # D's later retake (all right) must be ignored.
    marks = {"A": (1, 1, 1), "B": (1, 0.5, 1), "C": (0, 1, 0), "D": (0, 0, 1)}
    t0 = timezone.now() - timedelta(days=1)
    for i, (learner, row) in enumerate(marks.items()):
        attempt = Attempt.objects.create(quiz=quiz, learner=learner, finished_at=t0, score=round(100 * sum(row) / 3, 1))
        Attempt.objects.filter(pk=attempt.pk).update(started_at=t0 + timedelta(minutes=i))
        for q, mark in zip((q1, q2, q3), row):
            Answer.objects.create(attempt=attempt, question=q, selected=[q.choices.first().pk], score=mark)
    retake = Attempt.objects.create(quiz=quiz, learner="D", finished_at=timezone.now(), score=100)
    for q in (q1, q2, q3):
        Answer.objects.create(attempt=retake, question=q, selected=[q.choices.first().pk], score=1)

    stats = quiz_statistics(quiz, which="first")
    assert stats["attempts"] == 4 and stats["all_attempts"] == 5
    # Average of first-attempt scores: (100 + 83.3 + 33.3 + 33.3) / 4 = 62.5
    assert stats["average"] == pytest.approx(62.5, abs=0.05)
    rows = {r["question"].pk: r for r in stats["questions"]}

    # q1: x = [1, 1, 0, 0], y (rest) = [2, 1.5, 1, 1]; mean x 0.5, mean y 1.375.
    # cov = [(.5)(.625) + (.5)(.125) + (-.5)(-.375) + (-.5)(-.375)] / 3 = .75/3 = .25
    # var x = 1/3; var y = (.390625 + .015625 + .140625 + .140625)/3 = .6875/3 = .229167
    # DI = 100 * .25 / sqrt(.333333 * .229167) = 25 / .276385 = 90.45
    # sorted pairs give the same ordering, so cov_max = .25 and DE = 100.
    assert rows[q1.pk]["facility"] == pytest.approx(50)
    assert rows[q1.pk]["discrimination"] == pytest.approx(90.45, abs=0.01)
    assert rows[q1.pk]["efficiency"] == pytest.approx(100)

    # q2: x = [1, .5, 1, 0], y = [2, 2, 0, 1]; mean x .625, mean y 1.25.
    # cov = [(.375)(.75) + (-.125)(.75) + (.375)(-1.25) + (-.625)(-.25)]/3 = (.28125 - .09375 - .46875 + .15625)/3 = -.041667
    # var x = (.140625 + .015625 + .140625 + .390625)/3 = .229167; var y = (.5625 + .5625 + 1.5625 + .0625)/3 = .916667
    # DI = 100 * -.041667 / sqrt(.229167 * .916667) = -4.1667 / .458333 = -9.09
    # cov_max: x sorted [0, .5, 1, 1], y sorted [0, 1, 2, 2]:
    #   [(-.625)(-1.25) + (-.125)(-.25) + (.375)(.75) + (.375)(.75)]/3 = (.78125 + .03125 + .28125 + .28125)/3 = .458333
    # DE = 100 * -.041667 / .458333 = -9.09
    assert rows[q2.pk]["facility"] == pytest.approx(62.5)
    assert rows[q2.pk]["discrimination"] == pytest.approx(-9.09, abs=0.01)
    assert rows[q2.pk]["efficiency"] == pytest.approx(-9.09, abs=0.01)

    # q3: x = [1, 1, 0, 1], y = [2, 1.5, 1, 0]; mean x .75, mean y 1.125.
    # cov = [(.25)(.875) + (.25)(.375) + (-.75)(-.125) + (.25)(-1.125)]/3 = (.21875 + .09375 + .09375 - .28125)/3 = .041667
    # var x = (.0625*3 + .5625)/3 = .25; var y = (.765625 + .140625 + .015625 + 1.265625)/3 = .729167
    # DI = 100 * .041667 / sqrt(.25 * .729167) = 4.1667 / .426956 = 9.76
    # cov_max: x sorted [0, 1, 1, 1], y sorted [0, 1, 1.5, 2]:
    #   [(-.75)(-1.125) + (.25)(-.125) + (.25)(.375) + (.25)(.875)]/3 = (.84375 - .03125 + .09375 + .21875)/3 = .375
    # DE = 100 * .041667 / .375 = 11.11
    assert rows[q3.pk]["facility"] == pytest.approx(75)
    assert rows[q3.pk]["discrimination"] == pytest.approx(9.76, abs=0.01)
    assert rows[q3.pk]["efficiency"] == pytest.approx(11.11, abs=0.01)
    picked = {c.pk: n for c, n, _ in rows[q1.pk]["choices"]}
    assert picked[q1.choices.first().pk] == 4


def test_statistics_count_highest_attempts_leave_out_staff_and_show_quiz_figures(small_course, admin_client, instructor):
    quiz = Quiz.objects.get(text__lesson__slug="beta", text__tier="academic")
    q1, q2, q3 = quiz.questions.order_by("position")
    t0 = timezone.now() - timedelta(days=1)
    rows = [("A", (1, 1, 1)), ("B", (1, 0.5, 1)), ("C", (0, 1, 0)), ("D", (0, 0, 1)), ("D", (1, 1, 1))]
    for i, (learner, marks) in enumerate(rows):
        attempt = Attempt.objects.create(quiz=quiz, learner=learner, finished_at=t0, score=round(100 * sum(marks) / 3, 1))
        Attempt.objects.filter(pk=attempt.pk).update(started_at=t0 + timedelta(minutes=i))
        for q, mark in zip((q1, q2, q3), marks):
            Answer.objects.create(attempt=attempt, question=q, selected=[q.choices.first().pk], score=mark)
    staff = Attempt.objects.create(quiz=quiz, learner="staff", user=instructor, finished_at=t0, score=0)
    Answer.objects.create(attempt=staff, question=q1, selected=[q1.choices.first().pk], score=0)

    highest = quiz_statistics(quiz)
    assert (highest["which"], highest["attempts"], highest["all_attempts"]) == ("highest", 4, 5)
    assert highest["quiz"].mean == pytest.approx((3 + 2.5 + 1 + 3) / 4)
    assert quiz_statistics(quiz, "all")["attempts"] == 5
    page = admin_client.get(f"/admin/lessons/quiz/{quiz.pk}/statistics/?attempts=first").content.decode()
    assert "Cronbach" in page and "Likely to be poor" in page  # q2's efficiency is -9.09 on first attempts
    assert '<option value="first" selected>' in page


def test_statistics_show_html_questions_and_numerical_answers_as_text(small_course, admin_client):
    quiz = Quiz.objects.get(text__lesson__slug="beta", text__tier="academic")
    q1, q2, _ = quiz.questions.order_by("position")
    q1.text, q1.text_format = "<p>Osteoclasts derive from which <strong>lineage</strong> & why?</p>", "html"
    q1.save()
    q2.kind = "numerical"
    q2.save()
    q2.choices.all().delete()
    Choice.objects.create(question=q2, weight=100, value=Decimal("2.4"), tolerance=Decimal("0.2"))
    attempt = Attempt.objects.create(quiz=quiz, learner="A", finished_at=timezone.now(), score=100)
    Answer.objects.create(attempt=attempt, question=q2, selected=[q2.choices.get().pk], response="2.5", score=1)
    page = admin_client.get(f"/admin/lessons/quiz/{quiz.pk}/statistics/").content.decode()
    assert "Osteoclasts derive from which lineage &amp; why?" in page
    assert "&lt;strong&gt;" not in page and "&lt;p&gt;" not in page
    assert "2.4 ± 0.2" in page


def test_the_results_map_shows_question_text_escaped_once(client, small_course):
    question = Question.objects.filter(quiz__text__lesson__slug="alpha", quiz__text__tier="fundamentals").order_by("position").first()
    question.text = 'Which cell, osteocyte & its role ("5 < 6")?'
    question.save()
    attempt = start(client)
    for q in attempt.quiz.questions.all():
        client.post(URL + "answer/", {"attempt": attempt.pk, "question": q.pk, "choice": q.choices.first().pk})
    page = client.get(URL).content.decode()
    assert "Question by question" in page
    assert "osteocyte &amp; its role (&quot;5 &lt; 6&quot;)?" in page
    assert "&amp;amp;" not in page and "&amp;lt;" not in page


def test_the_results_map_shortens_long_question_text_at_a_word_boundary(client, small_course):
    long_text = (
        "Which of these describes what happens to osteoclast activity when oestrogen falls "
        "after menopause and remodelling units multiply across trabecular bone surfaces?"
    )
    question = Question.objects.filter(quiz__text__lesson__slug="alpha", quiz__text__tier="fundamentals").order_by("position").first()
    question.text = long_text
    question.save()
    attempt = start(client)
    for q in attempt.quiz.questions.all():
        client.post(URL + "answer/", {"attempt": attempt.pk, "question": q.pk, "choice": q.choices.first().pk})
    page = client.get(URL).content.decode()
    item = re.search(r'<span class="map-text"([^>]*)><strong>Question 1:[^<]*</strong> ([^<]*)</span>', page)
    assert item, "question 1 is missing from the results map"
    shown = item.group(2)
    assert shown.endswith("…") and len(shown) < len(long_text)
    kept = shown.removesuffix("…").rstrip()
    assert long_text.startswith(kept) and long_text[len(kept)] == " ", f"a word is cut in half: {shown!r}"
    assert f'title="{long_text}"' in item.group(1)


def statistics_url():
    return f"/admin/lessons/quiz/{Quiz.objects.first().pk}/statistics/"


def test_statistics_page_sends_an_anonymous_reader_to_log_in(learner_client, small_course):
    response = learner_client.get(statistics_url())
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_statistics_page_is_forbidden_to_an_instructor_without_quiz_rights(quizless_instructor_client, small_course):
    assert quizless_instructor_client.get(statistics_url()).status_code == 403


def test_statistics_page_title_names_the_quiz_once(admin_client, small_course):
    quiz = Quiz.objects.select_related("text__lesson").first()
    page = admin_client.get(statistics_url()).content.decode()
    heading = f"Quiz statistics: {quiz.text.lesson.title} — {quiz.text.get_tier_display()}"
    assert f"<h1>{heading}</h1>" in page and f"<title>{heading} |" in page
    assert "Statistics: Quiz:" not in page


@pytest.mark.parametrize("persona", ["instructor_client", "superuser_client"])
def test_statistics_page_shows_the_moodle_figures_to_staff_with_quiz_rights(request, small_course, persona):
    page = request.getfixturevalue(persona).get(statistics_url()).content.decode()
    assert "Facility index" in page and "Discrimination index" in page and "Discriminative efficiency" in page


# --- Concurrency -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_answers_on_many_attempts_lose_nothing(live_server, small_course):
    results, errors = [], []

    def learner_run():
        try:
            learner = Learner(live_server.url)
            learner.get(URL)
            learner.post(URL + "start/", {})
            for _ in range(3):
                status, page = learner.get(URL)
                attempt = re.search(r'name="attempt" value="(\d+)"', page).group(1)
                question = re.search(r'name="question" value="(\d+)"', page).group(1)
                choice = re.search(r'name="choice" value="(\d+)"', page).group(1)
                status, _ = learner.post(URL + "answer/", {"attempt": attempt, "question": question, "choice": choice})
                results.append(status)
        except Exception as exc:  # noqa: BLE001 - every failure is reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=learner_run) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(results) == 36 and set(results) == {200}
    assert Answer.objects.count() == 36
    assert Attempt.objects.filter(finished_at__isnull=False).count() == 12


def test_question_page_costs_a_fixed_number_of_queries(learner_client, small_course, django_assert_max_num_queries):
    start(learner_client)
    with django_assert_max_num_queries(6):
        current_question(learner_client)


def test_feedback_page_costs_a_fixed_number_of_queries(learner_client, small_course, django_assert_max_num_queries):
    attempt = start(learner_client)
    question, _ = current_question(learner_client)
    learner_client.post(URL + "answer/", {"attempt": attempt.pk, "question": question.pk, "choice": question.choices.first().pk})
    with django_assert_max_num_queries(6):
        assert learner_client.get(f"{URL}?answered={question.pk}").status_code == 200



def test_an_answer_post_costs_a_fixed_number_of_queries(learner_client, small_course, django_assert_max_num_queries):
    """quiz, attempt, question, its choices (once for validation, grading and feedback),
    the insert, two counts, and the savepoint pair of the transaction."""
    attempt = start(learner_client)
    question, _ = current_question(learner_client)
    data = {"attempt": attempt.pk, "question": question.pk, "choice": question.choices.first().pk}
    with django_assert_max_num_queries(9):
        assert learner_client.post(URL + "answer/", data, headers={"HX-Request": "true"}).status_code == 200
