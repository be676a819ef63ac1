"""Grading of matching, numerical and short-answer responses, the way Moodle's question types grade them.

Pure functions over the answer lists that lessons.quizzes.gift reads (PairData, NumericalAnswer,
ShortAnswer). Each returns a Grade (fraction of the question's credit, 0 to 1, and the
feedback of the answer that matched), or None when the response cannot be graded yet
(empty, or not a number), where Moodle asks the learner again.
"""

import re
import unicodedata
from dataclasses import dataclass

# Moodle widens every numerical tolerance by PHP's float precision (MDL-3225).
EPSILON = 1e-14
NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class Grade:
    fraction: float
    feedback: str = ""


def grade_matching(pairs, response):
    """qtype_match: right stems / stems. `response` maps a pair's index to the chosen right side.

    Pairs with an empty left side are extra wrong choices, not stems.
    """
    stems = [i for i, p in enumerate(pairs) if p.left]
    if not stems:
        return None
    right = sum(1 for i in stems if response.get(i) == pairs[i].right)
    return Grade(right / len(stems))


def parse_number(text):
    """A learner's number: optional sign, a '.' or ',' decimal point, an optional exponent; else None."""
    text = (text or "").strip()
    if not NUMBER.fullmatch(text):
        return None
    return float(text.replace(",", "."))


def within_tolerance(answer, value):
    """qtype_numerical_answer::within_tolerance() with GIFT's nominal tolerance."""
    if answer.value is None:
        return True
    target, tolerance = float(answer.value), abs(float(answer.tolerance))
    tolerance += EPSILON * max(tolerance, abs(target), EPSILON)
    return target - tolerance <= value <= target + tolerance


def grade_numerical(answers, response):
    """qtype_numerical: the first answer, in order, whose interval holds the response."""
    value = parse_number(response)
    if value is None:
        return None
    for answer in answers:
        if within_tolerance(answer, value):
            return Grade(float(answer.weight) / 100, answer.feedback)
    return Grade(0.0)


def matches_pattern(response, pattern, case_sensitive=False):
    """question_utils::compare_string_with_wildcard(): '*' matches anything, '\\*' is a literal star."""
    response = unicodedata.normalize("NFC", response).strip()
    pattern = unicodedata.normalize("NFC", pattern)
    bits = re.split(r"(?<!\\)\*+", pattern)
    regex = ".*".join(re.escape(bit.replace("\\*", "*")) for bit in bits)
    return re.fullmatch(regex, response, 0 if case_sensitive else re.IGNORECASE) is not None


def grade_shortanswer(answers, response, case_sensitive=False):
    """qtype_shortanswer: the first answer, in order, that the response matches; GIFT imports ignore case."""
    if not (response or "").strip():
        return None
    for answer in answers:
        if matches_pattern(response, answer.text, case_sensitive):
            return Grade(float(answer.weight) / 100, answer.feedback)
    return Grade(0.0)
