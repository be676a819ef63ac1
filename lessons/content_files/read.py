"""Read the course files and check them: files → a Course of dataclasses, or ContentError.

Every error names the file and line. Nothing here touches the database; the rules that
are not about file layout (reference links, term names, SVG) are the models' own.
"""

import datetime
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError

from ..quizzes import gift
from ..models import TIERS, Lesson, Reference, Status, Term, TierText, name_key, twin_names
from ..rendering import refusals, check_svg

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
REFERENCE_FIELDS = ["key", "authors", "title", "journal", "year", "volume", "pages", "doi", "pmid", "url"]
TERM_TEXT_FIELDS = ["short_fundamentals", "short_intermediate", "short_academic"]
TERM_FIELDS = [
    "slug", "term", "aliases", "case_sensitive", "short", *TERM_TEXT_FIELDS, "evidence", "evidence_note", "see_also", "body",
]
TIER_FRONT_FIELDS = ["title", "summary", "objectives", "reviewed"]


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
class ReferenceEntry:
    source: Source
    fields: dict  # REFERENCE_FIELDS → value


@dataclass
class TermEntry:
    source: Source
    fields: dict  # TERM_FIELDS → value, as written


@dataclass
class DiagramEntry:
    source: Source
    slug: str
    svg: str


@dataclass
class TierEntry:
    source: Source
    front: dict  # title, summary, objectives, reviewed (a date or None)
    body: str


@dataclass
class QuizEntry:
    source: Source
    data: gift.QuizData


@dataclass
class LessonEntry:
    source: Source
    slug: str
    meta: dict  # lesson.toml as read
    tiers: dict = field(default_factory=dict)  # tier → TierEntry
    quizzes: dict = field(default_factory=dict)  # tier → QuizEntry


@dataclass
class Course:
    references: list = field(default_factory=list)  # ReferenceEntry
    terms: list = field(default_factory=list)  # TermEntry
    diagrams: list = field(default_factory=list)  # DiagramEntry
    lessons: list = field(default_factory=list)  # LessonEntry


def _source(path, errors):
    try:
        return Source(path, path.read_bytes().decode("utf-8").replace("\r\n", "\n").removeprefix("\ufeff"))
    except UnicodeDecodeError as exc:
        data = path.read_bytes()
        line = data.count(b"\n", 0, exc.start) + 1
        errors.append(f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8")
        return None


def _toml(source, errors, line_offset=0):
    try:
        return tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.13's message ends with "(at line N, column M)".
        found = re.search(r"at line (\d+)", str(exc))
        line = getattr(exc, "lineno", None) or (int(found.group(1)) if found else 1)
        message = getattr(exc, "msg", None) or re.sub(r"\s*\(at line.*\)$", "", str(exc))
        errors.append(f"{source.where(line + line_offset)}: bad TOML: {message}")
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


def _model_errors(model, values, where, what, errors):
    """The model's own field rules (lengths, types, control characters) as file:line errors."""
    names = {f.name for f in model._meta.concrete_fields}
    given = {k: v for k, v in values.items() if k in names}
    try:
        instance = model(**given)
        instance.clean_fields(exclude=[n for n in names if n not in given])
        instance.clean_content()
    except ValidationError as exc:
        for field, messages in (exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}).items():
            label = "" if field == "__all__" else f"{field}: "
            errors.extend(f"{where}: {what}: {label}{m}" for m in messages)
    except (TypeError, ValueError) as exc:
        errors.append(f"{where}: {what}: {exc}")


def read_course(root=CONTENT_DIR):
    """Read and validate every file under root; raise ContentError listing all problems."""
    root = Path(root)
    errors, course = [], Course()
    if not root.is_dir():
        raise ContentError([f"{root}: no such content folder"])
    _read_references(root / "references.toml", course, errors)
    _read_glossary(root / "glossary.toml", course, errors)
    for path in sorted((root / "diagrams").glob("*.svg")):
        src = _source(path, errors)
        if src is None:
            continue
        try:
            check_svg(src.text)
        except ValueError as exc:
            errors.append(f"{src.where(1)}: {exc}")
        course.diagrams.append(DiagramEntry(src, path.stem, src.text.strip()))
    slugs_by_order = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "diagrams"):
        lesson = _read_lesson(folder, slugs_by_order, errors)
        if lesson:
            course.lessons.append(lesson)
    if errors:
        raise ContentError(errors)
    return course


