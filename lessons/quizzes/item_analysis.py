"""Quiz item analysis as Moodle's quiz statistics report defines it, over plain data.

Moodle's code is the definition: core_question\\statistics\\questions\\calculator (per
question) and quiz_statistics\\calculator (per quiz), documented at
https://docs.moodle.org/dev/Quiz_statistics_calculations.

Per question, over the attempts that contain it (x = mark on the question, y = the
attempt's total on the other questions, variances and covariances with n - 1):
- facility: mean(x) / max mark; sd: standard deviation of x (in marks);
- discrimination index: 100 · cov(x, y) / sqrt(var(x) · var(y));
- discriminative efficiency: 100 · cov(x, y) / cov_max, where cov_max pairs sorted x
  with sorted y (the largest covariance those marks allow);
- intended weight: 100 · max mark / sum of max marks; effective weight:
  100 · sqrt(cov(x, total)) / sum over questions of sqrt(cov(x, total)), None for a
  question whose covariance with the total is negative;
- random guess score: the mark a learner guessing at random can expect.
Per quiz, over the attempts' scores: count, mean, median, standard deviation, skewness
and kurtosis (sample estimates k3/k2^1.5 and k4/k2^2), coefficient of internal
consistency (Cronbach's alpha, %), error ratio (%) and standard error (in marks).
A figure that would divide by zero, or needs more attempts, is None.
"""

from dataclasses import dataclass
from math import sqrt

WHICH_ATTEMPTS = ("highest", "first", "last", "all")


def select_attempts(attempts, which="highest"):
    """The attempts whose marks count, as Moodle picks them for the quiz's grading method.

    `attempts` are finished attempts with .learner, .started and .score. "highest" (Moodle's
    default, following "highest grade") keeps each learner's best attempt, the earliest
    of equals; "first" and "last" keep one per learner by start; "all" keeps every one.
    """
    if which not in WHICH_ATTEMPTS:
        raise ValueError(f"which must be one of {', '.join(WHICH_ATTEMPTS)}, not {which!r}")
    ordered = sorted(attempts, key=lambda a: a.started)
    if which == "all":
        return ordered
    chosen = {}
    for attempt in ordered:
        best = chosen.get(attempt.learner)
        if (
            best is None
            or which == "last"
            or (which == "highest" and (attempt.score or 0) > (best.score or 0))
        ):
            chosen[attempt.learner] = attempt
    return sorted(chosen.values(), key=lambda a: a.started)


def random_guess_score(kind, weights=(), distinct_right_answers=0):
    """Moodle's get_random_guess_score() per question type, as a fraction of the mark.

    `weights` are the answers' percents (choices for single; accepted answers for numerical
    and short answer, with None as the text/value of a '*' answer given as (None, percent)).
    """
    if kind == "truefalse":
        return 0.5
    if kind == "single":
        return sum(float(w) for w in weights) / 100 / len(weights) if weights else None
    if kind == "matching":
        return 1 / distinct_right_answers if distinct_right_answers else None
    if kind in ("numerical", "shortanswer"):
        return next((float(w) / 100 for key, w in weights if key is None), 0.0)
    return None  # multiple response: Moodle does not try


@dataclass
class QuestionFigures:
    key: object
    s: int
    max_mark: float
    facility: float | None
    sd: float | None
    mark_variance: float | None
    other_mark_variance: float | None
    covariance: float | None
    covariance_max: float | None
    covariance_with_total: float | None
    discrimination_index: float | None
    discriminative_efficiency: float | None
    intended_weight: float | None
    effective_weight: float | None = None


def _sum_of_products(a, ma, b, mb):
    return sum((x - ma) * (y - mb) for x, y in zip(a, b))


