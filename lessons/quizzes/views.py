"""Taking a quiz: one question at a time, graded on the server, feedback via htmx or POST/redirect."""

import random

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe, require_POST
from django.views.decorators.vary import vary_on_headers

from .. import throttling
from ..forms import AnsweredForm, AnswerForm
from ..models import CHOICE_KINDS, TIERS, Answer, Attempt, Lesson, Question, Quiz, ReviewItem, Tier
from ..page_cache import render_page
from ..learners.progress import learner_id, note_place
from . import responses
from .responses import BadAnswer


class AlreadyAnswered(Exception):
    """A resend (a retry after a cut-off response, a double click, two tabs): the answer
    stored first stands, and its feedback is the reply."""

    def __init__(self, answer: "Answer"):
        self.answer = answer


class EmptyAnswer(BadAnswer):
    """No choice was sent for a question that can still be answered: ask again, in place."""

    def __init__(self, message: str, attempt: Attempt, question: Question):
        super().__init__(message)
        self.attempt, self.question = attempt, question


def _quiz(request: HttpRequest, slug: str, tier: str) -> Quiz:
    return get_object_or_404(
        Quiz.objects.select_related("text__lesson"),
        text__lesson__in=Lesson.objects.visible_to(request.user), text__lesson__slug=slug, text__tier=tier,
    )


def _context(quiz: Quiz, **extra) -> dict:
    return {"quiz": quiz, "lesson": quiz.text.lesson, "text": quiz.text, **extra}


def _questions(quiz: Quiz) -> list:
    return list(quiz.questions.active().prefetch_related("choices"))


def _order(attempt: Attempt, question: Question) -> list | dict | None:
    """The choice ids of question in the order this attempt shows them (responses.py says the shapes)."""
    return attempt.choice_order.get(str(question.pk))


def start_attempt(quiz: Quiz, learner: str, user=None) -> Attempt:
    order = {}
    for question in _questions(quiz):
        order[str(question.pk)] = responses.shown_order(question, quiz.shuffle, random)
    return Attempt.objects.create(quiz=quiz, learner=learner, user=user, choice_order=order)


def _next_step(quiz: Quiz) -> dict:
    """After a passed quiz: the next lesson at the depth the learner is reading at, and,
    below Academic, an offer to go deeper into this lesson. Never a depth change unasked."""
    lesson, tier = quiz.text.lesson, quiz.text.tier
    label = Tier(tier).label
    _, after = lesson.neighbours()
    if after:
        step = {"url": reverse("tier", args=[after.slug, tier]), "label": f"Next lesson at {label}: {after.title}"}
    else:
        step = {"url": reverse("course_map"), "label": "Back to the course map"}
    i = TIERS.index(tier)
    if i + 1 < len(TIERS):
        deeper = TIERS[i + 1]
        step["deeper"] = {"url": reverse("tier", args=[lesson.slug, deeper]), "label": f"Go deeper: this lesson at {Tier(deeper).label}"}
    return step


def _feedback(quiz: Quiz, question: Question, answer: Answer, attempt: Attempt) -> dict:
    return responses.feedback(
        question, answer.selected, answer.response, answer.score, _order(attempt, question), quiz.text.get_absolute_url(),
    )


def _results(quiz: Quiz, attempt: Attempt, questions: list) -> dict:
    """The finished attempt question by question, in the order it was taken (one query)."""
    answers = {a.question_id: a for a in attempt.answers.select_related("question")}
    by_id = {q.pk: q for q in questions} | {a.question_id: a.question for a in answers.values()}
    order = [int(k) for k in attempt.choice_order if int(k) in by_id]
    order += [pk for pk in answers if pk not in order]
    sections = {item["id"]: item["name"] for item in quiz.text.toc}
    quiz_url = reverse("quiz", args=[quiz.text.lesson.slug, quiz.text.tier])
    rows = []
    for number, pk in enumerate(order, start=1):
        question, answer = by_id[pk], answers.get(pk)
        rows.append({
            "number": number,
            "question": question,
            "verdict": responses.verdict(answer.score) if answer else "unanswered",
            "feedback_url": f"{quiz_url}?answered={pk}" if answer else "",
            "section_url": f"{quiz.text.get_absolute_url()}#{question.section}" if question.section else "",
            "section_name": sections.get(question.section, ""),
        })
    return {
        "rows": rows,
        "correct": sum(1 for r in rows if r["verdict"] == "right"),
        "partly": sum(1 for r in rows if r["verdict"] == "partly right"),
        "question_count": len(rows),
        "review": _sections_to_review(rows),
    }