def _toml_file(path, errors):
    """(source, data) of a TOML file, or (None, None) when it is absent or unreadable."""
    if not path.exists():
        return None, None
    src = _source(path, errors)
    data = _toml(src, errors) if src else None
    return (src, data) if data is not None else (None, None)


def _read_references(path, course, errors):
    src, data = _toml_file(path, errors)
    if data is None:
        return
    seen = set()
    for entry in data.get("reference", []):
        key = entry.get("key", "")
        anchor = f'key = "{key}"'
        where = src.where(src.line_of(anchor))
        _check_keys(src, entry, REFERENCE_FIELDS, ["key", "authors", "title", "year"], f"reference '{key}'", errors, anchor)
        if key in seen:
            errors.append(f"{where}: duplicate reference key '{key}'")
        seen.add(key)
        if not isinstance(entry.get("year", 0), int) or isinstance(entry.get("year"), bool):
            errors.append(f"{where}: year of '{key}' must be a number")
            entry["year"] = 0
        fields = {k: _str(entry.get(k, "")) for k in REFERENCE_FIELDS}
        _model_errors(Reference, fields, where, f"reference '{key}'", errors)
        course.references.append(ReferenceEntry(src, fields))


def _read_glossary(path, course, errors):
    src, data = _toml_file(path, errors)
    if data is None:
        return
    slugs, names = set(), {}
    entries = data.get("term", [])
    for entry in entries:
        slug = entry.get("slug", "")
        anchor = f'slug = "{slug}"'
        line = src.line_of(anchor)
        _check_keys(src, entry, TERM_FIELDS, ["slug", "term", "short"], f"term '{slug}'", errors, anchor)
        if slug and not SLUG.match(slug):
            errors.append(f"{src.where(line)}: term slug '{slug}' must be lowercase words joined by '-'")
        if slug in slugs:
            errors.append(f"{src.where(line)}: duplicate term slug '{slug}'")
        slugs.add(slug)
        for key in ["short", *TERM_TEXT_FIELDS]:
            if len(entry.get(key, "")) > 250:
                errors.append(f"{src.where(line)}: {key} of '{slug}' is longer than 250 characters")
        aliases = entry.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            errors.append(f"{src.where(src.line_of('aliases', line))}: aliases of '{slug}' must be a list of strings")
            entry["aliases"] = aliases = []
        twins = twin_names([entry.get("term", ""), *aliases])
        if twins:
            at = src.text.find(f'"{twins[0]}"', src.text.find(anchor) + 1)
            errors.append(
                f"{src.where(src.text.count(chr(10), 0, at) + 1 if at >= 0 else line)}: '{twins[0]}' of '{slug}' differs "
                f"from '{twins[1]}' only by case or hyphen/space; keep one of them"
            )
        for name in [entry.get("term", ""), *aliases]:
            folded = name_key(name)
            if folded in names and names[folded] != slug:
                errors.append(f"{src.where(line)}: '{name}' of '{slug}' is already a name of '{names[folded]}'")
            names[folded] = slug
        values = {k: v for k, v in entry.items() if k != "see_also"}
        _model_errors(Term, values, src.where(line), f"term '{slug}'", errors)
    for entry in entries:
        for other in entry.get("see_also", []):
            if other not in slugs:
                line = src.line_of(f'slug = "{entry.get("slug")}"')
                errors.append(f"{src.where(line)}: see_also of '{entry.get('slug')}' names unknown term '{other}'")
        course.terms.append(TermEntry(src, entry))


