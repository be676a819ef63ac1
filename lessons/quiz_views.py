"""Taking a quiz: one question at a time, graded on the server, feedback via htmx or POST/redirect."""

import random

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from .models import TIERS, Attempt, Lesson, Question, QuestionKind, Quiz, Response, Tier
from .views import learner_key, visible, wants_partial


class BadAnswer(Exception):
    pass


def _quiz(request: HttpRequest, slug: str, tier: str) -> Quiz:
    if tier not in TIERS:
        raise Http404("No such tier")
    quiz = get_object_or_404(Quiz.objects.select_related("tier__lesson"), tier__lesson__slug=slug, tier__tier=tier)
    if not visible(quiz.tier.lesson, request):
        raise Http404("No such quiz")
    return quiz


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
    return Attempt.objects.create(quiz=quiz, session_key=learner, user=user, choice_order=order)


def _next_step(quiz: Quiz) -> dict:
    """What comes after the current state: the next tier or lesson once passed."""
    lesson, tier = quiz.tier.lesson, quiz.tier.tier
    i = TIERS.index(tier)
    if i + 1 < len(TIERS):
        return {"url": reverse("tier", args=[lesson.slug, TIERS[i + 1]]), "label": f"Read the {Tier(TIERS[i + 1]).label} tier"}
    after = Lesson.objects.published().filter(order__gt=lesson.order).first()
    if after:
        return {"url": reverse("tier", args=[after.slug, TIERS[0]]), "label": f"Next lesson: {after.title}"}
    return {"url": reverse("course_map"), "label": "Back to the course map"}


def _feedback(quiz: Quiz, question: Question, response: Response, attempt: Attempt) -> dict:
    chosen = set(response.selected)
    choices = _choices_in_order(question, attempt)
    return {
        "question": question,
        "response": response,
        "verdict": "right" if response.score >= 1 else ("partly right" if response.score > 0 else "wrong"),
        "choices": [{"choice": c, "chosen": c.pk in chosen} for c in choices],
        "review_url": f"{quiz.tier.get_absolute_url()}#{question.section}" if question.section else "",
    }


@require_GET
@vary_on_headers("HX-Request")
def quiz_page(request: HttpRequest, slug: str, tier: str) -> HttpResponse:
    quiz = _quiz(request, slug, tier)
    learner = learner_key(request)
    attempt = Attempt.objects.filter(quiz=quiz, session_key=learner).first()
    questions = _questions(quiz)
    context = {"quiz": quiz, "lesson": quiz.tier.lesson, "text": quiz.tier, "attempt": attempt, "total": len(questions)}
    answered = {}
    if attempt:
        answered = {r.question_id: r for r in attempt.responses.all()}
    context["answered_count"] = len(answered)
    shown = request.GET.get("answered", "")
    if attempt and shown.isdigit() and int(shown) in answered:
        response = answered[int(shown)]
        question = next((q for q in questions if q.pk == response.question_id), None) or response.question
        context.update(state="feedback", **_feedback(quiz, question, response, attempt))
        context["finished"] = attempt.finished_at is not None
    elif attempt is None:
        context["state"] = "intro"
    elif attempt.finished_at:
        wrong = [r for r in attempt.responses.select_related("question") if r.score < 1]
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
    template = "lessons/quiz.html#card" if wants_partial(request) else "lessons/quiz.html"
    return render(request, template, context)


@require_POST
def quiz_start(request: HttpRequest, slug: str, tier: str) -> HttpResponse:
    quiz = _quiz(request, slug, tier)
    learner = learner_key(request)
    current = Attempt.objects.filter(quiz=quiz, session_key=learner, finished_at__isnull=True).first()
    if current is None:
        user = request.user if request.user.is_authenticated else None
        start_attempt(quiz, learner, user)
    return redirect("quiz", slug, tier)


def _bad(request: HttpRequest, quiz: Quiz, message: str, status: int = 400) -> HttpResponse:
    context = {"quiz": quiz, "lesson": quiz.tier.lesson, "text": quiz.tier, "state": "error", "message": message}
    template = "lessons/quiz.html#card" if request.htmx else "lessons/quiz.html"
    return render(request, template, context, status=status)


def _rate_limited(learner: str) -> bool:
    key = f"quiz-rate:{learner}:{int(timezone.now().timestamp() // 60)}"
    cache.add(key, 0, 90)
    try:
        count = cache.incr(key)
    except ValueError:
        count = 1
    return count > settings.QUIZ_RATE_LIMIT


def _parse_answer(request: HttpRequest, quiz: Quiz, learner: str):
    def number(name):
        value = request.POST.get(name, "")
        if not value.isdigit():
            raise BadAnswer(f"The form field '{name}' must be a whole number.")
        return int(value)

    attempt = Attempt.objects.filter(pk=number("attempt"), quiz=quiz, session_key=learner).first()
    if attempt is None:
        raise BadAnswer("That attempt does not exist or is not yours. Reload the quiz to continue.")
    if attempt.finished_at:
        raise BadAnswer("That attempt is already finished. Start a retake to answer again.")
    question = quiz.questions.active().filter(pk=number("question")).first()
    if question is None:
        raise BadAnswer("That question is not part of this quiz.")
    raw = request.POST.getlist("choice")
    if not raw:
        raise BadAnswer("Choose an answer before submitting.")
    if not all(v.isdigit() for v in raw):
        raise BadAnswer("Each chosen answer must be a whole number.")
    chosen = sorted({int(v) for v in raw})
    valid = set(question.choices.values_list("pk", flat=True))
    if not set(chosen) <= valid:
        raise BadAnswer("An answer you sent does not belong to this question.")
    if question.kind != QuestionKind.MULTIPLE and len(chosen) != 1:
        raise BadAnswer("This question takes exactly one answer.")
    if attempt.responses.filter(question=question).exists():
        raise BadAnswer("You have already answered this question in this attempt.")
    return attempt, question, chosen


def _finish(attempt: Attempt) -> None:
    total = attempt.quiz.questions.active().count() or 1
    scores = list(attempt.responses.values_list("score", flat=True))
    attempt.score = round(100 * sum(scores) / max(total, len(scores)), 1)
    attempt.finished_at = timezone.now()
    attempt.save(update_fields=["score", "finished_at"])


@require_POST
def quiz_answer(request: HttpRequest, slug: str, tier: str) -> HttpResponse:
    quiz = _quiz(request, slug, tier)
    learner = learner_key(request)
    if _rate_limited(learner):
        return _bad(request, quiz, "You are answering faster than anyone can read. Wait a minute, then try again.", 429)
    try:
        with transaction.atomic():
            attempt, question, chosen = _parse_answer(request, quiz, learner)
            response = Response.objects.create(attempt=attempt, question=question, selected=chosen, score=question.grade(chosen))
            answered = attempt.responses.count()
            if answered >= quiz.questions.active().count():
                _finish(attempt)
    except BadAnswer as exc:
        return _bad(request, quiz, str(exc))
    except IntegrityError:
        return _bad(request, quiz, "You have already answered this question in this attempt.")
    if not request.htmx:
        return redirect(f"{reverse('quiz', args=[slug, tier])}?answered={question.pk}")
    context = {
        "quiz": quiz,
        "lesson": quiz.tier.lesson,
        "text": quiz.tier,
        "attempt": attempt,
        "state": "feedback",
        "finished": attempt.finished_at is not None,
        "total": quiz.questions.active().count(),
        "answered_count": answered,
        **_feedback(quiz, question, response, attempt),
    }
    return render(request, "lessons/quiz.html#card", context)
