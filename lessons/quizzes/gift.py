"""Moodle GIFT quiz files, read as Moodle's importer reads them and written so Moodle imports them.

The reader follows Moodle's `qformat_gift` (question/format/gift/format.php): questions are
blocks separated by blank lines; `//` lines are comments; `$CATEGORY: path` switches the
category for the questions after it; `::name::` is optional free text; `{...}` holds the
answers and its content decides the type (empty: essay, `#`: numerical, any `~`: single or
multiple choice, `=` with `->`: matching, `T`/`TRUE`/`F`/`FALSE`: true/false, otherwise
short answer); `####` starts the general feedback; `\\` escapes `~ = # { } :` and itself,
and `\\n` is a newline. `[html]`, `[plain]`, `[moodle]` and `[markdown]` at the start of a
question text, answer, feedback or general feedback give that field's format; fields with
no tag inherit the question text's format, and an untagged question text is "moodle".
Moodle's `[id:...]` and `[tag:...]` in a question's comments are kept.

Our own comment lines carry what GIFT has no syntax for: `// section: ANCHOR` before a
question, `// name: SLUG` when its stable identity is not the one its `[id:]`, `::name::`
or text would give (a title edited after import), and `// pass_mark: N` /
`// shuffle: true|false` for the whole quiz. Moodle ignores them as comments.

Data shapes (all weights are percents of the question's credit):
- QuizData(questions, pass_mark, shuffle)
- QuestionData: name (stable identity slug: from `// name:`, else `[id:]`, else the
  `::name::`, else the text), title (the `::name::` as written, "" if none), kind ("single", "multiple",
  "truefalse", "matching", "numerical", "shortanswer"), text, text_format, explanation
  (general feedback) and explanation_format, section, line, idnumber, tags, category, and
  one answer list for its kind:
  - single, multiple, truefalse: choices = [ChoiceData(text, weight, feedback, percent,
    text_format, feedback_format)]; `weight` is the whole percent the database stores today,
    `percent` the exact Decimal as written (33.33333, 12.5). True/false is always
    [True, False] with the feedback for choosing each.
  - matching: pairs = [PairData(left, right, left_format)]; a pair with an empty left side
    is an extra wrong answer, as in Moodle.
  - numerical: numbers = [NumericalAnswer(value, tolerance, weight, feedback,
    feedback_format, range)]; value None is Moodle's `*` (any other number), `range` is
    (low, high) when written as `{#low..high}`.
  - shortanswer: answers = [ShortAnswer(text, weight, feedback, feedback_format)].
  Formats are "" in data built elsewhere, meaning "the question text's format".

parse(source) is what the site's loader can store today: single, multiple and true/false
with whole-percent weights. parse(source, moodle=True) reads everything Moodle reads and
checks every weight against Moodle's list of grades, as Moodle's import does by default.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.text import slugify

SETTING = re.compile(r"^//\s*(section|name|pass_mark|shuffle)\s*:\s*(.*?)\s*$")
FORMATS = ("moodle", "html", "plain", "markdown")
KINDS = ("single", "multiple", "truefalse", "matching", "numerical", "shortanswer")
LOADABLE_KINDS = ("single", "multiple", "truefalse")
KIND_NAMES = {"matching": "matching", "numerical": "numerical", "shortanswer": "short-answer"}
WEIGHT = re.compile(r"%-*[0-9]{1,2}\.?[0-9]*%")
NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
SLUG = re.compile(r"[A-Za-z0-9_-]{1,80}")
# Moodle's question_bank::fraction_options(), as percents; negatives are allowed too.
MOODLE_GRADES = tuple(
    Decimal(g)
    for g in (
        "100", "90", "83.33333", "80", "75", "70", "66.66667", "60", "50", "40", "33.33333", "30",
        "25", "20", "16.66667", "14.28571", "12.5", "11.11111", "10", "5", "0",
    )
)
# match_grade_options(): |grade - option| < 0.00001 as fractions, i.e. 0.001 percent.
MOODLE_GRADE_TOLERANCE = Decimal("0.001")
# Escaped characters become private-use placeholders while the structure is parsed,
# as Moodle's escapedchar_pre()/escapedchar_post() do.
_ESCAPES = {c: chr(0xE000 + i) for i, c in enumerate("~=#{}:n")}
_RESTORE = {v: ("\n" if k == "n" else k) for k, v in _ESCAPES.items()}


class GiftError(ValueError):
    def __init__(self, line, message, filename=None):
        where = f"{filename}:{line}" if filename else f"line {line}"
        super().__init__(f"{where}: {message}")
        self.line = line
        self.message = message
        self.filename = filename


@dataclass
class ChoiceData:
    text: str
    weight: int
    feedback: str = ""
    percent: Decimal | None = None
    text_format: str = ""
    feedback_format: str = ""


@dataclass
class PairData:
    left: str
    right: str
    left_format: str = ""


@dataclass
class NumericalAnswer:
    value: Decimal | None
    tolerance: Decimal = Decimal(0)
    weight: Decimal = Decimal(100)
    feedback: str = ""
    feedback_format: str = ""
    range: tuple | None = None


@dataclass
class ShortAnswer:
    text: str
    weight: Decimal = Decimal(100)
    feedback: str = ""
    feedback_format: str = ""


@dataclass
class QuestionData:
    name: str
    kind: str
    text: str
    choices: list = field(default_factory=list)
    explanation: str = ""
    section: str = ""
    line: int = 0
    title: str = ""
    text_format: str = "markdown"
    explanation_format: str = ""
    idnumber: str = ""
    tags: list = field(default_factory=list)
    category: str = ""
    pairs: list = field(default_factory=list)
    numbers: list = field(default_factory=list)
    answers: list = field(default_factory=list)


@dataclass
class QuizData:
    questions: list = field(default_factory=list)
    pass_mark: int | None = None
    shuffle: bool | None = None


def unescape(text):
    return re.sub(r"\\([~=#{}:\\n])", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


_SPECIAL = re.compile(r"([~=#{}:\\])")


def escape(text):
    return _SPECIAL.sub(r"\\\1", text).replace("\r", "").replace("\n", "\\n")


def decode(data, filename="GIFT file"):
    """Bytes of a GIFT file → text; a UTF-8 BOM is dropped, bad bytes are a GiftError with file:line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise GiftError(
            line, f"byte 0x{data[exc.start]:02x} at column {column} is not UTF-8; save the file as UTF-8", filename
        ) from None
    return text.removeprefix("\ufeff")


