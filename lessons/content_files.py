"""The course as files: read and validate, load into the database, write back.

Layout and formats: lessons/content/README.md. Import is validated (every error names a
file and line), atomic, idempotent (upsert by slug/key/name) and never deletes what an
instructor or learner saved. Export writes the canonical form that import reads back
byte for byte.
"""

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from . import gift
from .models import TIERS, Choice, Diagram, Lesson, Question, Quiz, Reference, Status, Term, TierText
from .rendering import Glossary, check_svg

CONTENT_DIR = Path(__file__).resolve().parent / "content"
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
REFERENCE_FIELDS = ["key", "authors", "title", "journal", "year", "volume", "pages", "doi", "pmid", "url"]
TERM_TEXT_FIELDS = ["short_fundamentals", "short_intermediate", "short_academic"]


class ContentError(Exception):
    def __init__(self, errors):
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass
class Source:
    path: Path
    text: str

    def line_of(self, needle, default=1):
        at = self.text.find(needle) if needle else -1
        return self.text.count("\n", 0, at) + 1 if at >= 0 else default

    def where(self, line):
        return f"{self.path}:{line}"


@dataclass
class Course:
    references: list = field(default_factory=list)  # (Source, dict)
    terms: list = field(default_factory=list)
    diagrams: list = field(default_factory=list)  # (Source, slug, svg)
    lessons: list = field(default_factory=list)  # (Source, dict, {tier: (Source, front, body)}, {tier: (Source, QuizData)})


def _toml(source, errors):
    try:
        return tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or 1
        errors.append(f"{source.where(line)}: bad TOML: {getattr(exc, 'msg', exc)}")
        return None


def _check_keys(source, data, allowed, required, what, errors, anchor=""):
    line = source.line_of(anchor)
    for key in data:
        if key not in allowed:
            errors.append(f"{source.where(source.line_of(key + ' =', line))}: unknown field '{key}' in {what}")
    for key in required:
        if data.get(key) in (None, ""):
            errors.append(f"{source.where(line)}: missing {key} in {what}")


def _str(value):
    return value.strip() if isinstance(value, str) else value


