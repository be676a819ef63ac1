"""Optional learner accounts (issue 17): sign up, in and out, passwords, nothing lost on sign-in,
progress on every device, My learning, export, deletion, privacy and the limits."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db.models import Q
from django.test import Client
from django.utils import timezone

from lessons.learners.progress import account_learner_id
from lessons.models import Answer, Attempt, Question, ReadingState, ReviewItem, ReviewLog, TierProgress

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

QUIZ = "/lessons/alpha/fundamentals/quiz/"
NEW_PASSWORD = "a-long-new-pass-4417"


def take_quiz(client, right=(True, False, True), quiz=QUIZ):
    """Start the quiz and answer each question rightly or wrongly; returns the attempt."""
    client.post(quiz + "start/")
    for ok in right:
        page = client.get(quiz).content.decode()
        attempt = re.search(r'name="attempt" value="(\d+)"', page).group(1)
        question = Question.objects.get(pk=re.search(r'name="question" value="(\d+)"', page).group(1))
        picked = [c.pk for c in question.choices.all() if (c.weight > 0) == ok]
        if question.kind != "multiple":
            picked = picked[:1]
        assert client.post(quiz + "answer/", {"attempt": attempt, "question": question.pk, "choice": picked}).status_code == 302
    return Attempt.objects.get(pk=attempt)


def read_to_end(client, slug="alpha", tier="fundamentals", section="hormones"):
    client.get(f"/lessons/{slug}/{tier}/")
    assert client.post(f"/lessons/{slug}/{tier}/progress/", {"section": section, "done": "1"}).status_code == 204


def sign_up(client, username="lena", email="", password=PASSWORD, **extra):
    return client.post("/account/sign-up/", {"username": username, "email": email, "password1": password, "password2": password, **extra})


def sign_in(client, username="lena", password=PASSWORD):
    return client.post("/account/sign-in/", {"username": username, "password": password})


def lesson_card(client, slug="alpha"):
    page = client.get("/").content.decode()
    cards = re.findall(r'<li class="lesson-card.*?</li>\n(?=\s*(?:<li class="lesson-card|</ol>))', page, re.S)
    text = next(c for c in cards if f"Lesson {slug}</a>" in c)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()


# --- Sign up, sign in, sign out -------------------------------------------------------------


def test_sign_up_makes_a_learner_who_is_not_staff_and_is_signed_in(client, small_course):
    assert 'href="/account/sign-in/"' in client.get("/").content.decode()
    response = sign_up(client, email="lena@example.org")
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get(username="lena")
    assert (user.email, user.is_staff, user.is_superuser) == ("lena@example.org", False, False)
    page = client.get("/").content.decode()
    assert '<span class="account-name" title="Signed in">lena</span>' in page
    assert 'href="/me/"' in page and "My learning" in page
    assert re.search(r'<form method="post" action="/account/sign-out/" class="sign-out">.*Sign out</button></form>', page)
    assert 'href="/account/sign-in/"' not in page


def test_sign_up_email_is_optional(client, small_course):
    assert sign_up(client).status_code == 302
    assert User.objects.get(username="lena").email == ""


@pytest.mark.parametrize(
    "data, message",
    [
        ({"password2": "something-else-1"}, "The two password fields didn’t match."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"username": "bad name!"}, "Enter a valid username."),
        ({"password1": "123", "password2": "123"}, "This password is too short."),
    ],
)
def test_bad_sign_up_says_what_is_wrong_and_creates_nothing(client, small_course, data, message):
    response = client.post("/account/sign-up/", {"username": "lena", "email": "", "password1": PASSWORD, "password2": PASSWORD, **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not User.objects.exists()


def test_taken_username_is_refused(client, small_course):
    User.objects.create_user("lena", password=PASSWORD)
    response = sign_up(client)
    assert response.status_code == 400 and "A user with that username already exists." in response.content.decode()


def test_sign_in_with_a_wrong_password_says_so(client, small_course):
    User.objects.create_user("lena", password=PASSWORD)
    response = sign_in(client, password="wrong")
    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_in_goes_to_a_safe_next_only(client, small_course):
    User.objects.create_user("lena", password=PASSWORD)
    response = client.post("/account/sign-in/?next=/glossary/", {"username": "lena", "password": PASSWORD, "next": "/glossary/"})
    assert response["Location"] == "/glossary/"
    client.post("/account/sign-out/")
    response = client.post("/account/sign-in/", {"username": "lena", "password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_sign_out_is_a_post_and_leaves_a_fresh_anonymous_reader(client, small_course):
    read_to_end(client)
    sign_up(client)
    assert client.get("/account/sign-out/").status_code == 405
    response = client.post("/account/sign-out/")
    assert response.status_code == 302
    assert "1 of 3 read" not in lesson_card(client) and "0 of 3 read" in lesson_card(client)
    assert 'href="/account/sign-in/"' in client.get("/").content.decode()
    # ... and everything stays with the account.
    sign_in(client)
    assert "1 of 3 read" in lesson_card(client)


def test_password_change_needs_the_old_password(client, small_course):
    sign_up(client)
    response = client.post("/account/password/", {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 200 and "Your old password was entered incorrectly." in response.content.decode()
    response = client.post("/account/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == "/account/password/changed/"
    assert "Your password is changed." in client.get("/account/password/changed/").content.decode()
    assert User.objects.get(username="lena").check_password(NEW_PASSWORD)


def test_password_change_asks_an_anonymous_reader_to_sign_in(client, small_course):
    response = client.get("/account/password/")
    assert response.status_code == 302 and response["Location"] == "/account/sign-in/?next=/account/password/"


def test_password_reset_by_email(client, small_course, mailoutbox):
    User.objects.create_user("lena", "lena@example.org", PASSWORD)
    response = client.post("/account/password-reset/", {"email": "lena@example.org"})
    assert response["Location"] == "/account/password-reset/sent/"
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["lena@example.org"]
    assert mailoutbox[0].subject == "Reset your Hormones & Bone password"
    link = re.search(r"http://testserver(/account/reset/\S+/)", mailoutbox[0].body).group(1)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session marker
    page = client.get(form_url).content.decode()
    assert "Choose a new password" in page and 'name="new_password1"' in page
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == "/account/reset/done/"
    assert User.objects.get(username="lena").check_password(NEW_PASSWORD)
    assert "This reset link is not valid" in client.get(link, follow=True).content.decode()


def test_password_reset_for_an_unknown_address_sends_nothing_and_tells_nothing(client, small_course, mailoutbox):
    response = client.post("/account/password-reset/", {"email": "nobody@example.org"})
    assert response["Location"] == "/account/password-reset/sent/"
    assert mailoutbox == []


# --- Limits -----------------------------------------------------------------------------------


def test_the_learner_sign_in_form_locks_out_after_the_failure_limit(client, small_course, settings):
    settings.AXES_ENABLED = True
    User.objects.create_user("lena", password=PASSWORD)
    statuses = [sign_in(client, password="wrong").status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    response = sign_in(client)  # the right password, during the lockout
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many sign-in attempts" in page and "Try again in 15 minutes." in page and 'href="/account/password-reset/"' in page
    assert "_auth_user_id" not in client.session


def test_sign_ups_are_limited_per_address(small_course, settings):
    settings.ACCOUNT_IP_RATE_LIMIT = 2
    statuses = [sign_up(Client(REMOTE_ADDR="192.0.2.9"), username=f"l{n}").status_code for n in range(4)]
    assert statuses == [302, 302, 429, 429]
    response = sign_up(Client(REMOTE_ADDR="192.0.2.9"), username="late")
    assert "Too many tries from your network" in response.content.decode()
    assert User.objects.count() == 2
    assert sign_up(Client(REMOTE_ADDR="192.0.2.10"), username="other").status_code == 302


def test_password_reset_requests_are_limited_per_address(small_course, settings, mailoutbox):
    settings.ACCOUNT_IP_RATE_LIMIT = 1
    User.objects.create_user("lena", "lena@example.org", PASSWORD)
    statuses = [Client().post("/account/password-reset/", {"email": "lena@example.org"}).status_code for _ in range(3)]
    assert statuses == [302, 429, 429] and len(mailoutbox) == 1


# --- Nothing lost, every device ---------------------------------------------------------------


def test_sign_up_keeps_what_this_browser_did_anonymously(client, small_course):
    read_to_end(client)
    attempt = take_quiz(client, right=(True, True, True))
    anonymous = attempt.learner
    sign_up(client)
    user = User.objects.get(username="lena")
    attempt.refresh_from_db()
    assert (attempt.user, attempt.learner) == (user, account_learner_id(user))
    assert not Attempt.objects.filter(learner=anonymous).exists()
    row = TierProgress.objects.get(user=user)
    assert (row.lesson, row.tier, row.read, row.place) == ("alpha", "fundamentals", True, "hormones")
    assert ReadingState.objects.get(user=user).depth == "fundamentals"
    text = lesson_card(client)
    assert "1 of 3 read" in text and "quiz passed, best 100%" in text
    assert client.cookies["progress"].value == "" or "alpha" not in str(client.cookies["progress"].value)


def test_a_second_device_sees_the_same_course_map_and_history(client, small_course):
    read_to_end(client)
    take_quiz(client)
    sign_up(client)
    first = client.get("/").content.decode()
    phone = Client()
    sign_in(phone)
    second = phone.get("/").content.decode()
    strip = lambda html: re.sub(r'value="[^"]*"|nonce="[^"]*"|"x-csrftoken": "[^"]*"', "", html)  # noqa: E731
    assert strip(first) == strip(second)
    assert "quiz not passed, best 67%" in lesson_card(phone)
    assert 'href="/lessons/alpha/fundamentals/quiz/"' in phone.get("/").content.decode()  # Continue: the quiz
    assert "67%" in phone.get("/me/").content.decode()


def test_sign_in_merges_this_browser_into_what_the_account_has(client, small_course):
    read_to_end(client, "alpha", "fundamentals")
    take_quiz(client, right=(True, True, True))
    sign_up(client)
    client.post("/account/sign-out/")
    laptop = Client()
    read_to_end(laptop, "beta", "academic", section="cells")
    take_quiz(laptop, right=(False, False, False), quiz="/lessons/beta/academic/quiz/")
    sign_in(laptop)
    user = User.objects.get(username="lena")
    assert sorted(TierProgress.objects.filter(user=user).values_list("lesson", "tier", "read")) == [
        ("alpha", "fundamentals", True), ("beta", "academic", True),
    ]
    assert sorted(Attempt.objects.filter(user=user).values_list("score", flat=True)) == [0.0, 100.0]
    assert Attempt.objects.filter(learner=account_learner_id(user)).count() == 2
    assert "quiz passed, best 100%" in lesson_card(laptop, "alpha")
    assert "quiz not passed, best 0%" in lesson_card(laptop, "beta")
    assert 'id="continue-link" href="/lessons/beta/academic/quiz/"' in laptop.get("/").content.decode()


def make_due():
    ReviewItem.objects.update(due=timezone.now() - timedelta(minutes=1))


def test_review_items_come_along_and_are_due_on_every_device(client, small_course):
    take_quiz(client, right=(False, True, False))  # two questions missed: two review items
    anonymous = Attempt.objects.get().learner
    assert ReviewItem.objects.filter(learner=anonymous).count() == 2
    make_due()
    assert 'id="review-link"' in client.get("/").content.decode()
    sign_up(client)
    user = User.objects.get(username="lena")
    assert sorted(ReviewItem.objects.values_list("learner", flat=True)) == [account_learner_id(user)] * 2
    phone = Client()
    sign_in(phone)
    assert "2 reviews due" in phone.get("/").content.decode()
    page = phone.get("/me/").content.decode()
    assert "Review now: 2 due" in page and "Lesson alpha · Fundamentals: 2 questions" in page
    assert "Nothing to review right now" not in phone.get("/review/").content.decode()


def test_a_clash_of_review_items_keeps_the_one_reviewed_more_recently(client, small_course):
    take_quiz(client, right=(False, True, True))
    sign_up(client)
    client.post("/account/sign-out/")
    laptop = Client()
    take_quiz(laptop, right=(False, True, True))  # the same question missed again, anonymously
    kept = ReviewItem.objects.exclude(learner__startswith="user-").get()
    ReviewItem.objects.filter(pk=kept.pk).update(reviewed_at=timezone.now(), review_count=3)
    sign_in(laptop)
    item = ReviewItem.objects.get()
    assert (item.pk, item.review_count, item.learner) == (kept.pk, 3, account_learner_id(User.objects.get()))


def test_two_unfinished_attempts_at_one_quiz_are_both_kept_and_the_later_one_resumes(client, small_course):
    sign_up(client)
    client.post(QUIZ + "start/")  # the account's attempt, left unanswered
    client.post("/account/sign-out/")
    laptop = Client()
    take_quiz(laptop, right=(True,))  # this browser's, started later, one answer given
    later = Attempt.objects.get(learner__regex=r"^[0-9a-f]{32}$")
    sign_in(laptop)
    assert Attempt.objects.filter(user__username="lena", finished_at__isnull=True).count() == 2
    assert "Question 2 of 3" in laptop.get(QUIZ).content.decode()
    assert Answer.objects.get().attempt_id == later.pk
    assert laptop.get("/me/").content.decode().count("not finished") == 2


def test_signing_in_twice_changes_nothing(client, small_course):
    read_to_end(client)
    take_quiz(client)
    sign_up(client)
    before = (list(TierProgress.objects.values_list("lesson", "tier", "read", "place")), list(Attempt.objects.values_list("pk", "learner", "user", "score")))
    client.post("/account/sign-out/")
    sign_in(client)
    sign_in(Client())
    after = (list(TierProgress.objects.values_list("lesson", "tier", "read", "place")), list(Attempt.objects.values_list("pk", "learner", "user", "score")))
    assert before == after


def test_a_staff_login_at_the_admin_merges_nothing(client, small_course, instructor):
    take_quiz(client)
    client.post("/admin/login/?next=/admin/", {"username": "ina", "password": PASSWORD})
    assert "_auth_user_id" in client.session
    assert Attempt.objects.get().user is None
    assert not TierProgress.objects.exists()


def test_a_signed_in_learner_resumes_the_depth_they_read_on_another_device(client, small_course):
    sign_up(client)
    client.get("/lessons/beta/academic/")
    phone = Client()
    sign_in(phone)
    assert phone.get("/lessons/beta/")["Location"] == "/lessons/beta/academic/"
    assert TierProgress.objects.get().opened_at is not None


def test_search_gives_a_signed_in_learner_results_at_their_depth_on_any_device(client, small_course):
    sign_up(client)
    client.get("/lessons/alpha/intermediate/")
    phone = Client()
    sign_in(phone)
    page = phone.get("/search/?q=osteoclast").content.decode()
    hits = re.findall(r'<h3><a href="/lessons/\w+/(\w+)/#', page)  # each hit's heading links its depth
    assert hits and set(hits) == {"intermediate"}


# --- The anonymous page cache ----------------------------------------------------------------


def test_signed_in_pages_are_never_served_from_or_stored_in_the_anonymous_cache(client, small_course):
    from lessons import page_cache

    sign_up(client)
    for url in ("/", "/lessons/alpha/fundamentals/", "/glossary/", "/glossary/osteoclast/"):
        assert "lena" in client.get(url).content.decode()
    assert page_cache._pages == {}
    anonymous = Client()
    for url in ("/lessons/alpha/fundamentals/", "/glossary/"):
        anonymous.get(url)
    assert len(page_cache._pages) == 2
    for url in ("/lessons/alpha/fundamentals/", "/glossary/"):
        assert "lena" not in anonymous.get(url).content.decode()
        assert '<span class="account-name" title="Signed in">lena</span>' in client.get(url).content.decode()


# --- Query counts -----------------------------------------------------------------------------


def test_course_map_of_a_signed_in_learner_costs_a_fixed_number_of_queries(client, small_course, django_assert_num_queries):
    sign_up(client)
    read_to_end(client)
    take_quiz(client)
    client.get("/")
    # user, lessons + tiers, progress rows, reading state, best scores, reviews due (the session comes from the cache)
    with django_assert_num_queries(7):
        client.get("/")
    read_to_end(client, "beta", "academic")
    take_quiz(client, quiz="/lessons/beta/academic/quiz/")
    with django_assert_num_queries(7):
        page = client.get("/").content.decode()
    assert "<strong>Course progress:</strong> 2 of 6 tiers read" in page


def test_my_learning_costs_a_fixed_number_of_queries(client, small_course, django_assert_num_queries):
    sign_up(client)
    take_quiz(client)
    client.get("/me/")
    with django_assert_num_queries(7):  # user, lessons + tiers, attempts, reviews due, progress rows, reading state
        client.get("/me/")
    take_quiz(client, quiz="/lessons/beta/academic/quiz/")
    take_quiz(client)
    with django_assert_num_queries(7):
        client.get("/me/")


# --- My learning ------------------------------------------------------------------------------


def test_my_learning_lists_every_lesson_and_depth_with_read_and_quiz_status_and_the_history(client, small_course):
    read_to_end(client)
    take_quiz(client, right=(True, False, False))
    take_quiz(client, right=(True, True, True))
    sign_up(client)
    page = client.get("/me/").content.decode()
    text = lambda html: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()  # noqa: E731
    row = text(re.search(r'<li id="status-alpha-fundamentals">.*?</li>', page, re.S).group(0))
    assert row == "Fundamentals read quiz passed, best 100%"
    assert text(re.search(r'<li id="status-beta-academic">.*?</li>', page, re.S).group(0)) == "Academic not read quiz not taken"
    assert len(re.findall(r'<li id="status-', page)) == 6
    history = text(re.search(r'<ol class="quiz-history">.*?</ol>', page, re.S).group(0))
    assert history.count("Lesson alpha · Fundamentals") == 2
    assert re.search(r"100% passed .* 33% not passed", history)
    assert "Signed in as <strong>lena</strong>" in page and "Download my data" in page and "Delete my account" in page


def test_my_learning_for_an_anonymous_reader_shows_this_browser_and_offers_an_account(client, small_course):
    read_to_end(client)
    take_quiz(client)
    response = client.get("/me/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Kept in this browser only" in page and 'href="/account/sign-up/?next=/me/"' in page
    assert re.search(r'<li id="status-alpha-fundamentals">.*?read.*?best 67%', page, re.S)
    assert "Download my data" not in page
    assert "no-cache" in response["Cache-Control"]
    assert "67%" not in Client().get("/me/").content.decode()


def test_export_and_delete_need_an_account(client, small_course):
    assert client.get("/me/data.json")["Location"] == "/account/sign-in/?next=/me/data.json"
    assert client.get("/me/delete/")["Location"] == "/account/sign-in/?next=/me/delete/"
    assert client.post("/me/delete/")["Location"] == "/account/sign-in/?next=/me/delete/"


# --- Export and deletion ----------------------------------------------------------------------


@pytest.fixture
def two_learners(small_course):
    """lena and max, each with reading, two attempts with answers, and a sign-in."""
    clients = {}
    for name in ("lena", "max"):
        c = Client()
        read_to_end(c, "alpha" if name == "lena" else "beta")
        take_quiz(c, right=(True, False, False))
        sign_up(c, username=name, email=f"{name}@example.org")
        take_quiz(c, right=(True, True, True))
        c.post("/account/sign-out/")
        sign_in(c, username=name)
        clients[name] = c
    return clients


def test_export_holds_every_row_about_the_learner_and_nothing_about_anyone_else(two_learners, settings):
    lena = User.objects.get(username="lena")
    response = two_learners["lena"].get("/me/data.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["account"]["username"] == "lena" and data["account"]["email"] == "lena@example.org"
    assert "password" not in json.dumps(data["account"])
    mine = Attempt.objects.filter(user=lena)
    assert sorted(a["id"] for a in data["attempts"]) == sorted(mine.values_list("pk", flat=True))
    assert sum(len(a["answers"]) for a in data["attempts"]) == Answer.objects.filter(attempt__user=lena).count() == 6
    assert [(r["lesson"], r["tier"], r["read"]) for r in data["tier_progress"]] == [("alpha", "fundamentals", True)]
    assert data["reading_state"]["recent"] == "alpha/fundamentals"
    assert len(data["review_items"]) == ReviewItem.objects.filter(learner=account_learner_id(lena)).count() == 2
    assert {r["question"] for r in data["review_items"]} == {"alpha-f-q2", "alpha-f-q3"}
    text = response.content.decode()
    assert "max" not in text and "beta" not in text
    other = set(Attempt.objects.exclude(user=lena).values_list("pk", flat=True))
    assert not other & {a["id"] for a in data["attempts"]}


def test_delete_with_a_wrong_password_deletes_nothing(two_learners):
    page = two_learners["lena"].get("/me/delete/").content.decode()
    assert "cannot be undone" in page and 'name="password"' in page
    response = two_learners["lena"].post("/me/delete/", {"password": "wrong"})
    assert response.status_code == 400 and "That is not your password. Nothing was deleted." in response.content.decode()
    assert User.objects.filter(username="lena").exists() and Attempt.objects.filter(user__username="lena").count() == 2


def test_delete_leaves_no_row_that_points_to_the_learner(two_learners, settings):
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    lena = User.objects.get(username="lena")
    key, pk = account_learner_id(lena), lena.pk
    max_rows = (Attempt.objects.filter(user__username="max").count(), TierProgress.objects.filter(user__username="max").count())
    response = two_learners["lena"].post("/me/delete/", {"password": PASSWORD})
    assert response.status_code == 200 and "Your account is deleted" in response.content.decode()
    assert not User.objects.filter(pk=pk).exists()
    assert not Attempt.objects.filter(Q(user_id=pk) | Q(learner=key)).exists()
    assert not Answer.objects.filter(attempt__learner=key).exists()
    assert not TierProgress.objects.filter(user_id=pk).exists() and not ReadingState.objects.filter(user_id=pk).exists()
    assert not ReviewItem.objects.filter(learner=key).exists() and not ReviewLog.objects.filter(item__learner=key).exists()
    assert ReviewItem.objects.filter(learner=account_learner_id(User.objects.get(username="max"))).count() == 2
    for model in (AccessLog, AccessFailureLog, AccessAttempt):
        assert not model.objects.filter(username="lena").exists()
    assert (Attempt.objects.filter(user__username="max").count(), TierProgress.objects.filter(user__username="max").count()) == max_rows
    assert 'href="/account/sign-in/"' in two_learners["lena"].get("/").content.decode()


# --- Privacy ----------------------------------------------------------------------------------


def test_a_learner_cannot_answer_or_read_another_learners_attempt(learner_client, second_learner_client, small_course):
    learner_client.post(QUIZ + "start/")
    page = learner_client.get(QUIZ).content.decode()
    attempt = Attempt.objects.get()
    question = Question.objects.get(pk=re.search(r'name="question" value="(\d+)"', page).group(1))
    forged = {"attempt": attempt.pk, "question": question.pk, "choice": question.choices.first().pk}
    response = second_learner_client.post(QUIZ + "answer/", forged)
    assert response.status_code == 400 and "not yours" in response.content.decode()
    assert not Answer.objects.exists()
    learner_client.post(QUIZ + "answer/", forged)  # the owner answers
    peek = second_learner_client.get(f"{QUIZ}?answered={question.pk}").content.decode()
    assert "Start the quiz" in peek and "verdict" not in peek
    resend = second_learner_client.post(QUIZ + "answer/", forged)
    assert resend.status_code == 400 and Answer.objects.count() == 1


def test_a_signed_in_learner_cannot_reach_another_accounts_attempt(small_course):
    lena, max_ = Client(), Client()
    sign_up(lena, username="lena")
    sign_up(max_, username="max")
    lena.post(QUIZ + "start/")
    page = lena.get(QUIZ).content.decode()
    attempt = Attempt.objects.get()
    question = re.search(r'name="question" value="(\d+)"', page).group(1)
    choice = Question.objects.get(pk=question).choices.first().pk
    response = max_.post(QUIZ + "answer/", {"attempt": attempt.pk, "question": question, "choice": choice})
    assert response.status_code == 400 and not Answer.objects.exists()
    assert "Start the quiz" in max_.get(QUIZ).content.decode()
    assert str(attempt.pk) not in max_.get("/me/data.json").content.decode().split('"attempts"')[1]


def test_an_instructor_cannot_open_learners_attempts_in_the_admin(small_course, instructor_client, superuser_client):
    take_quiz(Client())
    attempt = Attempt.objects.get()
    assert instructor_client.get("/admin/lessons/attempt/").status_code == 403
    assert instructor_client.get(f"/admin/lessons/attempt/{attempt.pk}/change/").status_code == 403
    assert "/admin/lessons/attempt/" not in instructor_client.get("/admin/").content.decode()
    assert superuser_client.get("/admin/lessons/attempt/").status_code == 200
    assert superuser_client.get(f"/admin/lessons/attempt/{attempt.pk}/change/").status_code == 200
