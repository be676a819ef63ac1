"""One response to one question: the choices in the order shown, grading, and the feedback.

Shared by the quiz (quizzes/views.py) and the review page (review/views.py). `order` is the
list of choice ids in the order the learner was shown them (None: stored order); for a
matching question, {"items": [...], "options": [...]}, two independent orders, so an item's
place says nothing about its match's place. A bare list there (attempts started before the
items were shuffled) orders the options, and the items keep their authoring order.
"""

from django.http import QueryDict

from . import grading
from .gift import NumericalAnswer, PairData
from ..models import CHOICE_KINDS, Question, QuestionKind

SHORT_ANSWER_MAX = 200
NUMBER_MAX = 50


class BadAnswer(Exception):
    pass


class NoChoice(BadAnswer):
    """No choice was sent for a choice question: ask again, in place."""


def shown_order(question: Question, shuffle: bool, rng) -> list | dict:
    """The choice ids in the order to show them: shuffled by rng when the quiz shuffles (never
    true/false). Matching, as Moodle: the options always (in stored order they would line up
    with their items), the items when the quiz shuffles."""
    ids = [c.pk for c in question.choices.all()]
    if question.kind == QuestionKind.MATCHING:
        items = [c.pk for c in question.choices.all() if c.text]
        rng.shuffle(ids)
        if shuffle:
            rng.shuffle(items)
        return {"items": items, "options": ids}
    if shuffle and question.kind != QuestionKind.TRUE_FALSE:
        rng.shuffle(ids)
    return ids


def _part(order: list | dict | None, part: str) -> list:
    if isinstance(order, dict):
        return order.get(part) or []
    return (order or []) if part == "options" else []


def _in_order(choices: list, order: list) -> list:
    if order:
        rank = {pk: i for i, pk in enumerate(order)}
        choices.sort(key=lambda c: rank.get(c.pk, len(rank)))
    return choices


def choices_in_order(question: Question, order: list | dict | None) -> list:
    return _in_order(list(question.choices.all()), _part(order, "options"))


def match_options(question: Question, order: list | dict | None) -> list:
    """A matching question's right-hand sides, each once, in the order shown.

    The form sends an option's index in this list, never a choice id: an id would name
    the item it belongs to and give the answer away.
    """
    options = []
    for c in choices_in_order(question, order):
        if c.match and c.match not in options:
            options.append(c.match)
    return options


def match_items(question: Question, order: list | dict | None) -> list:
    """A matching question's items (left sides) in the order shown."""
    return _in_order([c for c in question.choices.all() if c.text], _part(order, "items"))


def numerical_rows(question: Question) -> list:
    return [
        NumericalAnswer(c.value, c.tolerance if c.tolerance is not None else 0, c.weight, c.feedback)
        for c in question.choices.all()
    ]


def _clamp(fraction: float) -> float:
    return min(1.0, max(0.0, fraction))


def question_state(question: Question, order: list | None) -> dict:
    """What the question form needs (templates/lessons/question_form.html)."""
    state = {
        "question": question,
        "multiple": question.kind == QuestionKind.MULTIPLE,
        "short_answer_max": SHORT_ANSWER_MAX,
        "number_max": NUMBER_MAX,
    }
    if question.kind == QuestionKind.MATCHING:
        state.update(match_items=match_items(question, order), match_options=match_options(question, order))
    elif question.kind in CHOICE_KINDS:
        state["choices"] = choices_in_order(question, order)
    return state


def grade(question: Question, order: list | None, post: QueryDict, data: dict):
    """(selected ids, response, score) for a validated form's data, or BadAnswer saying what is wrong."""
    if question.kind in CHOICE_KINDS:
        return _grade_choices(question, data["choice"])
    return _grade_typed(question, order, post, data)


def _grade_choices(question: Question, chosen: list):
    if not chosen:
        raise NoChoice("Choose an answer before submitting.")
    valid = {c.pk for c in question.choices.all()}
    if not set(chosen) <= valid:
        raise BadAnswer("An answer you sent does not belong to this question.")
    if question.kind != QuestionKind.MULTIPLE and len(chosen) != 1:
        raise BadAnswer("This question takes exactly one answer.")
    return chosen, None, question.grade(chosen)