def read_course(root=CONTENT_DIR):
    """Read and validate every file under root; raise ContentError listing all problems."""
    root = Path(root)
    errors, course = [], Course()
    if not root.is_dir():
        raise ContentError([f"{root}: no such content folder"])

    path = root / "references.toml"
    if path.exists():
        src = Source(path, path.read_text(encoding="utf-8"))
        data = _toml(src, errors)
        if data is not None:
            seen = set()
            for entry in data.get("reference", []):
                key = entry.get("key", "")
                anchor = f'key = "{key}"'
                _check_keys(src, entry, REFERENCE_FIELDS, ["key", "authors", "title", "year"], f"reference '{key}'", errors, anchor)
                if key in seen:
                    errors.append(f"{src.where(src.line_of(anchor))}: duplicate reference key '{key}'")
                seen.add(key)
                if not any(entry.get(k) for k in ("doi", "pmid", "url")):
                    errors.append(f"{src.where(src.line_of(anchor))}: reference '{key}' needs a doi, pmid or url")
                if not isinstance(entry.get("year", 0), int):
                    errors.append(f"{src.where(src.line_of(anchor))}: year of '{key}' must be a number")
                course.references.append((src, {k: _str(entry.get(k, "")) for k in REFERENCE_FIELDS}))

    path = root / "glossary.toml"
    if path.exists():
        src = Source(path, path.read_text(encoding="utf-8"))
        data = _toml(src, errors)
        if data is not None:
            allowed = ["slug", "term", "aliases", "case_sensitive", "short", *TERM_TEXT_FIELDS, "see_also", "body"]
            slugs, names = set(), {}
            entries = data.get("term", [])
            for entry in entries:
                slug = entry.get("slug", "")
                anchor = f'slug = "{slug}"'
                line = src.line_of(anchor)
                _check_keys(src, entry, allowed, ["slug", "term", "short"], f"term '{slug}'", errors, anchor)
                if slug and not SLUG.match(slug):
                    errors.append(f"{src.where(line)}: term slug '{slug}' must be lowercase words joined by '-'")
                if slug in slugs:
                    errors.append(f"{src.where(line)}: duplicate term slug '{slug}'")
                slugs.add(slug)
                for key in ["short", *TERM_TEXT_FIELDS]:
                    if len(entry.get(key, "")) > 250:
                        errors.append(f"{src.where(line)}: {key} of '{slug}' is longer than 250 characters")
                for name in [entry.get("term", ""), *entry.get("aliases", [])]:
                    folded = name.strip().lower()
                    if folded in names and names[folded] != slug:
                        errors.append(f"{src.where(line)}: '{name}' of '{slug}' is already a name of '{names[folded]}'")
                    names[folded] = slug
            for entry in entries:
                for other in entry.get("see_also", []):
                    if other not in slugs:
                        line = src.line_of(f'slug = "{entry.get("slug")}"')
                        errors.append(f"{src.where(line)}: see_also of '{entry.get('slug')}' names unknown term '{other}'")
                course.terms.append((src, entry))

    for path in sorted((root / "diagrams").glob("*.svg")):
        src = Source(path, path.read_text(encoding="utf-8"))
        try:
            check_svg(src.text)
        except ValueError as exc:
            errors.append(f"{src.where(1)}: {exc}")
        course.diagrams.append((src, path.stem, src.text.strip()))

    slugs_by_order = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "diagrams"):
        path = folder / "lesson.toml"
        if not path.exists():
            errors.append(f"{path}: missing lesson.toml (every lesson folder needs one)")
            continue
        if not SLUG.match(folder.name):
            errors.append(f"{folder}: lesson folder name '{folder.name}' is not a valid slug")
        src = Source(path, path.read_text(encoding="utf-8"))
        meta = _toml(src, errors)
        if meta is None:
            continue
        _check_keys(src, meta, ["title", "summary", "order", "status", "quiz"], ["title", "summary", "order"], "lesson.toml", errors)
        if meta.get("status", "draft") not in Status.values:
            errors.append(f"{src.where(src.line_of('status'))}: status must be 'draft' or 'published'")
        if meta.get("order") in slugs_by_order:
            errors.append(f"{src.where(src.line_of('order'))}: order {meta['order']} is also used by '{slugs_by_order[meta['order']]}'")
        slugs_by_order[meta.get("order")] = folder.name
        quiz_meta = meta.get("quiz", {})
        _check_keys(src, quiz_meta, ["pass_mark", "shuffle"], [], "[quiz]", errors)
        tiers, quizzes = {}, {}
        for path in sorted(folder.iterdir()):
            if path.name == "lesson.toml":
                continue
            if path.suffix not in {".md", ".gift"}:
                errors.append(f"{path}: unexpected file (expected <tier>.md or <tier>.gift)")
                continue
            if path.stem not in TIERS:
                errors.append(f"{path}:1: unknown tier '{path.stem}' (use {', '.join(TIERS)})")
                continue
            tsrc = Source(path, path.read_text(encoding="utf-8"))
            if path.suffix == ".md":
                parsed = _read_tier(tsrc, errors)
                if parsed:
                    tiers[path.stem] = (tsrc, *parsed)
            else:
                try:
                    quizzes[path.stem] = (tsrc, gift.parse(tsrc.text))
                except gift.GiftError as exc:
                    errors.append(f"{tsrc.where(exc.line)}: {exc.message}")
        for tier in TIERS:
            if tier not in tiers:
                errors.append(f"{folder / (tier + '.md')}: missing tier file")
        for tier in quizzes:
            if tier not in tiers:
                errors.append(f"{quizzes[tier][0].path}: quiz for a tier that has no text")
        course.lessons.append((src, folder.name, meta, tiers, quizzes))

    if errors:
        raise ContentError(errors)
    return course


def _read_tier(src, errors):
    text = src.text
    if not text.startswith("+++\n"):
        errors.append(f"{src.where(1)}: a tier file must start with TOML front matter between '+++' lines")
        return None
    end = text.find("\n+++\n", 3)
    if end < 0:
        errors.append(f"{src.where(1)}: front matter has no closing '+++' line")
        return None
    front_src = Source(src.path, text[4 : end + 1])
    front = _toml(front_src, errors)
    if front is None:
        errors[-1] = re.sub(r":(\d+): bad TOML", lambda m: f":{int(m.group(1)) + 1}: bad TOML", errors[-1])
        return None
    for key in front:
        if key not in {"title", "summary", "objectives"}:
            errors.append(f"{src.where(src.line_of(key + ' ='))}: unknown front matter field '{key}'")
    if not front.get("title", "").strip():
        errors.append(f"{src.where(1)}: missing title in front matter")
    objectives = front.get("objectives", [])
    if not isinstance(objectives, list) or not all(isinstance(o, str) for o in objectives):
        errors.append(f"{src.where(src.line_of('objectives'))}: objectives must be a list of strings")
        objectives = []
    body = text[end + 5 :].strip()
    if not body:
        errors.append(f"{src.where(text.count(chr(10), 0, end) + 2)}: the tier has no text")
    return {"title": front.get("title", "").strip(), "summary": front.get("summary", "").strip(), "objectives": objectives}, body