def is_moodle_grade(percent):
    """True when Moodle's import (default settings) accepts this weight."""
    return any(abs(abs(Decimal(percent)) - g) < MOODLE_GRADE_TOLERANCE for g in MOODLE_GRADES)


_ESCAPED = re.compile(r"\\([\\~=#{}:n])")
_PRIVATE = re.compile("[" + "".join(_RESTORE) + "]")


def _protect(text):
    """Each escaped character becomes its private-use stand-in and a doubled backslash one
    backslash, read left to right as Moodle does."""
    return _ESCAPED.sub(lambda m: "\\" if m.group(1) == "\\" else _ESCAPES[m.group(1)], text)


def _restore(text):
    return _PRIVATE.sub(lambda m: _RESTORE[m.group()], text)


def _with_format(text, default):
    """Moodle's parse_text_with_format(): a leading [format] tag, then unescape and trim."""
    if text.startswith("["):
        end = text.find("]")
        if end > 0 and text[1:end] in FORMATS:
            return _restore(text[end + 1 :]).strip(), text[1:end]
    return _restore(text).strip(), default


def _comment_split(answer, default):
    """Moodle's commentparser(): answer text and feedback, each with its format."""
    text, _, feedback = answer.partition("#")
    return _with_format(text.strip(), default), _with_format(feedback.strip(), default)


def _weight(answer, line, label):
    """Leading %weight% as Moodle's answerweightparser() reads it: (Decimal or None, rest)."""
    m = WEIGHT.match(answer)
    if not m:
        return None, answer
    raw = answer[1 : m.end() - 1]
    try:
        return Decimal(raw), answer[m.end() :]
    except InvalidOperation:
        raise GiftError(line, f"{label}: weight '%{raw}%' is not a number") from None


def _slug(text):
    return slugify(text)[:80].strip("-")


def _identity(idnumber, title, text):
    for source in (idnumber, title):
        if source and SLUG.fullmatch(source):
            return source
        if source and _slug(source):
            return _slug(source)
    return _slug(text) or "question"


def _label(title, text):
    if title:
        return f"question '{title}'"
    short = text if len(text) <= 40 else text[:37] + "..."
    return f"question '{short}'"


