"""Issue 16, learner side: matching, numerical and short-answer questions answered, graded as Moodle grades them."""

import re

import pytest

from lessons.content_files.load import import_quiz
from lessons.models import Answer, Attempt, Question, Quiz

from .test_quiz import URL, bad_post, start

pytestmark = pytest.mark.django_db

GIFT = """\
::hormone-effect:: [markdown]Match each hormone with its main effect on blood calcium.{
=PTH -> raises it
=Calcitonin -> lowers it briefly
=Vitamin D -> raises absorption
= -> has no effect
}

::t-score:: [markdown]A T-score at or below which value defines osteoporosis?{#
=-2.5 #Exactly.
=%50%-2:0.5 #Close\\: that is the osteopenia range.
=%25%-4..-3 #Lower than needed.
~#No. Osteoporosis starts at a lower value.
}

::cell-name:: [markdown]Which cell resorbs bone?{
=osteoclast #Right.
=%50%osteoclast* #Right idea, check the spelling.
####Osteoclasts are multinucleated.
}
"""
HTMX = {"HX-Request": "true"}


@pytest.fixture
def attempt(client, small_course):
    import_quiz(Quiz.objects.get(text__lesson__slug="alpha", text__tier="fundamentals"), GIFT)
    return start(client)


def question(name):
    return Question.objects.get(name=name, archived=False)


def send(client, attempt, name, data, htmx):
    """Answer one question; returns the feedback HTML the learner sees (htmx fragment or the redirect's page)."""
    response = client.post(URL + "answer/", {"attempt": attempt.pk, "question": question(name).pk, **data}, headers=HTMX if htmx else {})
    if htmx:
        assert response.status_code == 200
        return response.content.decode()
    assert response.status_code == 302 and response["Location"] == f"{URL}?answered={question(name).pk}"
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.content.decode()


def stored(attempt, name):
    return Answer.objects.get(attempt=attempt, question=question(name))


def match_form(page):
    """The matching question's form as shown: item id per select, option index per right-hand text."""
    selects = re.findall(r'<select name="pair-(\d+)"', page)
    options = dict((text, value) for value, text in re.findall(r'<option value="(\d+)">([^<]+)</option>', page))
    return [int(s) for s in selects], options


# --- Matching ----------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_matching_gives_credit_per_right_pair_and_shows_which_were_right(client, attempt, htmx):
    page = client.get(URL).content.decode()
    items, options = match_form(page)
    assert sorted(options) == ["has no effect", "lowers it briefly", "raises absorption", "raises it"]
    left = {c.pk: c for c in question("hormone-effect").choices.all()}
    assert items == attempt.choice_order[str(question("hormone-effect").pk)]["items"]  # the attempt's shuffled order
    assert sorted(left[i].text for i in items) == ["Calcitonin", "PTH", "Vitamin D"]
    picks = {"PTH": "raises it", "Calcitonin": "lowers it briefly", "Vitamin D": "has no effect"}
    body = send(client, attempt, "hormone-effect", {f"pair-{i}": options[picks[left[i].text]] for i in items}, htmx)
    answer = stored(attempt, "hormone-effect")
    assert answer.score == pytest.approx(2 / 3)
    assert sorted(answer.selected) == sorted(i for i in items if left[i].text != "Vitamin D")
    assert answer.response == {str(i): picks[left[i].text] for i in items}
    assert "◐ Partly right" in body and "Vitamin D → has no effect" in body and "The match is: raises absorption" in body
    assert body.count('<span class="tag ok">right</span>') == 2


def test_matching_all_right_is_full_credit(client, attempt):
    items, options = match_form(client.get(URL).content.decode())
    left = {c.pk: c.match for c in question("hormone-effect").choices.all()}
    body = send(client, attempt, "hormone-effect", {f"pair-{i}": options[left[i]] for i in items}, True)
    assert stored(attempt, "hormone-effect").score == 1 and "✓ Right" in body


