"""Load a checked Course into the database: one transaction, upsert by slug/key/name.

Never deletes what an instructor or learner saved: a question dropped from a file is
archived. Tier texts are rendered once here, against sources loaded once, instead of
being re-rendered after every glossary or reference row is saved.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from ..quizzes import gift
from ..models import (
    Choice, Diagram, Lesson, Question, Quiz, Reference, Status, Term, TierText, check_names, check_weights, load_render_sources,
    rerender,
)
from ..rendering import check_markdown
from .read import REFERENCE_FIELDS, TERM_TEXT_FIELDS, ContentError


@dataclass
class ImportSummary:
    """How many rows of each kind were created, updated, left unchanged or archived."""

    counts: dict = field(default_factory=dict)

    def add(self, kind, outcome):
        self.counts.setdefault(kind, {"created": 0, "updated": 0, "unchanged": 0, "archived": 0})
        self.counts[kind][outcome] += 1

    @property
    def changed(self):
        return any(c["created"] or c["updated"] or c["archived"] for c in self.counts.values())

    def lines(self):
        for kind, c in self.counts.items():
            extra = f", {c['archived']} archived" if c["archived"] else ""
            yield f"{kind}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged{extra}"


def _upsert(model, lookup, values, summary=None, kind="", **save_kwargs):
    """Create or update one row; returns it and "created", "updated" or "unchanged"."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        outcome = "created"
    elif all(getattr(obj, k) == v for k, v in values.items()):
        outcome = "unchanged"
    else:
        for k, v in values.items():
            setattr(obj, k, v)
        outcome = "updated"
    if outcome != "unchanged":
        obj.save(**save_kwargs)
    if summary is not None:
        summary.add(kind, outcome)
    return obj, outcome


def answer_rows(q) -> list:
    """A parsed question's answers as Choice field values, whatever its kind. A format left
    empty (data built in code) is the question text's format, as in GIFT."""
    fmt = q.text_format or "markdown"
    blank = {"text": "", "weight": Decimal(0), "feedback": "", "match": "", "value": None,
             "tolerance": None, "minimum": None, "maximum": None, "text_format": fmt, "feedback_format": fmt}
    if q.kind == "matching":
        return [{**blank, "text": p.left, "match": p.right, "text_format": p.left_format or fmt} for p in q.pairs]
    if q.kind == "numerical":
        return [
            {**blank, "weight": a.weight, "feedback": a.feedback, "value": a.value, "tolerance": a.tolerance,
             "minimum": a.range[0] if a.range else None, "maximum": a.range[1] if a.range else None,
             "feedback_format": a.feedback_format or fmt}
            for a in q.numbers
        ]
    if q.kind == "shortanswer":
        return [
            {**blank, "text": a.text, "weight": a.weight, "feedback": a.feedback, "feedback_format": a.feedback_format or fmt}
            for a in q.answers
        ]
    return [
        {**blank, "text": c.text, "weight": c.percent if c.percent is not None else Decimal(c.weight), "feedback": c.feedback,
         "text_format": c.text_format or fmt, "feedback_format": c.feedback_format or fmt}
        for c in q.choices
    ]


def question_values(q, position) -> dict:
    """A parsed question's own fields as Question field values (everything GIFT carries)."""
    fmt = q.text_format or "markdown"
    return {
        "title": q.title, "idnumber": q.idnumber, "tags": list(q.tags), "category": q.category, "kind": q.kind,
        "text": q.text, "text_format": fmt, "explanation": q.explanation, "explanation_format": q.explanation_format or fmt,
        "section": q.section, "position": position, "archived": False,
    }


def _same(a, b):
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return a is not None and b is not None and Decimal(a) == Decimal(b)
    return a == b