def _sections_to_review(rows: list) -> list:
    """Each section behind a question not fully right, once, with the numbers of those questions."""
    sections = {}
    for row in rows:
        if row["verdict"] != "right" and row["section_url"]:
            entry = sections.setdefault(row["section_url"], {"url": row["section_url"], "name": row["section_name"], "numbers": []})
            entry["numbers"].append(row["number"])
    return list(sections.values())


@require_safe
@vary_on_headers("HX-Request")
def quiz_page(request: HttpRequest, slug: str, tier: str) -> HttpResponse:
    quiz = _quiz(request, slug, tier)
    learner = learner_id(request)
    note_place(request, slug, tier, done=True)  # without JavaScript, going to the quiz is how "read" is told
    attempt = Attempt.objects.filter(quiz=quiz, learner=learner).first()
    questions = _questions(quiz)
    context = _context(quiz, attempt=attempt, total=len(questions))
    answered = {}
    if attempt:
        answered = {a.question_id: a for a in attempt.answers.all()}
    context["answered_count"] = len(answered)
    query = AnsweredForm(request.GET)
    shown = query.cleaned_data["answered"] if query.is_valid() else None
    if attempt and shown in answered:
        answer = answered[shown]
        question = next((q for q in questions if q.pk == answer.question_id), None) or answer.question
        context.update(state="feedback", **_feedback(quiz, question, answer, attempt))
        context["finished"] = attempt.finished_at is not None
    elif attempt is None:
        context["state"] = "intro"
    elif attempt.finished_at:
        context.update(state="results", next_step=_next_step(quiz), **_results(quiz, attempt, questions))
    else:
        pending = [q for q in questions if q.pk not in answered]
        if not pending:
            _finish(attempt)
            return redirect("quiz", slug, tier)
        context.update(_question_state(attempt, pending[0], len(answered)))
    return render_page(request, "lessons/quiz.html", context, partial="card")


def _question_state(attempt: Attempt, question: Question, answered_count: int, error: str = "") -> dict:
    return {
        **responses.question_state(question, _order(attempt, question)),
        "state": "question",
        "number": answered_count + 1,
        "answered_count": answered_count,
        "choice_error": error,
    }


@require_POST
def quiz_start(request: HttpRequest, slug: str, tier: str) -> HttpResponse:
    quiz = _quiz(request, slug, tier)
    learner = learner_id(request)
    if throttling.too_fast(request, learner):
        return _refuse_answer(request, quiz, "You are starting quizzes faster than anyone can read. Wait a minute, then try again.", 429)
    current = Attempt.objects.filter(quiz=quiz, learner=learner, finished_at__isnull=True).first()
    if current is None:
        user = request.user if request.user.is_authenticated else None
        start_attempt(quiz, learner, user)
    return redirect("quiz", slug, tier)


def _refuse_answer(request: HttpRequest, quiz: Quiz, message: str, status: int = 400) -> HttpResponse:
    """The quiz card with what was wrong with the answer, as a 4xx."""
    return render_page(request, "lessons/quiz.html", _context(quiz, state="error", message=message), partial="card", status=status)