def _id_and_tags(comments):
    """Moodle's extract_idnumber_and_tags_from_comment()."""
    m = re.search(r"\[id:((?:\\\]|[^\]\x00-\x1f\x7f])+)\]", comments)
    idnumber = m.group(1).strip().replace("\\]", "]") if m else ""
    tags = [t.strip().replace("\\]", "]") for t in re.findall(r"\[tag:((?:\\\]|[^\]<>`\x00-\x1f\x7f])+)\]", comments)]
    return idnumber, tags


def parse(source, moodle=False, filename=None):
    """Parse GIFT text (or bytes) into QuizData, raising GiftError with the line of the first problem."""
    if isinstance(source, bytes):
        source = decode(source, filename or "GIFT file")
    source = source.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    quiz = QuizData()
    names = {}
    category = ""
    block = []
    try:
        for number, line in enumerate([*source.split("\n"), ""], start=1):
            if line.strip():
                block.append((number, line))
                continue
            if not block:
                continue
            result = _parse_block(block, quiz, moodle)
            block = []
            if isinstance(result, str):
                category = result
                continue
            if result is None:
                continue
            result.category = category
            derived_from_text = not (result.title or result.idnumber) and result.name == _identity("", "", result.text)
            if result.name in names:
                if derived_from_text:
                    base, n = result.name, 2
                    while f"{base}-{n}" in names:
                        n += 1
                    result.name = f"{base}-{n}"
                else:
                    raise GiftError(result.line, f"duplicate question name '{result.name}' (also on line {names[result.name]})")
            names[result.name] = result.line
            quiz.questions.append(result)
    except GiftError as exc:
        if filename and not exc.filename:
            raise GiftError(exc.line, exc.message, filename) from None
        raise
    if not quiz.questions:
        raise GiftError(1, "no questions found", filename)
    return quiz


def _parse_block(block, quiz, moodle):
    section, name, comments, body, first = "", "", [], [], None
    for number, line in block:
        stripped = line.strip()
        if stripped.startswith("//"):
            comments.append(stripped)
            body.append(" ")  # Moodle keeps a blank line where a comment was
            m = SETTING.match(stripped)
            if m:
                key, value = m.groups()
                if key == "section":
                    section = value
                elif key == "name":
                    if not SLUG.fullmatch(value):
                        raise GiftError(number, f"name must be 1-80 letters, digits, '-' or '_', not '{value}'")
                    name = value
                elif key == "pass_mark":
                    if not value.isdigit() or not 0 <= int(value) <= 100:
                        raise GiftError(number, f"pass_mark must be a whole number from 0 to 100, not '{value}'")
                    quiz.pass_mark = int(value)
                else:
                    if value.lower() not in {"true", "false"}:
                        raise GiftError(number, f"shuffle must be true or false, not '{value}'")
                    quiz.shuffle = value.lower() == "true"
            continue
        if first is None:
            first = number
        body.append(line)
    text = "\n".join(body).strip()
    if not text:
        return None
    if _PRIVATE.search(text):
        raise GiftError(first, "the text contains characters from the private-use range U+E000-U+E006")
    text = _protect(text)
    if text.startswith("$CATEGORY:"):
        category = _restore(text[10:]).strip()
        if "\n" in category:
            raise GiftError(first, "put a blank line after the $CATEGORY line (Moodle skips a question in the same block)")
        return category
    idnumber, tags = _id_and_tags("\n".join(comments))
    question = _parse_question(text, first, moodle, section, idnumber, tags)
    if name:
        question.name = name
    return question


