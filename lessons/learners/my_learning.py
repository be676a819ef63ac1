"""My learning (/me/): every lesson and depth with its read and quiz status, the quiz history
and the reviews due; for an account, a JSON download of everything held about the learner
and the deletion of the account with all of it.

Anonymous readers see what this browser holds and an offer to keep it in an account (as
Khan Academy and Duolingo do) rather than a sign-in wall: the page answers "what have I done
so far" for everyone, and sending a guest to a login form would suggest reading needs one.
"""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from ..models import TIER_CHOICES, Attempt, Lesson, ReadingState, ReviewItem, TierProgress
from . import progress

TIER_LABELS = dict(TIER_CHOICES)


def attempts_of(request: HttpRequest):
    """Every attempt of this learner: by learner id, and for an account also by user."""
    learner = progress.existing_learner_id(request)
    if request.user.is_authenticated:
        return Attempt.objects.filter(Q(learner=learner) | Q(user=request.user))
    return Attempt.objects.filter(learner=learner) if learner else Attempt.objects.none()


def due_reviews(request: HttpRequest) -> list:
    """The review items due now, oldest due first (one query)."""
    return list(
        ReviewItem.objects.of(progress.existing_learner_id(request)).due(timezone.now())
        .select_related("question__quiz__text__lesson")
    )


@require_safe
@never_cache
def my_learning(request: HttpRequest) -> HttpResponse:
    """The page: 2 queries for the lessons, 1 for the attempts, 1 for the reviews due, 2 for an
    account's progress."""
    lessons = list(Lesson.objects.visible_to(request.user).with_tier_texts())
    attempts = list(
        attempts_of(request).select_related("quiz__text__lesson").order_by("-started_at", "-pk")
    )
    read, places = progress.tiers_read(request), progress.places(request)
    best = {}
    for attempt in attempts:
        text_id = attempt.quiz.text_id
        if attempt.score is not None and attempt.score > best.get(text_id, (-1, False))[0]:
            best[text_id] = (attempt.score, attempt.score >= attempt.quiz.pass_mark)
    rows = [{"lesson": lesson, "tiers": progress.tier_rows(lesson, read, places, best)} for lesson in lessons]
    history = [
        {
            "attempt": a, "lesson": a.quiz.text.lesson, "label": TIER_LABELS.get(a.quiz.text.tier, a.quiz.text.tier),
            "passed": a.score is not None and a.score >= a.quiz.pass_mark,
        }
        for a in attempts
    ]
    reviews = due_reviews(request)
    groups: dict = {}
    for item in reviews:
        where = (item.question.quiz.text.lesson.title, TIER_LABELS.get(item.question.quiz.text.tier, ""))
        groups[where] = groups.get(where, 0) + 1
    context = {"rows": rows, "history": history, "reviews": reviews, "review_groups": sorted(groups.items())}
    return render(request, "learners/my_learning.html", context)


def _when(value):
    return value.isoformat() if value else None


def learner_data(user) -> dict:
    """Everything held about an account, as plain JSON types (the export)."""
    learner = progress.account_learner_id(user)
    attempts = (
        Attempt.objects.filter(Q(learner=learner) | Q(user=user))
        .select_related("quiz__text__lesson")
        .prefetch_related("answers__question")
        .order_by("started_at", "pk")
    )
    state = ReadingState.objects.filter(user=user).first()
    logs = {
        "sign_ins": AccessLog.objects.filter(username=user.username).order_by("attempt_time"),
        "failed_sign_ins": AccessFailureLog.objects.filter(username=user.username).order_by("attempt_time"),
        "sign_in_lockouts": AccessAttempt.objects.filter(username=user.username).order_by("attempt_time"),
    }
    return {
        "exported_at": _when(timezone.now()),
        "account": {
            "username": user.username, "email": user.email, "first_name": user.first_name,
            "last_name": user.last_name, "date_joined": _when(user.date_joined), "last_login": _when(user.last_login),
            "is_active": user.is_active, "is_staff": user.is_staff, "is_superuser": user.is_superuser,
            "learner_id": learner,
        },
        "reading_state": {"depth": state.depth, "recent": state.recent, "updated_at": _when(state.updated_at)} if state else None,
        "tier_progress": [
            {"lesson": r.lesson, "tier": r.tier, "read": r.read, "place": r.place,
             "opened_at": _when(r.opened_at), "updated_at": _when(r.updated_at)}
            for r in TierProgress.objects.filter(user=user)
        ],
        "attempts": [
            {
                "id": a.pk, "lesson": a.quiz.text.lesson.slug, "tier": a.quiz.text.tier,
                "started_at": _when(a.started_at), "finished_at": _when(a.finished_at), "score": a.score,
                "passed": a.passed if a.score is not None else None, "choice_order": a.choice_order,
                "answers": [
                    {"question": ans.question.name, "selected": ans.selected, "response": ans.response,
                     "score": ans.score, "answered_at": _when(ans.answered_at)}
                    for ans in a.answers.all()
                ],
            }
            for a in attempts
        ],
        "review_items": [
            {
                "lesson": item.question.quiz.text.lesson.slug, "tier": item.question.quiz.text.tier,
                "question": item.question.name, "due": _when(item.due), "created_at": _when(item.created_at),
                "reviewed_at": _when(item.reviewed_at), "review_count": item.review_count, "fsrs_state": item.state,
                "reviews": [
                    {"number": log.number, "reviewed_at": _when(log.reviewed_at), "rating": log.rating,
                     "score": log.score, "selected": log.selected, "response": log.response}
                    for log in item.log.all()
                ],
            }
            for item in ReviewItem.objects.filter(learner=learner)
            .select_related("question__quiz__text__lesson").prefetch_related("log")
        ],
        **{
            name: [
                {"time": _when(row.attempt_time), "ip_address": row.ip_address, "user_agent": row.user_agent}
                for row in rows
            ]
            for name, rows in logs.items()
        },
    }


@require_safe
@login_required
def export(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(learner_data(request.user), json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="hormones-and-bone-{request.user.pk}.json"'
    response["Cache-Control"] = "private, no-store"
    return response


def delete_learner(user) -> None:
    """The account and every row about it: attempts (answers go with them), review items (their
    logs too), progress, sign-in logs."""
    learner = progress.account_learner_id(user)
    with transaction.atomic():
        Attempt.objects.filter(Q(learner=learner) | Q(user=user)).delete()
        ReviewItem.objects.filter(learner=learner).delete()  # their review logs go by CASCADE
        for model in (AccessLog, AccessFailureLog, AccessAttempt):
            model.objects.filter(username=user.username).delete()
        user.delete()  # TierProgress and ReadingState go by CASCADE


class ConfirmDeleteForm(forms.Form):
    password = forms.CharField(label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password. Nothing was deleted.", code="password_incorrect")
        return password


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def delete_account(request: HttpRequest) -> HttpResponse:
    form = ConfirmDeleteForm(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "learners/delete_account.html", {"form": form}, status=400)
        delete_learner(request.user)
        logout(request)
        request.progress.clear()
        return render(request, "learners/account_deleted.html")
    return render(request, "learners/delete_account.html", {"form": form})
