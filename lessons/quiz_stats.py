"""Item statistics for one quiz: loads the attempts and hands plain marks to lessons.item_analysis.

Each question is worth 1 mark. The admin page still uses each learner's first finished
attempt (which="first"); Moodle's default, the highest-scoring attempt, is which="highest".
"""

from collections import Counter
from types import SimpleNamespace

from .item_analysis import question_figures, quiz_figures, select_attempts
from .models import Answer, Attempt


def _percent(value):
    return None if value is None else 100 * value


def quiz_statistics(quiz, which="first"):
    finished = list(Attempt.objects.filter(quiz=quiz, finished_at__isnull=False))
    records = [SimpleNamespace(learner=a.learner, started=(a.started_at, a.pk), score=a.score, pk=a.pk) for a in finished]
    attempts = [r.pk for r in select_attempts(records, which)]
    questions = list(quiz.questions.prefetch_related("choices").order_by("archived", "position"))
    marks = {pk: {} for pk in attempts}
    picks = {q.pk: Counter() for q in questions}
    for r in Answer.objects.filter(attempt__in=attempts):
        marks[r.attempt_id][r.question_id] = r.score
        picks.setdefault(r.question_id, Counter()).update(r.selected)
    shown = [q for q in questions if not q.archived or any(q.pk in m for m in marks.values())]
    figures = question_figures(list(marks.values()), {q.pk: 1.0 for q in shown})
    rows = [
        {
            "question": q,
            "attempts": f.s,
            "facility": _percent(f.facility),
            "sd": _percent(f.sd),
            "discrimination": f.discrimination_index,
            "efficiency": f.discriminative_efficiency,
            "intended_weight": f.intended_weight,
            "effective_weight": f.effective_weight,
            "choices": [(c, picks[q.pk][c.pk]) for c in q.choices.all()],
        }
        for q, f in zip(shown, figures)
    ]
    scores = [a.score for a in finished if a.pk in marks]
    return {
        "attempts": len(attempts),
        "all_attempts": len(finished),
        "average": sum(scores) / len(scores) if scores else None,
        "quiz": quiz_figures([sum(m.values()) for m in marks.values()], len(shown), sum(f.mark_variance or 0 for f in figures)),
        "questions": rows,
    }