def _parse_question(text, line, moodle, section, idnumber, tags):
    title = ""
    if text.startswith("::"):
        end = text.find("::", 2)
        if end < 0:
            raise GiftError(line, "question name has no closing '::'")
        title = _restore(text[2:end]).strip()
        text = text[end + 2 :].strip()
    label = _label(title, _restore(text))
    open_at, close_at = text.find("{"), text.find("}")
    if open_at < 0 and close_at < 0:
        raise GiftError(line, f"{label}: description items (no answer block '{{...}}') are not supported")
    if close_at < 0:
        raise GiftError(line, f"{label} has no closing '}}'")
    if open_at < 0 or close_at < open_at:
        raise GiftError(line, f"{label} has a '}}' without an opening '{{'")
    answers = text[open_at + 1 : close_at].strip()
    explanation = ""
    gf = answers.rfind("####")
    if gf >= 0:
        explanation = answers[gf + 4 :]
        answers = answers[:gf].strip()
    stem, text_format = _with_format(text[:open_at], "moodle")
    explanation, explanation_format = _with_format(explanation, text_format)
    label = _label(title, stem)
    if not answers:
        raise GiftError(line, f"{label}: essay questions are not supported")
    if text[close_at + 1 :].strip():
        raise GiftError(line, f"{label}: missing-word questions (text after the answers) are not supported")
    if answers[0] == "#":
        kind = "numerical"
    elif "~" in answers:
        kind = "single" if "=" in answers else "multiple"
    elif "=" in answers and "->" in answers:
        kind = "matching"
    else:
        check = answers[: answers.find("#")].strip() if answers.find("#") > 0 else answers
        kind = "truefalse" if check in ("T", "TRUE", "F", "FALSE") else "shortanswer"
    if not moodle and kind not in LOADABLE_KINDS:
        raise GiftError(line, f"{label}: {KIND_NAMES[kind]} questions are not supported yet")
    if not stem:
        raise GiftError(line, f"{label} has no text")
    q = QuestionData(
        _identity(idnumber, title, stem), kind, stem, [], explanation, section, line, title, text_format,
        explanation_format, idnumber, tags,
    )
    reader = {
        "single": _read_choices, "multiple": _read_choices, "truefalse": _read_truefalse,
        "matching": _read_matching, "numerical": _read_numerical, "shortanswer": _read_shortanswer,
    }[kind]
    reader(q, answers, label, moodle)
    if moodle:
        for weight in [c.percent for c in q.choices] + [a.weight for a in q.answers + q.numbers]:
            if q.kind != "truefalse" and not is_moodle_grade(weight):
                raise GiftError(
                    line, f"{label}: weight {weight}% is not one of Moodle's grades (for a third write 33.33333%)"
                )
    return q


def _whole(percent, line, label, moodle):
    if percent == percent.to_integral_value():
        return int(percent)
    if not moodle:
        raise GiftError(line, f"{label}: weight {percent}% must be a whole percent")
    return int(percent.to_integral_value(ROUND_HALF_UP))


def _read_choices(q, answers, label, moodle):
    line = q.line
    parts = answers.replace("=", "~=").split("~")
    if not parts[0].strip():
        parts = parts[1:]
    if len(parts) < 2:
        raise GiftError(line, f"{label} needs at least two answers")
    for raw in parts:
        raw = raw.strip()
        if raw.startswith("="):
            percent, raw = Decimal(100), raw[1:]
        else:
            percent, raw = _weight(raw, line, label)
            percent = Decimal(0) if percent is None else percent
        (text, text_format), (feedback, feedback_format) = _comment_split(raw, q.text_format)
        if not text:
            raise GiftError(line, f"{label} has an empty answer")
        if not moodle and "\n" in text:
            raise GiftError(line, f"{label}: put each answer on its own single line")
        q.choices.append(
            ChoiceData(text, _whole(percent, line, label, moodle), feedback, percent, text_format, feedback_format)
        )
    if any(c.percent > 100 or c.percent < -100 for c in q.choices):
        raise GiftError(line, f"{label}: weights must lie between -100% and 100%")
    if q.kind == "single":
        if not moodle and (sum(c.percent == 100 for c in q.choices) != 1 or any(c.percent not in (0, 100) for c in q.choices)):
            raise GiftError(
                line,
                f"{label}: a single-choice question has exactly one '=' answer and unweighted '~' answers; "
                "for multiple select put ~%weight% on every answer",
            )
        return
    positive = sum(c.percent for c in q.choices if c.percent > 0)
    if positive == 0:
        raise GiftError(line, f"{label} has no right answer")
    # Moodle refuses a multiple-response question whose positive grades do not add to 100%.
    if abs(positive - 100) > (Decimal("0.00001") if moodle else 1):
        raise GiftError(line, f"{label}: the right answers' weights add up to {positive}%, not 100%")


def _read_truefalse(q, answers, label, moodle):
    answer, _, rest = answers.partition("#")
    wrong, _, right = rest.partition("#")
    correct = answer.strip() in ("T", "TRUE")
    wrong, wrong_format = _with_format(wrong.strip(), q.text_format)
    right, right_format = _with_format(right.strip(), q.text_format)
    true_fb, true_fmt = (right, right_format) if correct else (wrong, wrong_format)
    false_fb, false_fmt = (wrong, wrong_format) if correct else (right, right_format)
    q.choices = [
        ChoiceData("True", 100 if correct else 0, true_fb, Decimal(100 if correct else 0), q.text_format, true_fmt),
        ChoiceData("False", 0 if correct else 100, false_fb, Decimal(0 if correct else 100), q.text_format, false_fmt),
    ]


