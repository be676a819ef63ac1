"""Item statistics for one quiz, as Moodle's quiz statistics report defines them.

Computed from each learner's first finished attempt. Each question is worth 1 mark;
x is a learner's mark on the question, y their total on the rest of the quiz.
- Facility index: mean of x, as a percent.
- Discrimination index: 100 · cov(x, y) / sqrt(var(x) · var(y)).
- Discriminative efficiency: 100 · cov(x, y) / cov_max(x, y), where cov_max pairs the
  sorted x values with the sorted y values (the largest covariance those marks allow).
Variances and covariances use n − 1. A figure that would divide by zero is None.
"""

from collections import Counter
from math import sqrt

from .models import Attempt, Response


def _cov(a, b):
    n = len(a)
    if n < 2:
        return None
    ma, mb = sum(a) / n, sum(b) / n
    return sum((x - ma) * (y - mb) for x, y in zip(a, b)) / (n - 1)


def first_attempts(quiz):
    seen, firsts = set(), []
    for attempt in Attempt.objects.filter(quiz=quiz, finished_at__isnull=False).order_by("started_at", "pk"):
        if attempt.session_key not in seen:
            seen.add(attempt.session_key)
            firsts.append(attempt)
    return firsts


def quiz_statistics(quiz):
    attempts = first_attempts(quiz)
    questions = list(quiz.questions.prefetch_related("choices").order_by("archived", "position"))
    marks = {a.pk: {} for a in attempts}
    picks = {q.pk: Counter() for q in questions}
    for r in Response.objects.filter(attempt__in=attempts):
        marks[r.attempt_id][r.question_id] = r.score
        picks.setdefault(r.question_id, Counter()).update(r.selected)
    totals = {a: sum(m.values()) for a, m in marks.items()}
    rows = []
    for q in questions:
        answered = [a.pk for a in attempts if q.pk in marks[a.pk]]
        if not answered and q.archived:
            continue
        x = [marks[a][q.pk] for a in answered]
        y = [totals[a] - marks[a][q.pk] for a in answered]
        cov, var_x, var_y = _cov(x, y), _cov(x, x), _cov(y, y)
        cov_max = _cov(sorted(x), sorted(y))
        rows.append(
            {
                "question": q,
                "attempts": len(x),
                "facility": 100 * sum(x) / len(x) if x else None,
                "discrimination": 100 * cov / sqrt(var_x * var_y) if cov is not None and var_x and var_y else None,
                "efficiency": 100 * cov / cov_max if cov is not None and cov_max else None,
                "choices": [(c, picks[q.pk][c.pk]) for c in q.choices.all()],
            }
        )
    scores = [a.score for a in attempts]
    return {
        "attempts": len(attempts),
        "all_attempts": Attempt.objects.filter(quiz=quiz, finished_at__isnull=False).count(),
        "average": sum(scores) / len(scores) if scores else None,
        "questions": rows,
    }
