"""Line-by-line differences between two saved versions, for the admin's History pages (pure)."""

import difflib
import re
from dataclasses import dataclass, field

WORD = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass
class Line:
    kind: str  # "same", "del", "add" or "gap"
    old_no: int | None = None
    new_no: int | None = None
    parts: list = field(default_factory=list)  # (text, changed) pairs


@dataclass
class FieldDiff:
    name: str
    label: str
    lines: list
    added: int
    removed: int


def as_lines(value) -> list:
    """A field's value as the lines an instructor edits (lists one item per line)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return str(value).replace("\r\n", "\n").split("\n")


def _words(old: str, new: str):
    """Both lines split into (text, changed) parts, so the changed words can be marked."""
    a, b = WORD.findall(old), WORD.findall(new)
    old_parts, new_parts = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if i2 > i1:
            old_parts.append(("".join(a[i1:i2]), op != "equal"))
        if j2 > j1:
            new_parts.append(("".join(b[j1:j2]), op != "equal"))
    return old_parts, new_parts


def diff_lines(old, new, context: int = 2) -> list:
    """The changed lines of two values with `context` unchanged lines around each change."""
    a, b = as_lines(old), as_lines(new)
    out = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        if out:
            out.append(Line("gap"))
        for op, i1, i2, j1, j2 in group:
            if op == "equal":
                out += [Line("same", i + 1, j + 1, [(a[i], False)]) for i, j in zip(range(i1, i2), range(j1, j2))]
                continue
            olds, news = list(range(i1, i2)), list(range(j1, j2))
            pairs = min(len(olds), len(news)) if op == "replace" else 0
            for k in range(pairs):
                old_parts, new_parts = _words(a[olds[k]], b[news[k]])
                out.append(Line("del", olds[k] + 1, None, old_parts))
                out.append(Line("add", None, news[k] + 1, new_parts))
            out += [Line("del", i + 1, None, [(a[i], True)]) for i in olds[pairs:]]
            out += [Line("add", None, j + 1, [(b[j], True)]) for j in news[pairs:]]
    return out


def diff_records(old, new, fields) -> list:
    """FieldDiffs for every field (name, label) whose value differs between two history records."""
    diffs = []
    for name, label in fields:
        before, after = getattr(old, name, None) if old else None, getattr(new, name, None)
        if before == after:
            continue
        lines = diff_lines(before, after)
        diffs.append(
            FieldDiff(name, label, lines, sum(line.kind == "add" for line in lines), sum(line.kind == "del" for line in lines))
        )
    return diffs
