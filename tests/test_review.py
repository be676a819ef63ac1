"""Spaced review (issue 17): wrong quiz answers become review items scheduled by FSRS; the
Review page serves the due ones, graded like the quiz, without touching quiz scores."""

import html
import re
from datetime import datetime, timedelta, timezone as dt_timezone
from unittest import mock

import pytest
from django.test import Client
from fsrs import Card, Rating, Scheduler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lessons.models import Answer, Attempt, Question, ReviewItem, ReviewLog
from lessons.review.merge import merge_reviews

pytestmark = pytest.mark.django_db

QUIZ = "/lessons/alpha/fundamentals/quiz/"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=dt_timezone.utc)


def at(moment):
    """Freeze django.utils.timezone.now (views, auto_now_add, the rate limit) at moment."""
    return mock.patch("django.utils.timezone.now", return_value=moment)


def question(name):
    return Question.objects.prefetch_related("choices").get(name=name)


def choices(q, *texts):
    return [c.pk for c in q.choices.all() if c.text in texts]


def answer_in_quiz(client, name, *texts):
    """Start (or continue) the alpha fundamentals quiz and answer question `name` with the choices named."""
    mine = Attempt.objects.filter(quiz__text__lesson__slug="alpha", quiz__text__tier="fundamentals", finished_at=None)
    if not mine.filter(learner=client.session.get("learner", "")).exists():
        client.post(QUIZ + "start/")
    attempt = mine.get(learner=client.session["learner"])
    q = question(name)
    response = client.post(QUIZ + "answer/", {"attempt": attempt.pk, "question": q.pk, "choice": choices(q, *texts)})
    assert response.status_code == 302
    return attempt


def text(response):
    return response.content.decode()


def visible(response):
    """The page's text without tags, as a reader sees it."""
    return html.unescape(re.sub(r"<[^>]+>", "", text(response)))


def review_post(client, item, *texts, htmx=False):
    q = item.question
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/review/answer/", {"item": item.pk, "choice": choices(q, *texts)}, headers=headers)


# --- Making review items ---------------------------------------------------------------------------


def test_a_wrong_quiz_answer_becomes_one_review_item_and_the_course_map_shows_it(learner_client, small_course):
    with at(T0):
        answer_in_quiz(learner_client, "alpha-f-q1", "Osteoblast")
    item = ReviewItem.objects.get()
    assert item.question.name == "alpha-f-q1" and item.review_count == 0
    # The quiz answer counts as a first "Again": the first learning step, one minute.
    assert item.due == T0 + timedelta(minutes=1)
    with at(T0 + timedelta(minutes=1)):
        page = text(learner_client.get("/"))
    assert re.search(r'<a class="button secondary" id="review-link" href="/review/">1 review due</a>', page)
    with at(T0 + timedelta(seconds=30)):  # not due yet: no count
        assert "review due" not in text(learner_client.get("/"))


def test_a_right_answer_makes_no_review_item_and_a_retake_no_second_one(learner_client, small_course):
    answer_in_quiz(learner_client, "alpha-f-q1", "Osteoclast")
    assert not ReviewItem.objects.exists()
    answer_in_quiz(learner_client, "alpha-f-q2", "PTH")  # partly right is not right: it is reviewed too
    answer_in_quiz(learner_client, "alpha-f-q3", "False")
    assert sorted(ReviewItem.objects.values_list("question__name", flat=True)) == ["alpha-f-q2", "alpha-f-q3"]
    answer_in_quiz(learner_client, "alpha-f-q3", "False")  # a retake, wrong again
    assert ReviewItem.objects.count() == 2


def test_another_learners_wrong_answer_is_their_own_item(learner_client, second_learner_client, small_course):
    answer_in_quiz(learner_client, "alpha-f-q1", "Osteoblast")
    answer_in_quiz(second_learner_client, "alpha-f-q1", "Osteocyte")
    assert ReviewItem.objects.values("learner").distinct().count() == 2
    assert set(ReviewItem.objects.values_list("learner", flat=True)) == set(Attempt.objects.values_list("learner", flat=True))


# --- The schedule ---------------------------------------------------------------------------------


