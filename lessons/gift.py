"""Moodle GIFT quiz files: the subset this site supports, read and written losslessly.

Supported: single choice, multiple select with %weights%, true/false; question names,
[markdown] text, per-answer # feedback, #### general feedback, // comments, escapes.
Our own comment lines carry what GIFT has no syntax for: `// section: ANCHOR` before a
question, and `// pass_mark: N` / `// shuffle: true|false` for the whole quiz.
"""

import re
from dataclasses import dataclass, field

SPECIAL = "~=#{}:"
SETTING = re.compile(r"^//\s*(section|pass_mark|shuffle)\s*:\s*(.*?)\s*$")


class GiftError(ValueError):
    def __init__(self, line, message):
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass
class ChoiceData:
    text: str
    weight: int
    feedback: str = ""


@dataclass
class QuestionData:
    name: str
    kind: str
    text: str
    choices: list
    explanation: str = ""
    section: str = ""
    line: int = 0


@dataclass
class QuizData:
    questions: list = field(default_factory=list)
    pass_mark: int | None = None
    shuffle: bool | None = None


def unescape(text):
    return re.sub(r"\\([~=#{}:\\n])", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def escape(text):
    return "".join("\\" + c if c in SPECIAL or c == "\\" else c for c in text).replace("\n", "\\n")


def _split_unescaped(text, sep, maxsplit=-1):
    parts, current, i, splits = [], [], 0, 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if text.startswith(sep, i) and (maxsplit < 0 or splits < maxsplit):
            parts.append("".join(current))
            current = []
            i += len(sep)
            splits += 1
            continue
        current.append(text[i])
        i += 1
    parts.append("".join(current))
    return parts


def _find_unescaped(text, char, start=0):
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == char:
            return i
        i += 1
    return -1


def parse(source):
    """Parse GIFT text into QuizData, raising GiftError with the line of the first problem."""
    quiz = QuizData()
    names = set()
    block, block_start = [], 0
    lines = source.splitlines()
    for number, line in enumerate([*lines, ""], start=1):
        if line.strip():
            if not block:
                block_start = number
            block.append((number, line))
            continue
        if block:
            question = _parse_block(block, quiz)
            if question:
                if question.name in names:
                    raise GiftError(question.line, f"duplicate question name '{question.name}'")
                names.add(question.name)
                quiz.questions.append(question)
            block = []
    del block_start
    if not quiz.questions:
        raise GiftError(1, "no questions found")
    return quiz


def _parse_block(block, quiz):
    section, body, first = "", [], None
    for number, line in block:
        stripped = line.strip()
        if stripped.startswith("//"):
            m = SETTING.match(stripped)
            if m:
                key, value = m.groups()
                if key == "section":
                    section = value
                elif key == "pass_mark":
                    if not value.isdigit() or not 0 <= int(value) <= 100:
                        raise GiftError(number, f"pass_mark must be a whole number from 0 to 100, not '{value}'")
                    quiz.pass_mark = int(value)
                else:
                    if value.lower() not in {"true", "false"}:
                        raise GiftError(number, f"shuffle must be true or false, not '{value}'")
                    quiz.shuffle = value.lower() == "true"
            continue
        if stripped.startswith("$CATEGORY:"):
            continue
        if first is None:
            first = number
        body.append(line)
    if not body:
        return None
    text = "\n".join(body).strip()
    name = ""
    if text.startswith("::"):
        end = text.find("::", 2)
        if end < 0:
            raise GiftError(first, "question name has no closing '::'")
        name = unescape(text[2:end]).strip()
        text = text[end + 2 :].strip()
    if not name:
        raise GiftError(first, "every question needs a ::name:: (its stable identity)")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise GiftError(first, f"question name '{name}' may use only letters, digits, '-' and '_'")
    m = re.match(r"\[(markdown|plain|html|moodle)\]", text)
    if m:
        text = text[m.end() :]
    open_at = _find_unescaped(text, "{")
    if open_at < 0:
        raise GiftError(first, f"question '{name}' has no answer block '{{...}}' (description items are not supported)")
    close_at = _find_unescaped(text, "}", open_at)
    if close_at < 0:
        raise GiftError(first, f"question '{name}' has no closing '}}'")
    if text[close_at + 1 :].strip():
        raise GiftError(first, f"question '{name}': missing-word questions (text after the answers) are not supported")
    stem = unescape(text[:open_at]).strip()
    answers = text[open_at + 1 : close_at].strip()
    if not stem:
        raise GiftError(first, f"question '{name}' has no text")
    general = _split_unescaped(answers, "####", 1)
    answers = general[0].strip()
    explanation = unescape(general[1]).strip() if len(general) > 1 else ""
    kind, choices = _parse_answers(answers, first, name)
    return QuestionData(name, kind, stem, choices, explanation, section, first)


def _parse_answers(answers, line, name):
    if not answers:
        raise GiftError(line, f"question '{name}': essay questions are not supported")
    if answers.startswith("#"):
        raise GiftError(line, f"question '{name}': numerical questions are not supported")
    tf = re.fullmatch(r"(TRUE|FALSE|T|F)\s*((?:#.*)?)", answers, re.DOTALL)
    if tf:
        correct = tf.group(1).startswith("T")
        feedback = [unescape(f).strip() for f in _split_unescaped(tf.group(2), "#")[1:]] if tf.group(2) else []
        wrong_fb = feedback[0] if feedback else ""
        right_fb = feedback[1] if len(feedback) > 1 else ""
        return "truefalse", [
            ChoiceData("True", 100 if correct else 0, right_fb if correct else wrong_fb),
            ChoiceData("False", 0 if correct else 100, wrong_fb if correct else right_fb),
        ]
    raw, current, i = [], None, 0
    while i < len(answers):
        c = answers[i]
        if c == "\\" and current is not None:
            current[1] += answers[i : i + 2]
            i += 2
            continue
        if c in "=~":
            current = [c, ""]
            raw.append(current)
        elif current is None:
            if not c.isspace():
                raise GiftError(line, f"question '{name}': answers must start with '=' or '~'")
        else:
            current[1] += c
        i += 1
    if not raw:
        raise GiftError(line, f"question '{name}' has no answers")
    choices, markers = [], [r[0] for r in raw]
    for marker, body in raw:
        weight = None
        m = re.match(r"\s*%(-?\d+(?:\.\d+)?)%", body)
        if m:
            weight = round(float(m.group(1)))
            body = body[m.end() :]
        if "->" in body and marker == "=":
            raise GiftError(line, f"question '{name}': matching questions are not supported")
        text, *fb = _split_unescaped(body, "#", 1)
        text = unescape(text).strip()
        if not text:
            raise GiftError(line, f"question '{name}' has an empty answer")
        if "\n" in text:
            raise GiftError(line, f"question '{name}': put each answer on its own single line")
        if weight is None:
            weight = 100 if marker == "=" else 0
        choices.append(ChoiceData(text, weight, unescape(fb[0]).strip() if fb else ""))
    if "~" not in markers:
        raise GiftError(line, f"question '{name}': short-answer questions (only '=' answers) are not supported")
    if "=" in markers:
        if markers.count("=") != 1 or any(c.weight not in (0, 100) for c in choices):
            raise GiftError(
                line,
                f"question '{name}': a single-choice question has exactly one '=' answer and unweighted '~' answers; "
                "for multiple select put ~%weight% on every answer",
            )
        return "single", choices
    positive = sum(c.weight for c in choices if c.weight > 0)
    if positive == 0:
        raise GiftError(line, f"question '{name}' has no right answer")
    if abs(positive - 100) > 1:
        raise GiftError(line, f"question '{name}': the right answers' weights add up to {positive}%, not 100%")
    if any(c.weight > 100 or c.weight < -100 for c in choices):
        raise GiftError(line, f"question '{name}': weights must lie between -100% and 100%")
    return "multiple", choices


def write(quiz):
    """Serialise QuizData in the canonical layout that parse() reads back unchanged."""
    out = []
    header = []
    if quiz.pass_mark is not None:
        header.append(f"// pass_mark: {quiz.pass_mark}")
    if quiz.shuffle is not None:
        header.append(f"// shuffle: {'true' if quiz.shuffle else 'false'}")
    if header:
        out.append("\n".join(header))
    for q in quiz.questions:
        lines = []
        if q.section:
            lines.append(f"// section: {q.section}")
        stem = escape(q.text)
        if q.kind == "truefalse":
            right = next(c for c in q.choices if c.weight > 0)
            wrong = next(c for c in q.choices if c.weight <= 0)
            answer = "TRUE" if right.text == "True" else "FALSE"
            lines.append(f"::{q.name}:: [markdown]{stem}{{{answer}#{escape(wrong.feedback)}#{escape(right.feedback)}")
        else:
            lines.append(f"::{q.name}:: [markdown]{stem}{{")
            for c in q.choices:
                if q.kind == "single":
                    marker = "=" if c.weight > 0 else "~"
                else:
                    marker = f"~%{c.weight}%"
                fb = f" #{escape(c.feedback)}" if c.feedback else ""
                lines.append(f"{marker}{escape(c.text)}{fb}")
        if q.explanation:
            lines.append(f"####{escape(q.explanation)}")
        lines.append("}")
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"