def _parse_answer(request: HttpRequest, quiz: Quiz, learner: str):
    form = AnswerForm(request.POST)
    if not form.is_valid():
        raise BadAnswer(form.first_error())
    data = form.cleaned_data
    attempt = Attempt.objects.filter(pk=data["attempt"], quiz=quiz, learner=learner).first()
    if attempt is None:
        raise BadAnswer("That attempt does not exist or is not yours. Reload the quiz to continue.")
    # The choices come with the question: validating, grading and the feedback all use them.
    question = quiz.questions.active().prefetch_related("choices").filter(pk=data["question"]).first()
    if question is None:
        raise BadAnswer("That question is not part of this quiz.")
    if attempt.finished_at:
        stored = attempt.answers.filter(question=question).first()
        if stored is None:
            raise BadAnswer("That attempt is already finished. Start a retake to answer again.")
        stored.question = question
        raise AlreadyAnswered(stored)
    if question.kind in CHOICE_KINDS and not data["choice"]:
        if attempt.answers.filter(question=question).exists():
            raise BadAnswer("You have already answered this question in this attempt.")
        raise EmptyAnswer("Choose an answer before submitting.", attempt, question)
    return (attempt, question, *responses.grade(question, _order(attempt, question), request.POST, data))


def _stored_answer(request: HttpRequest, learner: str) -> Answer | None:
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return None
    ids = form.cleaned_data
    return (
        Answer.objects.select_related("attempt", "question")
        .prefetch_related("question__choices")
        .filter(attempt_id=ids["attempt"], attempt__learner=learner, question_id=ids["question"])
        .first()
    )


def _finish(attempt: Attempt, total: int | None = None) -> None:
    total = (total if total is not None else attempt.quiz.questions.active().count()) or 1
    scores = list(attempt.answers.values_list("score", flat=True))
    attempt.score = round(100 * sum(scores) / max(total, len(scores)), 1)
    attempt.finished_at = timezone.now()
    attempt.save(update_fields=["score", "finished_at"])


@require_POST
def quiz_answer(request: HttpRequest, slug: str, tier: str) -> HttpResponse:
    quiz = _quiz(request, slug, tier)
    learner = learner_id(request)
    if throttling.too_fast(request, learner):
        return _refuse_answer(request, quiz, "You are answering faster than anyone can read. Wait a minute, then try again.", 429)
    try:
        with transaction.atomic():
            attempt, question, chosen, response, score = _parse_answer(request, quiz, learner)
            # A second answer to the same question is caught by the one_answer_per_question
            # constraint (IntegrityError below), race-free and without a query of its own.
            answer = Answer.objects.create(attempt=attempt, question=question, selected=chosen, response=response, score=score)
            if score < 1:
                ReviewItem.add_missed(learner, question, score, answer.answered_at)
            answered, total = attempt.answers.count(), quiz.questions.active().count()
            if answered >= total:
                _finish(attempt, total)
    except EmptyAnswer as exc:
        answered = exc.attempt.answers.count()
        total = quiz.questions.active().count()
        state = _question_state(exc.attempt, exc.question, answered, str(exc))
        context = _context(quiz, attempt=exc.attempt, total=total, **state)
        return render_page(request, "lessons/quiz.html", context, partial="card", status=400)
    except BadAnswer as exc:
        return _refuse_answer(request, quiz, str(exc))
    except (AlreadyAnswered, IntegrityError) as resend:
        # A resend (retry, double click, second tab): the stored answer and its feedback.
        answer = resend.answer if isinstance(resend, AlreadyAnswered) else _stored_answer(request, learner)
        if answer is None:
            return _refuse_answer(request, quiz, "You have already answered this question in this attempt.")
        attempt, question = answer.attempt, answer.question
        answered, total = attempt.answers.count(), quiz.questions.active().count()
    if not request.htmx:
        return redirect(f"{reverse('quiz', args=[slug, tier])}?answered={question.pk}")
    context = _context(
        quiz,
        attempt=attempt,
        state="feedback",
        finished=attempt.finished_at is not None,
        total=total,
        answered_count=answered,
        **_feedback(quiz, question, answer, attempt),
    )
    return render_page(request, "lessons/quiz.html", context, partial="card")