def _sync_choices(question, rows):
    """Match answer rows by position; returns whether anything changed."""
    existing = list(question.choices.all())
    changed = len(existing) > len(rows)
    for i, row in enumerate(rows):
        values = {**row, "position": i}
        if i >= len(existing):
            Choice.objects.create(question=question, **values)
            changed = True
        elif not all(_same(getattr(existing[i], k), v) for k, v in values.items()):
            for k, v in values.items():
                setattr(existing[i], k, v)
            existing[i].save()
            changed = True
    for extra in existing[len(rows) :]:
        extra.delete()
    return changed


@transaction.atomic
def load_course(course, dry_run=False):
    """Write a validated Course to the database; roll everything back on any error."""
    summary = _load(course)
    shared = ("references", "diagrams", "terms")
    if any(summary.counts.get(k, {}).get(o) for k in shared for o in ("created", "updated")):
        # Lessons made in the admin are not in the files; bring them up to date too.
        in_files = {lesson.slug for lesson in course.lessons}
        rerender(TierText.objects.exclude(lesson__slug__in=in_files).select_related("lesson"))
    if dry_run:
        transaction.set_rollback(True)
    return summary


def _term_values(fields):
    return {
        "term": fields["term"].strip(),
        "aliases": [a.strip() for a in fields.get("aliases", [])],
        "case_sensitive": bool(fields.get("case_sensitive", False)),
        "short": fields["short"].strip(),
        "body": fields.get("body", "").strip(),
        "evidence": fields.get("evidence", ""),
        "evidence_note": fields.get("evidence_note", "").strip(),
        **{k: fields.get(k, "").strip() for k in TERM_TEXT_FIELDS},
    }


def _load(course):
    summary, errors = ImportSummary(), []
    for entry in course.references:
        values = {k: entry.fields[k] for k in REFERENCE_FIELDS if k != "key"}
        _upsert(Reference, {"key": entry.fields["key"]}, values, summary, "references", rerender_texts=False)
    for entry in course.diagrams:
        _upsert(Diagram, {"slug": entry.slug}, {"svg": entry.svg}, summary, "diagrams", rerender_texts=False)

    in_file = {entry.fields["slug"] for entry in course.terms}
    others = list(Term.objects.exclude(slug__in=in_file))
    terms = {}
    for entry in course.terms:
        values = _term_values(entry.fields)
        try:
            check_names([values["term"], *values["aliases"]], others)
        except ValidationError as exc:
            errors.extend(f"{entry.source.where(entry.source.line_of(entry.fields['slug']))}: {m}" for m in exc.messages)
            continue
        terms[entry.fields["slug"]], _ = _upsert(
            Term, {"slug": entry.fields["slug"]}, values, summary, "terms", rerender_texts=False
        )
    for entry in course.terms:
        term = terms.get(entry.fields["slug"])
        wanted = entry.fields.get("see_also", [])
        if term and sorted(term.see_also.values_list("slug", flat=True)) != sorted(wanted):
            term.see_also.set([terms[s] for s in wanted if s in terms])

    sources = load_render_sources()
    for entry in course.lessons:
        meta = entry.meta
        lesson, _ = _upsert(
            Lesson,
            {"slug": entry.slug},
            {
                "title": meta["title"].strip(),
                "summary": meta["summary"].strip(),
                "order": meta["order"],
                "status": meta.get("status", Status.DRAFT),
            },
            summary,
            "lessons",
        )
        for tier, tier_entry in entry.tiers.items():
            _load_tier(lesson, tier, tier_entry, sources, summary, errors)
            if tier in entry.quizzes:
                quiz = entry.quizzes[tier]
                _load_quiz(lesson.tiers.get(tier=tier), quiz.data, meta.get("quiz", {}), summary, errors, quiz.source)
    if errors:
        raise ContentError(errors)
    return summary