def test_a_scripted_review_sequence_gets_exactly_the_due_dates_fsrs_computes(learner_client, small_course):
    """Wrong → Again, partly right → Hard, right → Good, each review late by a different amount."""
    script = [  # (answer, rating, how late after the due date)
        (("PTH", "Calcitriol"), Rating.Good, timedelta(0)),
        (("PTH", "Calcitriol"), Rating.Good, timedelta(hours=3)),
        (("PTH", "Calcitriol"), Rating.Good, timedelta(days=1)),
        (("Calcitonin",), Rating.Again, timedelta(minutes=7)),
        (("PTH",), Rating.Hard, timedelta(0)),
        (("PTH", "Calcitriol"), Rating.Good, timedelta(hours=20)),
        (("Calcitriol",), Rating.Hard, timedelta(days=2)),
    ]
    with at(T0):
        answer_in_quiz(learner_client, "alpha-f-q2", "Calcitonin")  # wrong: the item's first review, Again
    scheduler = Scheduler(enable_fuzzing=False)
    card, _ = scheduler.review_card(Card(card_id=int(T0.timestamp() * 1000), due=T0), Rating.Again, T0)
    item = ReviewItem.objects.get()
    assert item.state == card.to_dict() and item.due == card.due
    dues = []
    for answer, rating, late in script:
        now = card.due + late
        with at(now):
            assert review_post(learner_client, item, *answer).status_code == 302
        card, _ = scheduler.review_card(card, rating, now)
        item.refresh_from_db()
        assert item.state == card.to_dict()
        assert item.due == card.due and item.reviewed_at == now
        dues.append(item.due)
    assert item.review_count == len(script)
    assert list(item.log.values_list("rating", flat=True)) == [r for _, r, _ in script]
    assert dues == sorted(dues) and dues[-1] - dues[-2] > timedelta(days=1)  # it spaced out


# --- The review page -------------------------------------------------------------------------------


def test_the_review_page_asks_a_due_question_and_gives_the_quizs_feedback_without_javascript(learner_client, small_course):
    with at(T0):
        answer_in_quiz(learner_client, "alpha-f-q1", "Osteoblast")
    item = ReviewItem.objects.get()
    with at(T0 + timedelta(minutes=2)):
        page = text(learner_client.get("/review/"))
        assert "Which cell removes bone?" in page and "1 review due" in page
        assert f'name="item" value="{item.pk}"' in page and 'name="attempt"' not in page
        assert page.count('name="choice"') == 3
        response = review_post(learner_client, item, "Osteocyte")
        log = ReviewLog.objects.get()
        assert response.status_code == 302 and response["Location"] == f"/review/?reviewed={log.pk}"
        page = text(learner_client.get(response["Location"]))
    assert "✗ Not quite" in page and "No, it senses load." in page and "Osteoclasts remove bone." in page
    assert '<a href="/lessons/alpha/fundamentals/#cells">Review this section of the lesson</a>' in page
    assert "This question comes back in 1\xa0minute." in html.unescape(re.sub(r"<[^>]+>", "", page)) and "Done for now" in page
    assert (log.rating, log.score, log.number, log.selected) == (Rating.Again, 0.0, 1, choices(item.question, "Osteocyte"))


def test_with_htmx_the_answer_swaps_in_feedback_then_the_next_item(learner_client, small_course):
    with at(T0):
        answer_in_quiz(learner_client, "alpha-f-q1", "Osteoblast")
        answer_in_quiz(learner_client, "alpha-f-q3", "False")
    first, second = ReviewItem.objects.order_by("question__position")
    with at(T0 + timedelta(minutes=5)):
        fragment = text(review_post(learner_client, first, "Osteoclast", htmx=True))
        assert fragment.strip().startswith('<section id="quiz-card"') and "<html" not in fragment
        assert "✓ Right" in fragment and "Next review (1 due)" in fragment and 'hx-get="/review/"' in fragment
        following = text(learner_client.get("/review/", headers={"HX-Request": "true"}))
    assert following.strip().startswith('<section id="quiz-card"') and "Bone is a living tissue." in following
    assert f'name="item" value="{second.pk}"' in following


