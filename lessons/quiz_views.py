"""Taking a quiz: one question at a time, graded on the server, feedback via htmx or POST/redirect."""

import random

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from . import throttling
from .forms import AnsweredForm, AnswerForm
from .models import TIERS, Answer, Attempt, Lesson, Question, QuestionKind, Quiz, Tier
from .page_cache import render_page
from .progress import learner_id


class BadAnswer(Exception):
    pass


class AlreadyAnswered(Exception):
    """A resend (a retry after a cut-off response, a double click, two tabs): the answer
    stored first stands, and its feedback is the reply."""

    def __init__(self, answer: "Answer"):
        self.answer = answer


def _quiz(request: HttpRequest, slug: str, tier: str) -> Quiz:
    return get_object_or_404(
        Quiz.objects.select_related("text__lesson"),
        text__lesson__in=Lesson.objects.visible_to(request.user), text__lesson__slug=slug, text__tier=tier,
    )


def _context(quiz: Quiz, **extra) -> dict:
    return {"quiz": quiz, "lesson": quiz.text.lesson, "text": quiz.text, **extra}


def _questions(quiz: Quiz) -> list:
    return list(quiz.questions.active().prefetch_related("choices"))


def _choices_in_order(question: Question, attempt: Attempt) -> list:
    choices = list(question.choices.all())
    order = attempt.choice_order.get(str(question.pk))
    if order:
        rank = {pk: i for i, pk in enumerate(order)}
        choices.sort(key=lambda c: rank.get(c.pk, len(rank)))
    return choices


def start_attempt(quiz: Quiz, learner: str, user=None) -> Attempt:
    order = {}
    for question in _questions(quiz):
        ids = [c.pk for c in question.choices.all()]
        if quiz.shuffle and question.kind != QuestionKind.TRUE_FALSE:
            random.shuffle(ids)
        order[str(question.pk)] = ids
    return Attempt.objects.create(quiz=quiz, learner=learner, user=user, choice_order=order)


def _next_step(quiz: Quiz) -> dict:
    """What comes after the current state: the next tier or lesson once passed."""
    lesson, tier = quiz.text.lesson, quiz.text.tier
    i = TIERS.index(tier)
    if i + 1 < len(TIERS):
        return {"url": reverse("tier", args=[lesson.slug, TIERS[i + 1]]), "label": f"Read the {Tier(TIERS[i + 1]).label} tier"}
    _, after = lesson.neighbours()
    if after:
        return {"url": reverse("tier", args=[after.slug, TIERS[0]]), "label": f"Next lesson: {after.title}"}
    return {"url": reverse("course_map"), "label": "Back to the course map"}


def _feedback(quiz: Quiz, question: Question, answer: Answer, attempt: Attempt) -> dict:
    chosen = set(answer.selected)
    choices = _choices_in_order(question, attempt)
    return {
        "question": question,
        "answer": answer,
        "verdict": "right" if answer.score >= 1 else ("partly right" if answer.score > 0 else "wrong"),
        "choices": [{"choice": c, "chosen": c.pk in chosen} for c in choices],
        "review_url": f"{quiz.text.get_absolute_url()}#{question.section}" if question.section else "",
    }


@require_GET
@vary_on_headers("HX-Request")
def quiz_page(request: HttpRequest, slug: str, tier: str) -> HttpResponse:
    quiz = _quiz(request, slug, tier)
    learner = learner_id(request)
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
        wrong = [a for a in attempt.answers.select_related("question") if a.score < 1]
        context.update(state="results", review=wrong, next_step=_next_step(quiz))
    else:
        pending = [q for q in questions if q.pk not in answered]
        if not pending:
            _finish(attempt)
            return redirect("quiz", slug, tier)
        question = pending[0]
        context.update(
            state="question",
            question=question,
            choices=_choices_in_order(question, attempt),
            number=len(answered) + 1,
            multiple=question.kind == QuestionKind.MULTIPLE,
        )
    return render_page(request, "lessons/quiz.html", context, partial="card")


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
    chosen = data["choice"]
    valid = {c.pk for c in question.choices.all()}
    if not set(chosen) <= valid:
        raise BadAnswer("An answer you sent does not belong to this question.")
    if question.kind != QuestionKind.MULTIPLE and len(chosen) != 1:
        raise BadAnswer("This question takes exactly one answer.")
    return attempt, question, chosen


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
            attempt, question, chosen = _parse_answer(request, quiz, learner)
            # A second answer to the same question is caught by the one_answer_per_question
            # constraint (IntegrityError below), race-free and without a query of its own.
            answer = Answer.objects.create(attempt=attempt, question=question, selected=chosen, score=question.grade(chosen))
            answered, total = attempt.answers.count(), quiz.questions.active().count()
            if answered >= total:
                _finish(attempt, total)
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