def _load_tier(lesson, tier, entry, sources, summary, errors):
    text = TierText.objects.filter(lesson=lesson, tier=tier).first() or TierText(lesson=lesson, tier=tier)
    created = text.pk is None
    fields = ("title", "summary", "objectives", "reviewed", "body", "html", "toc", "terms", "citations")
    before = tuple(getattr(text, f) for f in fields)
    for key, value in entry.front.items():
        setattr(text, key, value)
    text.body = entry.body
    result = text.render(sources)
    src = entry.source
    for message, needle in result.problems:
        errors.append(f"{src.where(src.line_of(needle))}: {message}")
    if created or before != tuple(getattr(text, f) for f in fields):
        text.save(render=False)
        summary.add("tier texts", "created" if created else "updated")
    else:
        summary.add("tier texts", "unchanged")


def quiz_problems(text, data, src=None) -> list:
    """What stops these questions from belonging to this tier text: sections it lacks, text
    that cannot be rendered."""
    anchors, problems = text.anchors, []
    for q in data.questions:
        where = src.where(q.line) if src else f"line {q.line}"
        if q.section and q.section not in anchors:
            problems.append(f"{where}: section '{q.section}' is not a heading anchor in {text}")
        problems.extend(f"{where}: {m}" for m in check_markdown(q.text) + check_markdown(q.explanation))
        try:
            check_weights(q.kind, [row["weight"] for row in answer_rows(q)])
        except ValidationError as exc:
            problems.extend(f"{where}: {m}" for m in exc.messages)
        problems.extend(f"{where}: {m}" for m in _too_long(q))
    return problems


LIMITED = [(Question, "title", "the name"), (Question, "idnumber", "the [id:]"), (Question, "category", "the $CATEGORY path"),
           (Choice, "text", "an answer"), (Choice, "match", "a match"), (Choice, "feedback", "a feedback")]


def _too_long(q) -> list:
    """Text longer than its column (PostgreSQL would refuse the row), as messages."""
    values = {"title": [q.title], "idnumber": [q.idnumber], "category": [q.category]}
    for row in answer_rows(q):
        for key in ("text", "match", "feedback"):
            values.setdefault(key, []).append(row[key])
    problems = []
    for model, name, label in LIMITED:
        limit = model._meta.get_field(name).max_length
        longest = max((len(v) for v in values.get(name, [])), default=0)
        if longest > limit:
            problems.append(f"{label} is {longest:,} characters long; the limit is {limit:,}")
    return problems


def _load_quiz(text, data, defaults, summary, errors, src=None):
    problems = quiz_problems(text, data, src)
    if problems:
        # The import fails and rolls back; writing these rows first would be refused by
        # PostgreSQL (a text longer than its column) before the problems could be reported.
        errors.extend(problems)
        return
    pass_mark = data.pass_mark if data.pass_mark is not None else defaults.get("pass_mark", 70)
    shuffle = data.shuffle if data.shuffle is not None else defaults.get("shuffle", True)
    quiz, _ = _upsert(Quiz, {"text": text}, {"pass_mark": pass_mark, "shuffle": shuffle}, summary, "quizzes")
    keep = []
    for position, q in enumerate(data.questions):
        question, outcome = _upsert(Question, {"quiz": quiz, "name": q.name}, question_values(q, position))
        if _sync_choices(question, answer_rows(q)) and outcome == "unchanged":
            outcome = "updated"
        summary.add("questions", outcome)
        keep.append(question.pk)
    for question in quiz.questions.filter(archived=False).exclude(pk__in=keep):
        # Past answers point at this question, so it is hidden rather than deleted.
        question.archived = True
        question.save()
        summary.add("questions", "archived")
    return quiz


def import_quiz(quiz, source, pass_mark=None, shuffle=None):
    """Admin: replace one quiz's questions (and settings) from GIFT text, all or nothing."""
    data = gift.parse(source, moodle=True)
    summary, errors = ImportSummary(), []
    with transaction.atomic():
        defaults = {
            "pass_mark": quiz.pass_mark if pass_mark is None else pass_mark,
            "shuffle": quiz.shuffle if shuffle is None else shuffle,
        }
        _load_quiz(quiz.text, data, defaults, summary, errors)
        if errors:
            raise ContentError(errors)
    return summary