def _read_matching(q, answers, label, moodle):
    parts = answers.split("=")
    if not parts[0].strip():
        parts = parts[1:]
    if len(parts) < 2:
        raise GiftError(q.line, f"{label}: a matching question needs at least two '=left -> right' pairs")
    for raw in parts:
        raw = raw.strip()
        if "->" not in raw:
            raise GiftError(q.line, f"{label}: matching answer '{_restore(raw)}' has no '->'")
        left, _, right = raw.partition("->")
        left, left_format = _with_format(left.strip(), q.text_format)
        q.pairs.append(PairData(left, _restore(right).strip(), left_format))
    if sum(bool(p.left) for p in q.pairs) < 2:
        raise GiftError(q.line, f"{label}: a matching question needs at least two pairs with a left side")


def _number(text, line, label):
    if not NUMBER.fullmatch(text):
        raise GiftError(line, f"{label}: '{text}' is not a number")
    return Decimal(text.strip())


def _read_numerical(q, answers, label, moodle):
    body = answers[1:]
    wrong = ""
    if "~" in body:
        body, wrong = body[: body.find("~")], body[body.find("~") :]
    parts = body.split("=")
    if not parts[0].strip():
        parts = parts[1:]
    if not parts:
        raise GiftError(q.line, f"{label}: a numerical question needs at least one answer")
    for raw in parts:
        percent, raw = _weight(raw.strip(), q.line, label)
        percent = Decimal(100) if percent is None else percent
        (text, _), (feedback, feedback_format) = _comment_split(raw, q.text_format)
        value_range = None
        if text.find("..") > 0:
            low, high = (_number(t, q.line, label) for t in text.split("..", 1))
            value_range, value = (low, high), (low + high) / 2
            tolerance = high - value
        elif text.find(":") > 0:
            value_text, tolerance_text = text.split(":", 1)
            value = None if value_text.strip() == "*" else _number(value_text, q.line, label)
            tolerance = _number(tolerance_text, q.line, label)
        else:
            # Moodle takes any non-number here as '*'; we accept only '*' and refuse typos.
            value, tolerance = (None if text == "*" else _number(text, q.line, label)), Decimal(0)
        q.numbers.append(NumericalAnswer(value, tolerance, percent, feedback, feedback_format, value_range))
    if wrong:
        _, (feedback, feedback_format) = _comment_split(wrong, q.text_format)
        q.numbers.append(NumericalAnswer(None, Decimal(0), Decimal(0), feedback, feedback_format))


def _read_shortanswer(q, answers, label, moodle):
    parts = answers.split("=")
    if not parts[0].strip():
        parts = parts[1:]
    if not parts or not any(p.strip() for p in parts):
        raise GiftError(q.line, f"{label}: a short-answer question needs at least one answer")
    for raw in parts:
        percent, raw = _weight(raw.strip(), q.line, label)
        percent = Decimal(100) if percent is None else percent
        (text, _), (feedback, feedback_format) = _comment_split(raw, q.text_format)
        q.answers.append(ShortAnswer(text, percent, feedback, feedback_format))


# --- Writing ---------------------------------------------------------------------------


def _pct(value):
    return format(Decimal(value), "f")


def _field(text, fmt, default):
    """Escaped text with a [format] tag when it differs from the default or the text could pass for one."""
    fmt = fmt or default
    looks_tagged = re.match(r"\[(moodle|html|plain|markdown)\]", text)
    return (f"[{fmt}]" if fmt != default or looks_tagged else "") + escape(text)


def _fb(feedback, fmt, default):
    return f" #{_field(feedback, fmt, default)}" if feedback else ""


def write(quiz, moodle=False):
    """Serialise QuizData in the canonical layout that parse() reads back unchanged.

    With moodle=True a weight outside Moodle's grade list is a GiftError instead of a file
    Moodle would refuse.
    """
    out = []
    header = []
    if quiz.pass_mark is not None:
        header.append(f"// pass_mark: {quiz.pass_mark}")
    if quiz.shuffle is not None:
        header.append(f"// shuffle: {'true' if quiz.shuffle else 'false'}")
    if header:
        out.append("\n".join(header))
    category = ""
    for q in quiz.questions:
        if q.category != category:
            category = q.category
            out.append(f"$CATEGORY: {category}")
        out.append(_write_question(q, moodle))
    return "\n\n".join(out) + "\n"