def test_matching_items_are_shuffled_per_attempt_and_keep_that_order(client, attempt):
    from lessons.quizzes.views import start_attempt

    match = question("hormone-effect")
    first, _ = match_form(client.get(URL).content.decode())
    assert match_form(client.get(URL).content.decode())[0] == first  # a reload shows the same order
    bad_post(client, {"attempt": attempt.pk, "question": match.pk, f"pair-{first[0]}": "0"})  # refused: pairs missing
    assert match_form(client.get(URL).content.decode())[0] == first
    orders = {tuple(start_attempt(attempt.quiz, "someone")
                    .choice_order[str(match.pk)]["items"]) for _ in range(30)}
    assert len(orders) > 1 and all(sorted(o) == sorted(first) for o in orders)


def test_matching_items_keep_their_authoring_order_when_the_quiz_does_not_shuffle(client, attempt):
    from lessons.quizzes.views import start_attempt

    quiz = attempt.quiz
    quiz.shuffle = False
    quiz.save()
    match = question("hormone-effect")
    stored = [c.pk for c in match.choices.all() if c.text]
    assert all(start_attempt(quiz, "someone").choice_order[str(match.pk)]["items"] == stored for _ in range(10))


def test_an_attempt_started_before_items_were_shuffled_shows_them_in_authoring_order(client, attempt):
    match = question("hormone-effect")
    attempt.choice_order[str(match.pk)] = [c.pk for c in match.choices.all()][::-1]  # the old shape: options only
    attempt.save()
    items, options = match_form(client.get(URL).content.decode())
    assert items == [c.pk for c in match.choices.all() if c.text]
    assert list(options) == ["has no effect", "raises absorption", "lowers it briefly", "raises it"]


# --- Numerical ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, score, feedback, credited",
    [
        ("-2.5", 1, "Exactly.", 0),
        ("-2,5", 1, "Exactly.", 0),        # a decimal comma
        ("-25e-1", 1, "Exactly.", 0),
        ("-2.1", 0.5, "Close: that is the osteopenia range.", 1),   # -2 ± 0.5
        ("-1.5", 0.5, "Close: that is the osteopenia range.", 1),   # the tolerance's edge
        ("-3.5", 0.25, "Lower than needed.", 2),                     # inside -4..-3
        ("-4", 0.25, "Lower than needed.", 2),                       # the range's end
        ("7", 0, "No. Osteoporosis starts at a lower value.", None),
    ],
)
def test_numerical_takes_the_first_answer_whose_interval_holds_the_number(client, attempt, typed, score, feedback, credited):
    htmx = typed.startswith("-2")  # the htmx and no-JS paths both, without running every case twice
    body = send(client, attempt, "t-score", {"response": typed}, htmx)
    answer = stored(attempt, "t-score")
    rows = list(question("t-score").choices.all())
    assert answer.score == score and answer.response == typed
    assert answer.selected == ([] if credited is None else [rows[credited].pk])
    assert feedback in body and f"Your answer: <strong>{typed}</strong>" in body and "Accepted answer: -2.5" in body


# --- Short answer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, score, feedback",
    [
        ("osteoclast", 1, "Right."),
        ("OsteoClast", 1, "Right."),            # GIFT short answers ignore case
        ("  osteoclast ", 1, "Right."),
        ("osteoclasts", 0.5, "Right idea, check the spelling."),   # the wildcard answer
        ("osteoblast", 0, ""),
    ],
)
def test_short_answer_takes_the_first_matching_answer_ignoring_case(client, attempt, typed, score, feedback):
    htmx = typed.islower()
    body = send(client, attempt, "cell-name", {"response": typed}, htmx)
    answer = stored(attempt, "cell-name")
    assert answer.score == score and answer.response == typed.strip()
    assert (answer.selected != []) == (score > 0)
    assert feedback in body and "Osteoclasts are multinucleated." in body


# --- No answer in the page, forged input ------------------------------------------------