def _read_lesson(folder, slugs_by_order, errors):
    path = folder / "lesson.toml"
    if not path.exists():
        errors.append(f"{path}: missing lesson.toml (every lesson folder needs one)")
        return None
    if not SLUG.match(folder.name):
        errors.append(f"{folder}: lesson folder name '{folder.name}' is not a valid slug")
    src = _source(path, errors)
    meta = _toml(src, errors) if src else None
    if meta is None:
        return None
    _check_keys(src, meta, ["title", "summary", "order", "status", "quiz"], ["title", "summary", "order"], "lesson.toml", errors)
    for key in ("title", "summary"):
        if not isinstance(meta.get(key, ""), str):
            errors.append(f"{src.where(src.line_of(key + ' ='))}: {key} must be text in quotes")
            meta[key] = ""
    order = meta.get("order")
    if order is not None and (not isinstance(order, int) or isinstance(order, bool) or not 0 <= order <= 2_147_483_647):
        errors.append(f"{src.where(src.line_of('order'))}: order must be a whole number of 0 or more, not {order!r}")
    _model_errors(Lesson, {k: meta[k] for k in ("title", "summary") if k in meta}, src.where(1), "lesson.toml", errors)
    if meta.get("status", "draft") not in Status.values:
        errors.append(f"{src.where(src.line_of('status'))}: status must be 'draft' or 'published'")
    if isinstance(order, int) and order in slugs_by_order:
        errors.append(f"{src.where(src.line_of('order'))}: order {order} is also used by '{slugs_by_order[order]}'")
    if isinstance(order, int):
        slugs_by_order[order] = folder.name
    _check_keys(src, meta.get("quiz", {}), ["pass_mark", "shuffle"], [], "[quiz]", errors)
    lesson = LessonEntry(src, folder.name, meta)
    for path in sorted(folder.iterdir()):
        if path.name == "lesson.toml":
            continue
        if path.suffix not in {".md", ".gift"}:
            errors.append(f"{path}: unexpected file (expected <tier>.md or <tier>.gift)")
            continue
        if path.stem not in TIERS:
            errors.append(f"{path}:1: unknown tier '{path.stem}' (use {', '.join(TIERS)})")
            continue
        tsrc = _source(path, errors)
        if tsrc is None:
            continue
        if path.suffix == ".md":
            tier = _read_tier(tsrc, errors)
            if tier:
                lesson.tiers[path.stem] = tier
        else:
            try:
                lesson.quizzes[path.stem] = QuizEntry(tsrc, gift.parse(tsrc.text, moodle=True))
            except gift.GiftError as exc:
                errors.append(f"{tsrc.where(exc.line)}: {exc.message}")
    for tier in TIERS:
        if tier not in lesson.tiers and not (folder / f"{tier}.md").exists():
            errors.append(f"{folder / (tier + '.md')}: missing tier file")
    for tier, quiz in lesson.quizzes.items():
        if tier not in lesson.tiers:
            errors.append(f"{quiz.source.path}: quiz for a tier that has no text")
    return lesson


def _read_tier(src, errors):
    text = src.text
    if not text.startswith("+++\n"):
        errors.append(f"{src.where(1)}: a tier file must start with TOML front matter between '+++' lines")
        return None
    end = text.find("\n+++\n", 3)
    if end < 0:
        errors.append(f"{src.where(1)}: front matter has no closing '+++' line")
        return None
    front = _toml(Source(src.path, text[4 : end + 1]), errors, line_offset=1)
    if front is None:
        return None
    for key in front:
        if key not in TIER_FRONT_FIELDS:
            errors.append(f"{src.where(src.line_of(key + ' ='))}: unknown front matter field '{key}'")
    title, summary = front.get("title", ""), front.get("summary", "")
    if not isinstance(title, str) or not title.strip():
        errors.append(f"{src.where(src.line_of('title', 1))}: missing title in front matter (text in quotes)")
        title = ""
    if not isinstance(summary, str):
        errors.append(f"{src.where(src.line_of('summary', 1))}: summary must be text in quotes")
        summary = ""
    objectives = front.get("objectives", [])
    if not isinstance(objectives, list) or not all(isinstance(o, str) for o in objectives):
        errors.append(f"{src.where(src.line_of('objectives'))}: objectives must be a list of strings")
        objectives = []
    reviewed = front.get("reviewed")
    if reviewed is not None and (not isinstance(reviewed, datetime.date) or isinstance(reviewed, datetime.datetime)):
        errors.append(f"{src.where(src.line_of('reviewed'))}: reviewed must be a date like 2026-11-29 (no quotes)")
        reviewed = None
    body = text[end + 5 :].strip()
    if not body:
        errors.append(f"{src.where(text.count(chr(10), 0, end) + 2)}: the tier has no text")
    front = {"title": title.strip(), "summary": summary.strip(), "objectives": objectives, "reviewed": reviewed}
    _model_errors(TierText, {k: v for k, v in front.items() if k != "reviewed"}, src.where(1), "front matter", errors)
    for message, needle in refusals(body):
        errors.append(f"{src.where(src.line_of(needle, text.count(chr(10), 0, end) + 3))}: {message}")
    return TierEntry(src, front, body)
