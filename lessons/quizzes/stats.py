"""Item statistics for one quiz: loads the attempts and hands plain marks to lessons.quizzes.item_analysis.

Each question is worth 1 mark. As in Moodle's report, the attempts counted follow the
grading method (each learner's highest-scoring attempt) unless the instructor picks
first, last or all, and attempts made by staff (Moodle's previews) are left out.
"""

from collections import Counter
from types import SimpleNamespace

from .item_analysis import WHICH_ATTEMPTS, question_figures, quiz_figures, random_guess_score, select_attempts
from ..models import Answer, Attempt


def _percent(value):
    return None if value is None else 100 * value


# Moodle marks a question "likely to be poor" when its discriminative efficiency is below this.
DUBIOUS_EFFICIENCY = 15


def _guess(question):
    weights = [c.weight for c in question.choices.all()]
    if question.kind in ("numerical", "shortanswer"):
        wild = [(None, c.weight) for c in question.choices.all() if (c.text or "").strip() == "*" or (question.kind == "numerical" and c.value is None)]
        return random_guess_score(question.kind, wild)
    if question.kind == "matching":
        return random_guess_score("matching", distinct_right_answers=len({c.match for c in question.choices.all() if c.match}))
    return random_guess_score(question.kind, weights)


def quiz_statistics(quiz, which="highest"):
    if which not in WHICH_ATTEMPTS:
        which = "highest"
    finished = list(Attempt.objects.filter(quiz=quiz, finished_at__isnull=False).exclude(user__is_staff=True))
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
            "dubious": f.discriminative_efficiency is not None and f.discriminative_efficiency < DUBIOUS_EFFICIENCY,
            "guess": _percent(_guess(q)),
            "intended_weight": f.intended_weight,
            "effective_weight": f.effective_weight,
            "choices": [
                (c, picks[q.pk][c.pk], round(100 * picks[q.pk][c.pk] / f.s) if f.s else 0) for c in q.choices.all()
            ],
        }
        for q, f in zip(shown, figures)
    ]
    scores = [a.score for a in finished if a.pk in marks]
    return {
        "which": which,
        "attempts": len(attempts),
        "all_attempts": len(finished),
        "average": sum(scores) / len(scores) if scores else None,
        "quiz": quiz_figures([sum(m.values()) for m in marks.values()], len(shown), sum(f.mark_variance or 0 for f in figures)),
        "questions": rows,
    }