# --- Loading into the database -----------------------------------------------------


@dataclass
class Summary:
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


def _upsert(model, lookup, values, summary=None, kind=""):
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
        obj.save()
    if summary is not None:
        summary.add(kind, outcome)
    return obj, outcome


def _sync_choices(question, choices):
    """Match choices by position; returns whether anything changed."""
    existing = list(question.choices.all())
    changed = len(existing) > len(choices)
    for i, c in enumerate(choices):
        values = {"text": c.text, "weight": c.weight, "feedback": c.feedback, "position": i}
        if i >= len(existing):
            Choice.objects.create(question=question, **values)
            changed = True
        elif any(getattr(existing[i], k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(existing[i], k, v)
            existing[i].save()
            changed = True
    for extra in existing[len(choices) :]:
        extra.delete()
    return changed


@transaction.atomic
def load_course(course, dry_run=False):
    """Write a validated Course to the database; roll everything back on any error."""
    from .signals import rerender, rerender_suspended

    with rerender_suspended():
        summary = _load(course)
    shared = ("references", "diagrams", "terms")
    if any(summary.counts.get(k, {}).get(o) for k in shared for o in ("created", "updated")):
        # Lessons made in the admin are not in the files; bring them up to date too.
        in_files = {slug for _, slug, *_ in course.lessons}
        rerender(TierText.objects.exclude(lesson__slug__in=in_files).select_related("lesson"))
    if dry_run:
        transaction.set_rollback(True)
    return summary


def _load(course):
    summary, errors = Summary(), []
    for src, entry in course.references:
        values = {k: entry[k] for k in REFERENCE_FIELDS if k != "key"}
        _upsert(Reference, {"key": entry["key"]}, values, summary, "references")
    for src, slug, svg in course.diagrams:
        _upsert(Diagram, {"slug": slug}, {"svg": svg}, summary, "diagrams")

    terms = {}
    for src, entry in course.terms:
        values = {
            "term": entry["term"].strip(),
            "aliases": [a.strip() for a in entry.get("aliases", [])],
            "case_sensitive": bool(entry.get("case_sensitive", False)),
            "short": entry["short"].strip(),
            "body": entry.get("body", "").strip(),
            **{k: entry.get(k, "").strip() for k in TERM_TEXT_FIELDS},
        }
        terms[entry["slug"]], _ = _upsert(Term, {"slug": entry["slug"]}, values, summary, "terms")
    for src, entry in course.terms:
        term = terms[entry["slug"]]
        wanted = entry.get("see_also", [])
        if sorted(term.see_also.values_list("slug", flat=True)) != sorted(wanted):
            term.see_also.set([terms[s] for s in wanted])

    glossary = Glossary.from_db()
    references = {r.key: r for r in Reference.objects.all()}
    diagrams = {d.slug: d.svg for d in Diagram.objects.all()}
    for src, slug, meta, tiers, quizzes in course.lessons:
        lesson, _ = _upsert(
            Lesson,
            {"slug": slug},
            {
                "title": meta["title"].strip(),
                "summary": meta["summary"].strip(),
                "order": meta["order"],
                "status": meta.get("status", Status.DRAFT),
            },
            summary,
            "lessons",
        )
        quiz_defaults = meta.get("quiz", {})
        for tier, (tsrc, front, body) in tiers.items():
            text = TierText.objects.filter(lesson=lesson, tier=tier).first() or TierText(lesson=lesson, tier=tier)
            created = text.pk is None
            before = (text.title, text.summary, text.objectives, text.body, text.html, text.toc, text.terms, text.citations)
            text.title, text.summary, text.objectives, text.body = front["title"], front["summary"], front["objectives"], body
            result = text.render(glossary=glossary, references=references, diagrams=diagrams)
            for message, needle in result.problems:
                errors.append(f"{tsrc.where(tsrc.line_of(needle))}: {message}")
            after = (text.title, text.summary, text.objectives, text.body, text.html, text.toc, text.terms, text.citations)
            if created or before != after:
                text.save(render=False)
                summary.add("tier texts", "created" if created else "updated")
            else:
                summary.add("tier texts", "unchanged")
            if tier in quizzes:
                qsrc, data = quizzes[tier]
                _load_quiz(text, data, quiz_defaults, summary, errors, qsrc)
    if errors:
        raise ContentError(errors)
    return summary


def _load_quiz(text, data, defaults, summary, errors, src=None):
    anchors = text.anchors
    for q in data.questions:
        if q.section and q.section not in anchors:
            where = src.where(q.line) if src else f"line {q.line}"
            errors.append(f"{where}: section '{q.section}' is not a heading anchor in {text}")
    pass_mark = data.pass_mark if data.pass_mark is not None else defaults.get("pass_mark", 70)
    shuffle = data.shuffle if data.shuffle is not None else defaults.get("shuffle", True)
    quiz, _ = _upsert(Quiz, {"tier": text}, {"pass_mark": pass_mark, "shuffle": shuffle}, summary, "quizzes")
    keep = []
    for position, q in enumerate(data.questions):
        question, outcome = _upsert(
            Question,
            {"quiz": quiz, "name": q.name},
            {"kind": q.kind, "text": q.text, "explanation": q.explanation, "section": q.section, "position": position, "archived": False},
        )
        if _sync_choices(question, q.choices) and outcome == "unchanged":
            outcome = "updated"
        summary.add("questions", outcome)
        keep.append(question.pk)
    for question in quiz.questions.filter(archived=False).exclude(pk__in=keep):
        # Past answers point at this question, so it is hidden rather than deleted.
        question.archived = True
        question.save()
        summary.add("questions", "archived")
    return quiz


def import_quiz(quiz, source):
    """Admin upload: replace one quiz's questions from GIFT text (atomic)."""
    data = gift.parse(source)
    summary, errors = Summary(), []
    with transaction.atomic():
        _load_quiz(quiz.tier, data, {"pass_mark": quiz.pass_mark, "shuffle": quiz.shuffle}, summary, errors)
        if errors:
            raise ContentError(errors)
    return summary


# --- Writing back -------------------------------------------------------------------


def toml_string(value):
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    out = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", out)
    return '"' + out.replace("\n", "\\n").replace("\t", "\\t") + '"'


def toml_multiline(value):
    out = value.replace("\\", "\\\\").replace('"""', '""\\"')
    return '"""\n' + out + '\n"""'


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + "".join(f"  {toml_string(v)},\n" for v in value) + "]"
    if "\n" in value:
        return toml_multiline(value)
    return toml_string(value)


def toml_table(pairs):
    return "".join(f"{k} = {toml_value(v)}\n" for k, v in pairs)


def quiz_data(quiz, defaults=None):
    defaults = defaults or {"pass_mark": 70, "shuffle": True}
    data = gift.QuizData(
        pass_mark=quiz.pass_mark if quiz.pass_mark != defaults["pass_mark"] else None,
        shuffle=quiz.shuffle if quiz.shuffle != defaults["shuffle"] else None,
    )
    for q in quiz.questions.active().prefetch_related("choices"):
        data.questions.append(
            gift.QuestionData(
                q.name, q.kind, q.text, [gift.ChoiceData(c.text, c.weight, c.feedback) for c in q.choices.all()],
                q.explanation, q.section,
            )
        )
    return data


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

    terms = []
    for t in Term.objects.order_by("slug").prefetch_related("see_also"):
        pairs = [("slug", t.slug), ("term", t.term), ("aliases", t.aliases), ("case_sensitive", t.case_sensitive), ("short", t.short)]
        pairs += [(k, getattr(t, k)) for k in TERM_TEXT_FIELDS if getattr(t, k)]
        pairs.append(("see_also", sorted(s.slug for s in t.see_also.all())))
        if t.body:
            pairs.append(("body", t.body + "\n" if "\n" not in t.body else t.body))
        terms.append("[[term]]\n" + toml_table(pairs))
    put(root / "glossary.toml", "\n".join(terms))

    for d in Diagram.objects.all():
        put(root / "diagrams" / f"{d.slug}.svg", d.svg + "\n")

    for lesson in Lesson.objects.prefetch_related("tiers"):
        tiers = {t.tier: t for t in lesson.tiers.all()}
        quizzes = {t: Quiz.objects.filter(tier=tiers[t]).first() for t in tiers}
        first = next((q for q in quizzes.values() if q), None)
        defaults = {"pass_mark": first.pass_mark if first else 70, "shuffle": first.shuffle if first else True}
        meta = toml_table([("title", lesson.title), ("summary", lesson.summary), ("order", lesson.order), ("status", lesson.status)])
        meta += "\n[quiz]\n" + toml_table(defaults.items())
        put(root / lesson.slug / "lesson.toml", meta)
        for tier, text in tiers.items():
            front = toml_table([("title", text.title), ("summary", text.summary), ("objectives", text.objectives)])
            put(root / lesson.slug / f"{tier}.md", f"+++\n{front}+++\n\n{text.body}\n")
            if quizzes[tier] and quizzes[tier].questions.active().exists():
                put(root / lesson.slug / f"{tier}.gift", gift.write(quiz_data(quizzes[tier], defaults)))
    return written
