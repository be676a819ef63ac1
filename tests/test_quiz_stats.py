"""Quiz statistics reproduce Moodle's own statistics fixture (the 25-attempt quiz) and pick attempts as Moodle does."""

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from lessons.quizzes.item_analysis import question_figures, quiz_figures, random_guess_score, select_attempts

MOODLE = Path(__file__).parent / "fixtures" / "moodle"


def rows(name):
    with open(MOODLE / name, newline="") as f:
        return list(csv.DictReader(f))


RESULTS = rows("results00.csv")
SLOTS = range(1, 8)
MARKS = [{slot: float(r[f"slots.{slot}.mark"]) for slot in SLOTS} for r in RESULTS]
FIGURES = {f.key: f for f in question_figures(MARKS, {slot: 1.0 for slot in SLOTS})}
QUESTION_STATS = {
    "facility": "facility", "sd": "sd", "effectiveweight": "effective_weight", "covariance": "covariance",
    "markvariance": "mark_variance", "othermarkvariance": "other_mark_variance",
    "discriminationindex": "discrimination_index", "covariancemax": "covariance_max",
    "discriminativeefficiency": "discriminative_efficiency",
}
EXPECTED_QUESTIONS = [(int(r["slot"]), column, float(r[column])) for r in rows("qstats00.csv") for column in QUESTION_STATS]


@pytest.mark.parametrize("slot, column, expected", EXPECTED_QUESTIONS, ids=[f"slot{s}-{c}" for s, c, _ in EXPECTED_QUESTIONS])
def test_question_figures_match_moodles_fixture(slot, column, expected):
    # Moodle's own test allows 1e-6 relative (1e-5 for covariance-based figures); we hold 1e-6.
    assert getattr(FIGURES[slot], QUESTION_STATS[column]) == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_quiz_figures_match_moodles_fixture():
    expected = rows("quizstats00.csv")[0]
    # An attempt's score is the sum of its marks (the CSV's summarks column shows 4.33333 rounded).
    scores = [sum(m.values()) for m in MARKS]
    quiz = quiz_figures(scores, len(SLOTS), sum(f.mark_variance for f in FIGURES.values()))
    got = {
        "median": quiz.median, "firstattemptsavg": quiz.mean, "firstattemptscount": quiz.attempts,
        "standarddeviation": quiz.standard_deviation, "skewness": quiz.skewness, "kurtosis": quiz.kurtosis,
        "cic": quiz.internal_consistency, "errorratio": quiz.error_ratio, "standarderror": quiz.standard_error,
    }
    for name, value in got.items():
        assert value == pytest.approx(float(expected[name]), rel=1e-6), name


def test_intended_weight_and_figures_that_need_more_attempts():
    figures = question_figures([{"a": 1.0, "b": 2.0}], {"a": 1.0, "b": 3.0})
    assert [f.intended_weight for f in figures] == [25.0, 75.0]
    assert figures[0].facility == 1 and figures[1].facility == pytest.approx(2 / 3)
    assert (figures[0].sd, figures[0].discrimination_index, figures[0].effective_weight) == (None, None, None)
    quiz = quiz_figures([3.0], 2, 0.0)
    assert (quiz.attempts, quiz.mean, quiz.median, quiz.standard_deviation, quiz.internal_consistency) == (1, 3.0, 3.0, None, None)
    assert quiz_figures([], 2, 0.0).mean is None


@pytest.mark.parametrize(
    "kind, weights, distinct, expected",
    [
        ("truefalse", (), 0, 0.5),
        ("single", (100, 0, 0, 0), 0, 0.25),
        ("single", (100, 50, 0), 0, 0.5),
        ("multiple", (50, 50, -100), 0, None),
        ("matching", (), 5, 0.2),
        ("shortanswer", (("Frog", 100), (None, 10)), 0, 0.1),
        ("numerical", (("1822", 100),), 0, 0.0),
    ],
)
def test_random_guess_score_per_type(kind, weights, distinct, expected):
    assert random_guess_score(kind, weights, distinct) == expected


@dataclass
class Attempt:
    learner: str
    started: int
    score: float


ATTEMPTS = [Attempt("ann", 1, 40), Attempt("bob", 2, 90), Attempt("ann", 3, 80), Attempt("ann", 4, 80), Attempt("bob", 5, 60)]


@pytest.mark.parametrize(
    "which, chosen",
    [("highest", [2, 3]), ("first", [1, 2]), ("last", [4, 5]), ("all", [1, 2, 3, 4, 5])],
)
def test_attempts_are_chosen_as_moodle_chooses_them(which, chosen):
    assert [a.started for a in select_attempts(ATTEMPTS, which)] == chosen


def test_highest_is_the_default_and_unknown_choices_are_refused():
    assert select_attempts(ATTEMPTS) == select_attempts(ATTEMPTS, "highest")
    with pytest.raises(ValueError, match="which must be one of"):
        select_attempts(ATTEMPTS, "best")
