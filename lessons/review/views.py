"""The Review page: a learner's due review items one at a time, graded like the quiz.

A review changes the item's schedule and adds a ReviewLog row; it never touches an
Attempt or an Answer, so quiz scores stay what they were. Everything is keyed by the
learner id in the session, read without creating one.
"""

import random
from datetime import timedelta

from django.db import transaction
from django.db.models import Min
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from .. import throttling
from ..forms import ReviewAnswerForm, ReviewedForm
from ..models import Question, ReviewItem, ReviewLog
from ..page_cache import render_page
from ..learners.progress import existing_learner_id
from ..quizzes import responses

ITEM_RELATIONS = ("question__quiz__text__lesson",)


def _order(item: ReviewItem, question: Question, number: int) -> list | dict:
    """The choices' order for the item's review `number` (0 = the first on this page): shuffled
    by the quiz's rule, the same for the question and its feedback, new for each review."""
    return responses.shown_order(question, question.quiz.shuffle, random.Random(f"{item.pk}:{number}"))


def _source(question: Question) -> dict:
    text = question.quiz.text
    return {"lesson": text.lesson, "text": text}


def _items(request: HttpRequest):
    return ReviewItem.objects.of(existing_learner_id(request))


@require_safe
@vary_on_headers("HX-Request")
def review_page(request: HttpRequest) -> HttpResponse:
    """The first due item's question; ?reviewed=<id> shows the feedback on that review instead
    (where the form lands without JavaScript). Three queries, four with a session."""
    now = timezone.now()
    query = ReviewedForm(request.GET)
    shown = query.cleaned_data["reviewed"] if query.is_valid() else None
    if shown:
        return _feedback_page(request, shown, now)
    due = _items(request).due(now)
    item = due.select_related(*ITEM_RELATIONS).prefetch_related("question__choices").first()
    if item is None:
        next_due = _items(request).aggregate(next=Min("due"))["next"]
        return _card(request, now, state="empty", next_due=next_due, next_soon=next_due and next_due - now < timedelta(minutes=1))
    return _question_card(request, now, item, due.count())


def _question_card(request: HttpRequest, now, item: ReviewItem, due_count: int, error: str = "", status: int = 200):
    question = item.question
    return _card(
        request, now, status=status, state="question", item=item, due_count=due_count, choice_error=error,
        **_source(question), **responses.question_state(question, _order(item, question, item.review_count)),
    )


def _feedback_page(request: HttpRequest, log_id: int, now) -> HttpResponse:
    log = (
        ReviewLog.objects.select_related(*(f"item__{r}" for r in ITEM_RELATIONS)).prefetch_related("item__question__choices")
        .filter(pk=log_id, item__in=_items(request)).first()
    )
    if log is None:
        raise Http404("No such review of yours.")
    return _feedback_card(request, log, _items(request).due(now).count())


def _feedback_card(request: HttpRequest, log: ReviewLog, due_count: int) -> HttpResponse:
    item, question = log.item, log.item.question
    order = _order(item, question, log.number - 1)
    section = question.quiz.text.get_absolute_url()
    # "comes back in …" counts from the review, as the scheduler did, also when shown later.
    return _card(
        request, log.reviewed_at, state="feedback", item=item, due_count=due_count, **_source(question),
        **responses.feedback(question, log.selected, log.response, log.score, order, section),
    )


def _card(request: HttpRequest, now, status: int = 200, **context) -> HttpResponse:
    context["now"] = now  # for "due in …": the time the page was asked for or the review made
    return render_page(request, "lessons/review.html", context, partial="card", status=status)


def _refuse(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    return _card(request, timezone.now(), status=status, state="error", message=message)


@require_POST
def review_answer(request: HttpRequest) -> HttpResponse:
    learner = existing_learner_id(request)
    form = ReviewAnswerForm(request.POST)
    if not form.is_valid():
        return _refuse(request, form.first_error())
    if throttling.too_fast(request, learner):
        return _refuse(request, "You are answering faster than anyone can read. Wait a minute, then try again.", 429)
    now = timezone.now()
    with transaction.atomic():
        item = (
            _items(request).select_for_update(of=("self",)).select_related(*ITEM_RELATIONS).prefetch_related("question__choices")
            .filter(pk=form.cleaned_data["item"]).first()
        )
        if item is None:
            return _refuse(request, "That review item does not exist or is not yours.", 404)
        if item.due > now:
            return _refuse(request, "That question is not due for review yet (perhaps it was answered in another tab).")
        question = item.question
        try:
            selected, response, score = responses.grade(
                question, _order(item, question, item.review_count), request.POST, form.cleaned_data,
            )
        except responses.NoChoice as exc:
            return _question_card(request, now, item, _items(request).due(now).count(), str(exc), status=400)
        except responses.BadAnswer as exc:
            return _refuse(request, str(exc))
        log = item.review(score, selected, response, now)
    if not request.htmx:
        return redirect(f"{reverse('review')}?reviewed={log.pk}")
    return _feedback_card(request, log, _items(request).due(now).count())