def question_figures(marks, max_marks):
    """Per-question figures.

    `marks`: one dict per attempt, question key → mark on it (questions the attempt had).
    `max_marks`: question key → max mark, in the quiz's order.
    """
    totals = [sum(m.values()) for m in marks]
    quiz_max = sum(max_marks.values())
    figures = []
    for key, max_mark in max_marks.items():
        x = [m[key] for m in marks if key in m]
        total = [t for m, t in zip(marks, totals) if key in m]
        y = [t - xi for t, xi in zip(total, x)]
        s = len(x)
        mx = sum(x) / s if s else 0
        my = sum(y) / s if s else 0
        mt = sum(total) / s if s else 0
        if s > 1:
            var_x = _sum_of_products(x, mx, x, mx) / (s - 1)
            var_y = _sum_of_products(y, my, y, my) / (s - 1)
            cov = _sum_of_products(x, mx, y, my) / (s - 1)
            cov_max = _sum_of_products(sorted(x), mx, sorted(y), my) / (s - 1)
            cov_total = _sum_of_products(x, mx, total, mt) / (s - 1)
            sd = sqrt(var_x)
        else:
            var_x = var_y = cov = cov_max = cov_total = sd = None
        figures.append(
            QuestionFigures(
                key, s, max_mark,
                facility=mx / max_mark if s and max_mark else None,
                sd=sd, mark_variance=var_x, other_mark_variance=var_y, covariance=cov, covariance_max=cov_max,
                covariance_with_total=cov_total,
                discrimination_index=100 * cov / sqrt(var_x * var_y) if var_x and var_y else None,
                discriminative_efficiency=100 * cov / cov_max if cov_max else None,
                intended_weight=100 * max_mark / quiz_max if quiz_max else None,
            )
        )
    roots = sum(sqrt(f.covariance_with_total) for f in figures if f.covariance_with_total is not None and f.covariance_with_total >= 0)
    for f in figures:
        if roots and f.covariance_with_total is not None and f.covariance_with_total >= 0:
            f.effective_weight = 100 * sqrt(f.covariance_with_total) / roots
    return figures


@dataclass
class QuizFigures:
    attempts: int
    mean: float | None
    median: float | None
    standard_deviation: float | None
    skewness: float | None
    kurtosis: float | None
    internal_consistency: float | None
    error_ratio: float | None
    standard_error: float | None


def quiz_figures(scores, questions, sum_of_mark_variance):
    """Quiz-level figures from the selected attempts' scores (in marks).

    `questions` is the number of questions (Moodle's p); `sum_of_mark_variance` the sum of
    the questions' mark variances from question_figures().
    """
    s = len(scores)
    figures = QuizFigures(s, None, None, None, None, None, None, None, None)
    if not s:
        return figures
    mean = sum(scores) / s
    ordered = sorted(scores)
    figures.mean = mean
    figures.median = ordered[s // 2] if s % 2 else (ordered[s // 2 - 1] + ordered[s // 2]) / 2
    if s < 2:
        return figures
    power2, power3, power4 = (sum((x - mean) ** k for x in scores) for k in (2, 3, 4))
    figures.standard_deviation = sqrt(power2 / (s - 1))
    if s < 3:
        return figures
    m2, m3, m4 = power2 / s, power3 / s, power4 / s
    k2 = s * m2 / (s - 1)
    k3 = s * s * m3 / ((s - 1) * (s - 2))
    if not k2:
        return figures
    figures.skewness = k3 / k2**1.5
    if s > 3:
        k4 = s * s * ((s + 1) * m4 - 3 * (s - 1) * m2 * m2) / ((s - 1) * (s - 2) * (s - 3))
        figures.kurtosis = k4 / (k2 * k2)
    if questions > 1:
        figures.internal_consistency = (100 * questions / (questions - 1)) * (1 - sum_of_mark_variance / k2)
        if figures.internal_consistency <= 100:
            figures.error_ratio = 100 * sqrt(1 - figures.internal_consistency / 100)
            figures.standard_error = figures.error_ratio * figures.standard_deviation / 100
    return figures
