"""The sign-in merge over random anonymous and account histories (issue 17): the rows after
the merge are the union, with no duplicates, the best scores kept, and a second merge changes
nothing."""

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lessons.learners.merge import merge_into_account
from lessons.learners.progress import account_learner_id, account_state
from lessons.models import TIERS, Answer, Attempt, Quiz, TierProgress

pytestmark = pytest.mark.django_db

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
KEYS = [(slug, tier) for slug in ("alpha", "beta") for tier in TIERS]
ANON = "0123456789abcdef0123456789abcdef"

# Per (lesson, tier): read, section reached ("" = none), opened last in its lesson.
progress = st.dictionaries(
    st.sampled_from(KEYS), st.tuples(st.booleans(), st.sampled_from(["", "cells", "hormones"]), st.booleans()), max_size=6
)
# Attempts: which quiz, score (None = unfinished), the scores of the questions answered.
attempts = st.lists(
    st.tuples(st.integers(0, 5), st.one_of(st.none(), st.floats(0, 100)), st.lists(st.floats(0, 1), max_size=3)),
    max_size=5,
)


def make_attempts(quizzes, rows, learner, user):
    made = []
    for index, score, answers in rows:
        quiz = quizzes[index]
        finished = None if score is None else quiz.text.updated_at
        attempt = Attempt.objects.create(quiz=quiz, learner=learner, user=user, score=score, finished_at=finished)
        questions = list(quiz.questions.all())
        Answer.objects.bulk_create(Answer(attempt=attempt, question=q, score=s) for q, s in zip(questions, answers))
        made.append(attempt.pk)
    return made


def cookie_of(side):
    """A progress cookie as the middleware would hold it; one last-opened tier per lesson."""
    last = {}
    for (slug, tier), (_, _, opened) in side.items():
        if opened:
            last[slug] = tier
    cookie = {
        "read": [f"{s}/{t}" for (s, t), (read, _, _) in side.items() if read],
        "place": {f"{s}/{t}": place for (s, t), (_, place, _) in side.items() if place},
        "last_tier": last,
    }
    if side:
        slug, tier = next(iter(side))
        cookie |= {"depth": tier, "recent": f"{slug}/{tier}"}
    return cookie


def snapshot(user):
    rows = sorted(TierProgress.objects.filter(user=user).values_list("lesson", "tier", "read", "place"))
    held = sorted(Attempt.objects.filter(user=user).values_list("pk", "learner", "score"))
    answers = sorted(Answer.objects.filter(attempt__user=user).values_list("attempt_id", "question_id", "score"))
    return rows, held, answers, account_state(user)


@FAST
@given(account_progress=progress, anonymous_progress=progress, account_attempts=attempts, anonymous_attempts=attempts)
def test_merge_is_a_union_without_duplicates_keeps_best_scores_and_is_idempotent(
    small_course, account_progress, anonymous_progress, account_attempts, anonymous_attempts
):
    quizzes = list(Quiz.objects.select_related("text").order_by("pk"))
    with transaction.atomic():
        user = User.objects.create_user("acct")
        key = account_learner_id(user)
        for (slug, tier), (read, place, _) in account_progress.items():
            TierProgress.objects.create(user=user, lesson=slug, tier=tier, read=read, place=place)
        mine = make_attempts(quizzes, account_attempts, key, user)
        theirs = make_attempts(quizzes, anonymous_attempts, ANON, None)
        answers_before = Answer.objects.count()
        best_before = {
            q: max([s for i, s, _ in account_attempts + anonymous_attempts if s is not None and quizzes[i].pk == q], default=None)
            for q in {quizzes[i].pk for i, _, _ in account_attempts + anonymous_attempts}
        }
        cookie = cookie_of(anonymous_progress)

        merge_into_account(user, ANON, cookie)

        rows = {(r.lesson, r.tier): r for r in TierProgress.objects.filter(user=user)}
        in_cookie = {tuple(k.split("/")) for k in [*cookie["read"], *cookie["place"]]} | set(cookie["last_tier"].items())
        assert set(rows) == set(account_progress) | in_cookie
        assert TierProgress.objects.filter(user=user).count() == len(rows)  # no duplicates
        for k, row in rows.items():
            was_read = account_progress.get(k, (False,))[0] or (k in in_cookie and anonymous_progress[k][0])
            assert row.read == was_read
            anon_place = anonymous_progress[k][1] if k in in_cookie else ""
            assert row.place == (anon_place or account_progress.get(k, (False, ""))[1])
        assert sorted(Attempt.objects.filter(learner=key, user=user).values_list("pk", flat=True)) == sorted(mine + theirs)
        assert not Attempt.objects.filter(learner=ANON).exists()
        assert Answer.objects.count() == answers_before
        best_after = dict(Attempt.objects.filter(user=user).values_list("quiz").annotate(best=Max("score")))
        assert best_after == best_before
        state = account_state(user)
        for slug, tier in cookie["last_tier"].items():  # this browser's last tier per lesson wins
            assert state["last_tier"][slug] == tier
        if anonymous_progress:
            assert (state["depth"], state["recent"]) == (cookie["depth"], cookie["recent"])

        before = snapshot(user)
        merge_into_account(user, ANON, cookie)
        assert snapshot(user) == before
        transaction.set_rollback(True)