def test_nothing_due_says_so_and_when_the_next_review_is(learner_client, small_course):
    with at(T0):
        answer_in_quiz(learner_client, "alpha-f-q1", "Osteoblast")
    with at(T0 + timedelta(seconds=10)):
        page = visible(learner_client.get("/review/"))
    assert "Nothing to review right now" in page and "Your next review is due in less than a minute" in page
    assert "2 March 2026, 09:01 UTC" in page and 'name="item"' not in page
    with at(T0 - timedelta(days=1, hours=3)):
        assert "Your next review is due in 1\xa0day, 3\xa0hours" in visible(learner_client.get("/review/"))


def test_a_learner_without_an_id_sees_an_empty_review_page_and_gets_no_session(client, small_course, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/review/")
    assert response.status_code == 200 and "Nothing to review right now" in text(response)
    assert "When you answer a quiz question wrong" in text(response)
    assert "sessionid" not in response.cookies
    assert client.post("/review/answer/", {"item": 1, "choice": [1]}).status_code == 404
    assert "sessionid" not in client.cookies


def test_a_review_never_changes_a_quiz_score_or_answer(learner_client, small_course):
    with at(T0):
        answer_in_quiz(learner_client, "alpha-f-q1", "Osteoblast")
        answer_in_quiz(learner_client, "alpha-f-q2", "Calcitonin")
        attempt = answer_in_quiz(learner_client, "alpha-f-q3", "True")
    attempt.refresh_from_db()
    before = (attempt.score, attempt.finished_at, list(Answer.objects.values_list("pk", "score", "selected")))
    assert attempt.score == pytest.approx(33.3)
    with at(T0 + timedelta(hours=1)):
        for item in ReviewItem.objects.all():
            answer = ("Osteoclast",) if item.question.name.endswith("q1") else ("PTH", "Calcitriol")
            assert review_post(learner_client, item, *answer).status_code == 302
        page = text(learner_client.get("/"))
    attempt.refresh_from_db()
    assert (attempt.score, attempt.finished_at, list(Answer.objects.values_list("pk", "score", "selected"))) == before
    assert Attempt.objects.count() == 1 and ReviewLog.objects.count() == 2
    assert "quiz not passed, best 33%" in page


def test_an_archived_question_is_not_reviewed(learner_client, small_course):
    with at(T0):
        answer_in_quiz(learner_client, "alpha-f-q1", "Osteoblast")
    Question.objects.filter(name="alpha-f-q1").update(archived=True)
    with at(T0 + timedelta(hours=1)):
        assert "Nothing to review right now" in text(learner_client.get("/review/"))
        assert "review due" not in text(learner_client.get("/"))


# --- Bad input and other learners' items -----------------------------------------------------------


@pytest.fixture
def due_item(learner_client, small_course):
    with at(T0):
        answer_in_quiz(learner_client, "alpha-f-q1", "Osteoblast")
    return ReviewItem.objects.get()


def unchanged(item):
    fresh = ReviewItem.objects.get(pk=item.pk)
    return (fresh.state, fresh.due, fresh.review_count, fresh.reviewed_at) == (item.state, item.due, item.review_count, item.reviewed_at)


def test_a_forged_post_naming_another_learners_item_changes_nothing(due_item, second_learner_client):
    with at(T0):
        answer_in_quiz(second_learner_client, "alpha-f-q3", "True")  # the second learner has an id of their own
    with at(T0 + timedelta(hours=1)):
        for htmx in (False, True):
            response = review_post(second_learner_client, due_item, "Osteoclast", htmx=htmx)
            assert response.status_code == 404 and "That review item does not exist or is not yours." in text(response)
        assert "Which cell removes bone?" not in text(second_learner_client.get("/review/"))
    assert unchanged(due_item) and not ReviewLog.objects.exists()


def test_another_learners_review_feedback_is_not_shown(due_item, learner_client, second_learner_client):
    with at(T0 + timedelta(hours=1)):
        review_post(learner_client, due_item, "Osteocyte")
    log = ReviewLog.objects.get()
    assert learner_client.get(f"/review/?reviewed={log.pk}").status_code == 200
    with at(T0):
        answer_in_quiz(second_learner_client, "alpha-f-q3", "True")
    response = second_learner_client.get(f"/review/?reviewed={log.pk}")
    assert response.status_code == 404 and "No, it senses load." not in text(response)
    assert Client().get(f"/review/?reviewed={log.pk}").status_code == 404


def test_a_question_not_due_yet_is_refused_and_changes_nothing(due_item, learner_client):
    with at(T0 + timedelta(seconds=20)):
        response = review_post(learner_client, due_item, "Osteoclast")
    assert response.status_code == 400 and "That question is not due for review yet" in text(response)
    assert unchanged(due_item) and not ReviewLog.objects.exists()


def test_a_second_post_of_the_same_review_is_refused(due_item, learner_client):
    with at(T0 + timedelta(minutes=5)):
        assert review_post(learner_client, due_item, "Osteoclast").status_code == 302
        assert review_post(learner_client, due_item, "Osteoclast").status_code == 400
    assert ReviewLog.objects.count() == 1


@pytest.mark.parametrize("data, message", [
    ({"item": "x1", "choice": "1"}, "The form field 'item' must be a whole number."),
    ({"item": "", "choice": "1"}, "The form field 'item' This field is required."),
])
def test_bad_ids_are_refused_with_what_was_wrong(due_item, learner_client, data, message):
    with at(T0 + timedelta(hours=1)):
        response = learner_client.post("/review/answer/", data)
    assert response.status_code == 400 and message in html.unescape(text(response))
    assert unchanged(due_item)


def test_no_choice_asks_again_in_place_and_a_foreign_choice_is_refused(due_item, learner_client):
    other = question("alpha-f-q2").choices.first()
    with at(T0 + timedelta(hours=1)):
        response = learner_client.post("/review/answer/", {"item": due_item.pk}, headers={"HX-Request": "true"})
        assert response.status_code == 400
        assert "Choose an answer before submitting." in text(response) and "Which cell removes bone?" in text(response)
        response = learner_client.post("/review/answer/", {"item": due_item.pk, "choice": other.pk})
        assert response.status_code == 400 and "An answer you sent does not belong to this question." in text(response)
    assert unchanged(due_item) and not ReviewLog.objects.exists()


def test_the_review_page_allows_only_get_and_the_answer_only_post(learner_client, small_course):
    assert learner_client.post("/review/").status_code == 405
    assert learner_client.get("/review/answer/").status_code == 405


# --- Query counts ----------------------------------------------------------------------------------


def test_review_page_query_counts_are_pinned(learner_client, small_course, django_assert_num_queries):
    with at(T0):
        answer_in_quiz(learner_client, "alpha-f-q1", "Osteoblast")
        answer_in_quiz(learner_client, "alpha-f-q3", "False")
    item = ReviewItem.objects.select_related("question").prefetch_related("question__choices").order_by("question__position").first()
    with at(T0 + timedelta(hours=1)):
        with django_assert_num_queries(3):  # the first due item with its question, quiz, tier and lesson; its choices; the count due
            assert "2 reviews due" in text(learner_client.get("/review/"))
        with django_assert_num_queries(7):  # savepoint pair, item, choices, update, log insert, the count due
            review_post(learner_client, item, "Osteoclast", htmx=True)
        log = ReviewLog.objects.get()
        with django_assert_num_queries(3):  # the log with its item, question, quiz, tier, lesson; choices; the count due
            assert "✓ Right" in text(learner_client.get(f"/review/?reviewed={log.pk}"))
    with at(T0 + timedelta(seconds=5)):
        with django_assert_num_queries(2):  # no item due; when the next one is
            assert "Nothing to review right now" in text(learner_client.get("/review/"))


def test_course_map_with_due_reviews_costs_four_queries_and_stays_out_of_the_shared_cache(learner_client, small_course, django_assert_num_queries):
    newcomer = Client()
    assert "review due" not in text(newcomer.get("/"))  # the anonymous map, now cached
    with at(T0):
        answer_in_quiz(learner_client, "alpha-f-q1", "Osteoblast")
    with at(T0 + timedelta(hours=1)):
        with django_assert_num_queries(4):  # lessons, their tiers, best scores, reviews due
            assert "1 review due" in text(learner_client.get("/"))
        assert "review due" not in text(newcomer.get("/"))


# --- Merging two learners' items (signing in) ------------------------------------------------------


def make_item(learner, q, reviewed_at=None, count=0, logs=0):
    state = {"due": T0.isoformat()}
    item = ReviewItem.objects.create(learner=learner, question=q, state=state, due=T0, reviewed_at=reviewed_at, review_count=count)
    ReviewItem.objects.filter(pk=item.pk).update(created_at=T0 - timedelta(days=1))  # auto_now_add ignores a given value
    item.refresh_from_db()
    for n in range(logs):
        ReviewLog.objects.create(item=item, number=n + 1, reviewed_at=T0, rating=1, score=0)
    return item


def test_merge_moves_items_and_keeps_the_more_recently_reviewed_on_a_clash(small_course):
    q1, q2, q3 = question("alpha-f-q1"), question("alpha-f-q2"), question("alpha-f-q3")
    make_item("anon", q1, reviewed_at=T0 + timedelta(days=2), count=1, logs=1)
    make_item("acct", q1, reviewed_at=T0, count=5, logs=2)
    make_item("anon", q2)
    make_item("acct", q3)
    make_item("stranger", q1)
    merge_reviews("anon", "acct")
    kept = ReviewItem.objects.filter(learner="acct")
    assert sorted(kept.values_list("question__name", flat=True)) == ["alpha-f-q1", "alpha-f-q2", "alpha-f-q3"]
    assert kept.get(question=q1).reviewed_at == T0 + timedelta(days=2)
    assert kept.get(question=q1).log.count() == 3  # no review log lost
    assert not ReviewItem.objects.filter(learner="anon").exists()
    assert ReviewItem.objects.filter(learner="stranger").count() == 1


FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
histories = st.dictionaries(st.sampled_from(["alpha-f-q1", "alpha-f-q2", "alpha-f-q3"]), st.tuples(st.integers(0, 3), st.integers(0, 4)), max_size=3)


@FAST
@given(old=histories, new=histories)
def test_merge_keeps_one_item_per_question_the_fresher_one_and_every_log(small_course, old, new):
    ReviewItem.objects.all().delete()
    for learner, history in (("old", old), ("new", new)):
        for name, (days, count) in history.items():
            make_item(learner, question(name), reviewed_at=T0 + timedelta(days=days) if days else None, count=count, logs=count)
    logs = ReviewLog.objects.count()
    merge_reviews("old", "new")
    merged = {i.question.name: i for i in ReviewItem.objects.filter(learner="new").select_related("question")}
    assert set(merged) == set(old) | set(new) and ReviewItem.objects.count() == len(merged)
    for name, item in merged.items():
        rows = [h[name] for h in (old, new) if name in h]
        freshest = max(rows, key=lambda r: (T0 + timedelta(days=r[0]) if r[0] else T0 - timedelta(days=1), r[1]))
        assert item.review_count == freshest[1]
    assert ReviewLog.objects.count() == logs


def test_a_wrong_quiz_answer_costs_one_query_more_than_a_right_one(learner_client, small_course, django_assert_num_queries):
    learner_client.post(QUIZ + "start/")
    attempt = Attempt.objects.get()
    q1, q2 = question("alpha-f-q1"), question("alpha-f-q2")
    right = {"attempt": attempt.pk, "question": q1.pk, "choice": choices(q1, "Osteoclast")}
    wrong = {"attempt": attempt.pk, "question": q2.pk, "choice": choices(q2, "Calcitonin")}
    with django_assert_num_queries(9):  # as tests/test_quiz.py pins it
        learner_client.post(QUIZ + "answer/", right, headers={"HX-Request": "true"})
    with django_assert_num_queries(10):  # and the review item's INSERT … ON CONFLICT DO NOTHING
        learner_client.post(QUIZ + "answer/", wrong, headers={"HX-Request": "true"})
    assert ReviewItem.objects.get().question == q2