def test_question_pages_hold_no_right_answer(client, attempt):
    rows = {c.pk: c for c in question("hormone-effect").choices.all()}
    page = client.get(URL).content.decode()
    items, options = match_form(page)
    # Options are sent as their place in this attempt's list, never as an id tied to an item.
    assert sorted(options.values()) == ["0", "1", "2", "3"]
    assert not any(f'value="{pk}"' in page for pk in rows)
    assert "correct" not in page and "The match is" not in page
    send(client, attempt, "hormone-effect", {f"pair-{i}": "0" for i in items}, True)
    page = client.get(URL).content.decode()
    assert 'name="response"' in page and 'inputmode="decimal"' in page
    for secret in ("-2.5", "Exactly", "osteopenia", "-4", "Accepted"):
        assert secret not in page
    send(client, attempt, "t-score", {"response": "1"}, True)
    page = client.get(URL).content.decode()
    assert 'name="response"' in page and 'maxlength="200"' in page
    for secret in ("osteoclast", "Right idea", "multinucleated", "Accepted"):
        assert secret not in page


def first_item(name="hormone-effect"):
    return question(name).choices.first().pk


FORGED = {
    "numerical: not a number": ("t-score", lambda: {"response": "about two"}, "not a number"),
    "numerical: two commas": ("t-score", lambda: {"response": "1,2,3"}, "not a number"),
    "numerical: infinity": ("t-score", lambda: {"response": "inf"}, "not a number"),
    "numerical: nothing typed": ("t-score", lambda: {"response": "  "}, "Type an answer"),
    "numerical: far too long": ("t-score", lambda: {"response": "1" * 5000}, "longer than 1000 characters"),
    "short answer: nothing typed": ("cell-name", lambda: {}, "Type an answer"),
    "short answer: over 200 characters": ("cell-name", lambda: {"response": "a" * 201}, "longer than 200 characters"),
    "matching: a pair missing": ("hormone-effect", lambda: {f"pair-{first_item()}": "0"}, "Choose a match for \u201c"),  # the first item left, as shown
    "matching: unknown option": ("hormone-effect", lambda: {f"pair-{c.pk}": "9" for c in question("hormone-effect").choices.all()}, "not one of the options offered"),
    "matching: option not a number": ("hormone-effect", lambda: {f"pair-{c.pk}": "-1" for c in question("hormone-effect").choices.all()}, "not one of the options offered"),
    "matching: huge option": ("hormone-effect", lambda: {f"pair-{c.pk}": "9" * 400 for c in question("hormone-effect").choices.all()}, "not one of the options offered"),
}


@pytest.mark.parametrize("case", FORGED)
def test_a_malformed_typed_or_matching_answer_is_a_400_that_says_why(client, attempt, case):
    name, data, message = FORGED[case]
    htmx = list(FORGED).index(case) % 2 == 1  # both paths, alternating
    body = bad_post(client, {"attempt": attempt.pk, "question": question(name).pk, **data()}, headers=HTMX if htmx else {})
    assert message in body


def test_a_resent_typed_answer_gets_the_stored_feedback(client, attempt):
    first = send(client, attempt, "t-score", {"response": "-2,1"}, True)
    again = send(client, attempt, "t-score", {"response": "-2.5"}, True)
    assert again == first and stored(attempt, "t-score").response == "-2,1"


def test_answering_all_three_finishes_the_attempt_with_their_mean(client, attempt):
    items, options = match_form(client.get(URL).content.decode())
    left = {c.pk: c.match for c in question("hormone-effect").choices.all()}
    send(client, attempt, "hormone-effect", {f"pair-{i}": options[left[i]] for i in items}, False)
    send(client, attempt, "t-score", {"response": "-2.1"}, False)
    send(client, attempt, "cell-name", {"response": "osteoblast"}, False)
    attempt = Attempt.objects.get(pk=attempt.pk)
    assert attempt.finished_at and attempt.score == 50
    assert "Your score: 50%" in client.get(URL).content.decode()