def _write_question(q, moodle):
    label = _label(q.title or q.name, q.text)
    fmt = q.text_format or "markdown"
    lines = []
    if q.section:
        lines.append(f"// section: {q.section}")
    shown = q.title or (q.name if q.name and not q.idnumber and q.name != _identity("", "", q.text) else "")
    if q.name and q.name != _identity(q.idnumber, shown, q.text):
        lines.append(f"// name: {q.name}")
    marks = ([f"[id:{q.idnumber.replace(']', '\\]')}]"] if q.idnumber else []) + [
        f"[tag:{t.replace(']', '\\]')}]" for t in q.tags
    ]
    if marks:
        lines.append("// " + " ".join(marks))
    name = f"::{escape(shown)}:: " if shown else ""
    head = f"{name}{_field(q.text, fmt, 'moodle')}"
    weights = []
    if q.kind == "truefalse":
        true, false = _true_and_false(q)
        right, wrong = (true, false) if true.weight > 0 else (false, true)
        answer = "TRUE" if right is true else "FALSE"
        lines.append(
            f"{head}{{{answer}#{_field(wrong.feedback, wrong.feedback_format, fmt)}#{_field(right.feedback, right.feedback_format, fmt)}"
        )
    elif q.kind in ("single", "multiple"):
        lines.append(head + "{")
        if q.kind == "single" and all((c.percent if c.percent is not None else c.weight) > 0 for c in q.choices):
            raise GiftError(q.line, f"{label}: a single-choice question needs a wrong answer")
        for c in q.choices:
            percent = c.percent if c.percent is not None else Decimal(c.weight)
            weights.append(percent)
            text = _field(c.text, c.text_format, fmt)
            if q.kind == "single" and percent == 100:
                marker = "="
            elif q.kind == "single" and percent == 0 and not WEIGHT.match(text):
                marker = "~"
            else:
                marker = f"~%{_pct(percent)}%"
            lines.append(f"{marker}{text}{_fb(c.feedback, c.feedback_format, fmt)}")
    elif q.kind == "matching":
        lines.append(head + "{")
        for p in q.pairs:
            if "->" in p.left:
                raise GiftError(q.line, f"{label}: the left side '{p.left}' contains '->', which GIFT cannot write")
            left = _field(p.left, p.left_format, fmt)
            lines.append(f"={left} -> {escape(p.right)}")
    elif q.kind == "numerical":
        lines.append(head + "{#")
        for i, a in enumerate(q.numbers):
            if a.value is None and a.weight == 0 and i == len(q.numbers) - 1:
                lines.append(f"~#{_field(a.feedback, a.feedback_format, fmt)}" if a.feedback else "~#")
                continue
            weights.append(a.weight)
            if a.range:
                value = f"{_pct(a.range[0])}..{_pct(a.range[1])}"
            elif a.value is None:
                value = "*"
            else:
                value = _pct(a.value) + (f":{_pct(a.tolerance)}" if a.tolerance else "")
            weight = "" if a.weight == 100 else f"%{_pct(a.weight)}%"
            lines.append(f"={weight}{value}{_fb(a.feedback, a.feedback_format, fmt)}")
    elif q.kind == "shortanswer":
        lines.append(head + "{")
        for a in q.answers:
            if "->" in a.text or "->" in a.feedback:
                # Moodle reads any '=' block containing '->' as matching, and GIFT has no escape for it.
                raise GiftError(q.line, f"{label}: '->' in a short answer or its feedback would be read as matching")
            weights.append(a.weight)
            text = escape(a.text)
            weight = "" if a.weight == 100 and not WEIGHT.match(text) else f"%{_pct(a.weight)}%"
            lines.append(f"={weight}{text}{_fb(a.feedback, a.feedback_format, fmt)}")
    else:
        raise GiftError(q.line, f"{label}: cannot write questions of kind '{q.kind}'")
    if moodle:
        for w in weights:
            if not is_moodle_grade(w):
                raise GiftError(q.line, f"{label}: weight {w}% is not one of Moodle's grades")
    if q.explanation:
        lines.append(f"####{_field(q.explanation, q.explanation_format, fmt)}")
    lines.append("}")
    return "\n".join(lines)


def _true_and_false(q):
    """The choice that stands for TRUE and the one for FALSE, by meaning, not by which is right."""
    by_text = {unicodedata.normalize("NFKC", c.text).strip().casefold(): c for c in q.choices}
    true = next((by_text[t] for t in ("true", "yes", "t", "y") if t in by_text), q.choices[0])
    false = next(c for c in q.choices if c is not true)
    return true, false