def _grade_typed(question: Question, order: list | None, post: QueryDict, data: dict):
    choices = list(question.choices.all())
    if question.kind == QuestionKind.MATCHING:
        options = match_options(question, order)
        picked, response = {}, {}
        for c in match_items(question, order):
            raw = post.get(f"pair-{c.pk}", "").strip()
            if not raw:
                raise BadAnswer(f"Choose a match for “{c.text}” before submitting.")
            if not (raw.isascii() and raw.isdigit() and len(raw) < 6 and int(raw) < len(options)):
                raise BadAnswer(f"The match sent for “{c.text}” is not one of the options offered.")
            picked[c.pk] = response[str(c.pk)] = options[int(raw)]
        pairs = [PairData(c.text, c.match) for c in choices]
        result = grading.grade_matching(pairs, {i: picked.get(c.pk) for i, c in enumerate(choices)})
        selected = [c.pk for c in choices if c.text and picked[c.pk] == c.match]
        return selected, response, _clamp(result.fraction if result else 0.0)
    text = data["response"]
    if not text.strip():
        raise BadAnswer("Type an answer before submitting.")
    if question.kind == QuestionKind.NUMERICAL:
        if len(text) > NUMBER_MAX or grading.parse_number(text) is None:
            raise BadAnswer("Your answer is not a number. Type digits, with a decimal point or comma if needed (for example -2.5 or -2,5).")
        value = grading.parse_number(text)
        result = grading.grade_numerical(numerical_rows(question), text)
        matched = next((c for c, a in zip(choices, numerical_rows(question)) if grading.within_tolerance(a, value)), None)
    else:
        if len(text) > SHORT_ANSWER_MAX:
            raise BadAnswer(f"Your answer is longer than {SHORT_ANSWER_MAX} characters. Shorten it and try again.")
        result = grading.grade_shortanswer(choices, text)
        matched = next((c for c in choices if grading.matches_pattern(text, c.text)), None)
    selected = [matched.pk] if matched is not None and matched.weight > 0 else []
    return selected, text.strip(), _clamp(result.fraction)


def verdict(score: float) -> str:
    return "right" if score >= 1 else ("partly right" if score > 0 else "wrong")


def feedback(question: Question, selected: list, response, score: float, order: list | None, section_url: str) -> dict:
    """What the feedback partial (templates/lessons/answer_feedback.html) shows about one answer."""
    chosen = set(selected)
    result = {
        "question": question,
        "verdict": verdict(score),
        "review_url": f"{section_url}#{question.section}" if question.section else "",
    }
    if question.kind == QuestionKind.MATCHING:
        given = response if isinstance(response, dict) else {}
        result["pairs"] = [
            {"item": c.text_html, "given": given.get(str(c.pk), ""), "right": c.match, "ok": c.pk in chosen}
            for c in match_items(question, order)
        ]
    elif question.kind in (QuestionKind.NUMERICAL, QuestionKind.SHORT_ANSWER):
        result["typed"] = response if isinstance(response, str) else ""
        result["typed_feedback"] = _typed_feedback(question, result["typed"])
        result["accepted"] = [_accepted_label(question, c) for c in question.choices.all() if c.weight >= 100]
    else:
        result["choices"] = [{"choice": c, "chosen": c.pk in chosen} for c in choices_in_order(question, order)]
    return result


def _number_text(value) -> str:
    return format(value.normalize(), "f")


def _accepted_label(question: Question, c) -> str:
    if question.kind != QuestionKind.NUMERICAL:
        return c.text
    if c.minimum is not None and c.maximum is not None:
        return f"{_number_text(c.minimum)} to {_number_text(c.maximum)}"
    if c.value is None:
        return "any number"
    return _number_text(c.value) + (f" ± {_number_text(c.tolerance)}" if c.tolerance else "")


def _typed_feedback(question: Question, typed: str) -> str:
    """The feedback (HTML in its format) of the answer row a typed response matched, as grading.py finds it."""
    choices = list(question.choices.all())
    if question.kind == QuestionKind.NUMERICAL:
        value = grading.parse_number(typed)
        rows = numerical_rows(question)
        matched = next((c for c, a in zip(choices, rows) if value is not None and grading.within_tolerance(a, value)), None)
    else:
        matched = next((c for c in choices if typed.strip() and grading.matches_pattern(typed, c.text)), None)
    return matched.feedback_html if matched else ""
