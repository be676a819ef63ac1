"""Write the database back as course files, in the canonical form that read.py reads
back byte for byte (TOML by tomli-w)."""

from decimal import Decimal
from pathlib import Path

import tomli_w

from ..quizzes import gift
from ..models import Diagram, Lesson, Quiz, Reference, Term
from .read import REFERENCE_FIELDS, TERM_TEXT_FIELDS


def toml_table(pairs) -> str:
    return tomli_w.dumps(dict(pairs), multiline_strings=True, indent=2)


def _exact(value):
    """A stored Decimal without the trailing zeros the column adds (33.33333000 → 33.33333)."""
    return None if value is None else Decimal(format(Decimal(value).normalize(), "f"))


def question_data(q) -> gift.QuestionData:
    """One stored question (choices prefetched) as the QuestionData that gift.write() writes."""
    data = gift.QuestionData(
        q.name, q.kind, q.text, explanation=q.explanation, section=q.section, title=q.title, text_format=q.text_format,
        explanation_format=q.explanation_format, idnumber=q.idnumber, tags=list(q.tags), category=q.category,
    )
    rows = list(q.choices.all())
    if q.kind == "matching":
        data.pairs = [gift.PairData(c.text, c.match, c.text_format) for c in rows]
    elif q.kind == "numerical":
        data.numbers = [
            gift.NumericalAnswer(
                _exact(c.value), _exact(c.tolerance or 0), _exact(c.weight), c.feedback, c.feedback_format,
                range=(_exact(c.minimum), _exact(c.maximum)) if c.minimum is not None else None,
            )
            for c in rows
        ]
    elif q.kind == "shortanswer":
        data.answers = [gift.ShortAnswer(c.text, _exact(c.weight), c.feedback, c.feedback_format) for c in rows]
    else:
        data.choices = [
            gift.ChoiceData(c.text, int(c.weight), c.feedback, _exact(c.weight), c.text_format, c.feedback_format) for c in rows
        ]
    return data


def quiz_data(quiz, defaults=None):
    defaults = defaults or {"pass_mark": 70, "shuffle": True}
    data = gift.QuizData(
        pass_mark=quiz.pass_mark if quiz.pass_mark != defaults["pass_mark"] else None,
        shuffle=quiz.shuffle if quiz.shuffle != defaults["shuffle"] else None,
    )
    for q in quiz.questions.active().prefetch_related("choices"):
        data.questions.append(question_data(q))
    return data


def _term_pairs(t):
    pairs = [("slug", t.slug), ("term", t.term), ("aliases", t.aliases), ("case_sensitive", t.case_sensitive), ("short", t.short)]
    pairs += [(k, getattr(t, k)) for k in TERM_TEXT_FIELDS if getattr(t, k)]
    pairs += [(k, getattr(t, k)) for k in ("evidence", "evidence_note") if getattr(t, k)]
    pairs.append(("see_also", sorted(s.slug for s in t.see_also.all())))
    if t.body:
        pairs.append(("body", t.body + "\n"))
    return pairs


def export_course(root):
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    written = []

    def put(path, text):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    refs = [
        "[[reference]]\n" + toml_table((k, getattr(r, k)) for k in REFERENCE_FIELDS)
        for r in Reference.objects.order_by("key")
    ]
    put(root / "references.toml", "\n".join(refs))
    terms = ["[[term]]\n" + toml_table(_term_pairs(t)) for t in Term.objects.order_by("slug").prefetch_related("see_also")]
    put(root / "glossary.toml", "\n".join(terms))

    for d in Diagram.objects.all():
        put(root / "diagrams" / f"{d.slug}.svg", d.svg + "\n")

    for lesson in Lesson.objects.prefetch_related("tiers"):
        tiers = {t.tier: t for t in lesson.tiers.all()}
        quizzes = {t: Quiz.objects.filter(text=tiers[t]).first() for t in tiers}
        first = next((q for q in quizzes.values() if q), None)
        defaults = {"pass_mark": first.pass_mark if first else 70, "shuffle": first.shuffle if first else True}
        meta = toml_table([("title", lesson.title), ("summary", lesson.summary), ("order", lesson.order), ("status", lesson.status)])
        meta += "\n[quiz]\n" + toml_table(defaults.items())
        put(root / lesson.slug / "lesson.toml", meta)
        for tier, text in tiers.items():
            front = [("title", text.title), ("summary", text.summary), ("objectives", text.objectives)]
            if text.reviewed:
                front.append(("reviewed", text.reviewed))
            put(root / lesson.slug / f"{tier}.md", f"+++\n{toml_table(front)}+++\n\n{text.body}\n")
            if quizzes[tier] and quizzes[tier].questions.active().exists():
                put(root / lesson.slug / f"{tier}.gift", gift.write(quiz_data(quizzes[tier], defaults), moodle=True))
    return written
