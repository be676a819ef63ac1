"""GIFT read as Moodle reads it: Moodle's own test snippets and examples, round trips, errors, grading."""

from decimal import Decimal
from pathlib import Path

import pytest

from lessons.quizzes import gift
from lessons.quizzes.gift import ChoiceData, NumericalAnswer, PairData, QuestionData, QuizData, ShortAnswer
from lessons.quizzes.grading import grade_matching, grade_numerical, grade_shortanswer

MOODLE = Path(__file__).parent / "fixtures" / "moodle"


def snippets(filename):
    """Blank-line blocks with a question in them, as (first line of the block, its text padded to keep line numbers)."""
    lines = (MOODLE / filename).read_text(encoding="utf-8").split("\n")
    found, start = [], None
    for number, line in enumerate([*lines, ""], start=1):
        if line.strip() and start is None:
            start = number
        elif not line.strip() and start is not None:
            block = lines[start - 1 : number - 1]
            text = [l for l in block if not l.strip().startswith("//")]
            if text and not text[0].startswith("$CATEGORY:"):
                found.append((start, "\n" * (start - 1) + "\n".join(block)))
            start = None
    return found


def first_text_line(padded):
    return next(i for i, l in enumerate(padded.split("\n"), start=1) if l.strip() and not l.strip().startswith("//"))


# Expected values: what Moodle's tests assert (giftformat_test.php), or what Moodle's
# readquestion() makes of the examples. Weights are percents.
def single(text, answers, **extra):
    return {"kind": "single", "text": text, "answers": answers, **extra}


def multiple(text, answers, **extra):
    return {"kind": "multiple", "text": text, "answers": answers, **extra}


def tf(text, correct, true_feedback="", false_feedback="", **extra):
    return {"kind": "truefalse", "text": text, "answers": (correct, true_feedback, false_feedback), **extra}


def matching(text, pairs, **extra):
    return {"kind": "matching", "text": text, "answers": pairs, **extra}


def numerical(text, answers, **extra):
    return {"kind": "numerical", "text": text, "answers": answers, **extra}


def short(text, answers, **extra):
    return {"kind": "shortanswer", "text": text, "answers": answers, **extra}


ESSAY, MISSING = "essay", "missing-word"
GRANT = "Who's buried in Grant's tomb?"
GRANT_MC = single(GRANT, [("Grant", 0, ""), ("Jefferson", 0, ""), ("no one", 100, "")])
GRANT_SA = short(GRANT, [("no one", 100, ""), ("nobody", 100, "")])
GRANT_TF = tf("Grant is buried in Grant's tomb.", False)
BORN = "When was Ulysses S. Grant born?"
JAPAN = single("Japanese characters originally came from what country?", [("India", 0, ""), ("China", 100, ""), ("Korea", 0, ""), ("Egypt", 0, "")])
CONTROL = "Which of the following is NOT a control character for the GIFT import format?"
CONTROL_FEEDBACK = (
    "Correct! \\ (backslash) is not a control character. BUT,\n"
    "              it is used to escape the control characters. So, to specify\n"
    "              a literal backslash, you must escape it with a backslash\n"
    "              (as shown in this example)."
)
SPECTRUM = "What's between orange and green in the spectrum?"
ACTIVITIES = [
    ("An activity supporting asynchronous discussions.", "Forum"),
    ("A teacher asks a question and specifies a choice of multiple responses.", "Choice"),
    ("A bank of record entries which participants can add to.", "Database"),
    ("A collection of web pages that anyone can add to or edit.", "Wiki"),
    ("", "Chat"),
]
ACTIVITY_FORMATS = ["html", "moodle", "plain", "markdown", "html"]
MATCH_ACTIVITIES = matching(
    "Match the <b>activity</b> to the description.", ACTIVITIES, title="Moodle activities", text_format="html",
    formats=ACTIVITY_FORMATS,
)
COLOURS = multiple(
    SPECTRUM, [("yellow", 50, "right; good!"), ("red", -100, "wrong"), ("off-beige", 50, "right; good!"), ("blue", -100, "wrong")],
    title="colours", formats=[("moodle", "moodle"), ("moodle", "html"), ("moodle", "moodle"), ("plain", "moodle")],
)
Q2 = single(
    SPECTRUM, [("yellow", 100, "right; good!"), ("red", 0, "wrong, it's yellow"), ("blue", 0, "wrong, it's yellow")],
    title="Q2", formats=[("moodle", "moodle"), ("moodle", "html"), ("plain", "moodle")],
)
ANIMALS = [("Frog", 100, "Good!"), ("Cat", 50, "What is it with Moodlers and cats?"), ("*", 0, "Completely wrong")]
TSL = tf("TSL is blablabla.", True, title="2-08 TSL")

EXPECTED = {
    "examples.gift.txt": [
        GRANT_MC, MISSING, GRANT_TF, GRANT_SA, numerical(BORN, [("1822", "1", 100, "")]),
        GRANT_MC, MISSING, MISSING, JAPAN, GRANT_SA, MISSING,
        tf("Grant is buried in Grant's tomb.", False), tf("The sun rises in the east.", True),
        matching("Matching Question.", [(f"subquestion{i}", f"subanswer{i}") for i in (1, 2, 3)]),
        matching(
            "Match the following countries with their corresponding capitals.",
            [("Canada", "Ottawa"), ("Italy", "Rome"), ("Japan", "Tokyo"), ("India", "New Delhi")],
        ),
        numerical(BORN, [("1822", "0", 100, "")]), MISSING, MISSING,
        numerical(BORN, [("1822", "0", 100, ""), ("1822", "2", 50, "")]),
        numerical("What's 2 plus 2?", [("4", "0", 100, "")]),
        short("Japanese characters originally\ncame from what country?", [("China", 100, "")], title="Kanji Origins"),
        MISSING,
        single(
            "What's the answer to this multiple-choice question?",
            [
                ("wrong answer", 0, "feedback comment on the wrong answer"),
                ("another wrong answer", 0, "feedback comment on this wrong answer"),
                ("right answer", 100, "Very good!"),
            ],
        ),
        short(GRANT, [("no one", 100, "excellent answer!"), ("nobody", 100, "excellent answer!")]),
        short(
            "Who's buried in **Grant's tomb**?", [("no one", 100, "excellent answer!"), ("nobody", 100, "excellent answer!")],
            text_format="markdown",
        ),
        tf("Grant is buried in Grant's tomb.", False, "No one is buried in Grant's tomb.", ""),
        single("Difficult question.", [("wrong answer", 0, ""), ("half credit answer", 50, ""), ("full credit answer", 100, "")]),
        MISSING,
        short(
            "Jesus Christ was from",
            [
                ("Nazareth", 100, "Yes! That's right!"),
                ("Nazereth", 75, "Right, but misspelled."),
                ("Bethlehem", 25, "He was born here, but not raised here."),
            ],
            title="Jesus' hometown",
        ),
        multiple(
            "What two people are entombed in Grant's tomb?",
            [("No one", 0, ""), ("Grant", 50, ""), ("Grant's wife", 50, ""), ("Grant's father", 0, "")],
        ),
        multiple(
            "What two people are entombed in Grant's tomb?",
            [("No one", -50, ""), ("Grant", 50, ""), ("Grant's wife", 50, ""), ("Grant's father", -50, "")],
        ),
        single("Which answer equals 5?", [("= 2 + 2", 0, ""), ("= 2 + 3", 100, ""), ("= 2 + 4", 0, "")]),
        single(
            CONTROL,
            [(c, 0, f"{c} is a control character.") for c in "~=#{}"] + [("\\", 100, CONTROL_FEEDBACK)],
            title="GIFT Control Characters",
        ),
        GRANT_MC, MISSING, GRANT_TF, GRANT_SA, numerical(BORN, [("1822", "5", 100, "")]),
        matching(
            "Match the following countries with their corresponding\ncapitals.",
            [("Canada", "Ottawa"), ("Italy", "Rome"), ("Japan", "Tokyo")],
        ),
        MISSING,
        single(
            "Difficult multiple choice question.",
            [
                ("wrong answer", 0, "comment on wrong answer"),
                ("half credit answer", 50, "comment on answer"),
                ("full credit answer", 100, "well done!"),
            ],
        ),
        MISSING,
        numerical(
            BORN,
            [
                ("1822", "0", 100, "Correct! 100% credit"),
                ("1822", "2", 50, "He was born in 1822.\n                  You get 50% credit for being close."),
            ],
            title="Numerical example",
        ),
    ],
    "questions.gift.txt": [
        ESSAY, MATCH_ACTIVITIES, Q2, COLOURS, MISSING,
        short("Which is the best animal?", ANIMALS, title="Shortanswer"),
        MISSING, TSL, TSL,
    ],
    "questions_in_category.gift.txt": [
        matching(
            "Match the activity to the description.", ACTIVITIES, title="Moodle activities", text_format="html",
            formats=["html"] * 5,
        ),
        single(
            '<a href="http://demo.moodle.net/file.php/5/media/bonjour.mp3">Listen to this greeting:</a><br /><br />'
            "What language is being spoken?",
            [("English", 0, "Sorry, listen again."), ("French", 100, "Yes, well done!"), ("German", 0, "Sorry, listen again."), ("Spanish", 0, "Sorry, listen again.")],
            title="Greeting", text_format="html",
        ),
        short("Anyone who uses Moodle is a ...", [("Moodler", 100, "")], title="Moodle user", text_format="html"),
        tf(
            'Moodle is an acronym for <span style="font-style: italic;">Modular Object-Oriented Dynamic Learning Environment</span>.',
            True, title="Moodle acronym", text_format="html",
        ),
    ],
    "giftformat_test.gift.txt": [
        ESSAY, MATCH_ACTIVITIES, Q2, COLOURS,
        multiple(SPECTRUM, [("yellow", 100, "right; good!"), ("red", -50, "wrong"), ("blue", -50, "wrong")], title="colours"),
        numerical("What is a number from 1 to 5?", [("3", "2", 100, ""), (None, "0", 0, "Completely wrong")], title="Q5"),
        short("Which is the best animal?", ANIMALS, title="Shortanswer"),
        short(
            "Which is the best animal?", ANIMALS, title="Shortanswer", explanation="Here is some general feedback!",
            explanation_format="html",
        ),
        tf("42 is the Absolute Answer to everything.", False, "42 is the Ultimate Answer.", "You gave the right answer.", title="Q1"),
        TSL, TSL, ESSAY, ESSAY, ESSAY, ESSAY,
        matching(
            "Match the <b>activity</b> to the description.",
            [('<div class="frog">An activity supporting asynchronous discussions.</div>', "Forum"), *ACTIVITIES[1:]],
            title="Moodle activities", text_format="html", formats=ACTIVITY_FORMATS,
        ),
        single(
            SPECTRUM, [("yellow", 100, "right; good!"), ("red", 0, "wrong, it's yellow"), ("blue", 0, "wrong, it's yellow")],
            title="Q8", formats=[("moodle", "moodle"), ("moodle", "html"), ("plain", "moodle")],
        ),
        multiple(
            SPECTRUM, [("yellow", 100, "right; good!"), ("red", -50, "wrong, it's yellow"), ("blue", -50, "wrong, it's yellow")],
            title="Q8",
        ),
        numerical("What is a number from 1 to 5?", [("3", "2", 100, ""), (None, "0", 0, "Completely wrong")], title="Q5"),
        short("Which is the best animal?", ANIMALS, title="Shortanswer"),
        short(
            "Which is the best animal?", ANIMALS, title="Shortanswer", explanation="Here is some general feedback!",
            explanation_format="html",
        ),
        tf("42 is the Absolute Answer to everything.", True, "You gave the right answer.", "42 is the Ultimate Answer.", title="Q1"),
        ESSAY,
        tf(
            "The answer is true.", True, "This is the right answer.", "This is the wrong answer.", title="True/false question",
            text_format="html", explanation="You should have selected true.", explanation_format="html", idnumber="myid",
            tags=["tag1", "tag2"],
        ),
    ],
}

CASES = [
    (filename, index, start, padded, expected)
    for filename, table in EXPECTED.items()
    for index, ((start, padded), expected) in enumerate(zip(snippets(filename), table, strict=True))
]
SUPPORTED = [c for c in CASES if isinstance(c[4], dict)]
REFUSED = [c for c in CASES if isinstance(c[4], str)]


def observed(q):
    """The question in the shape of the expected table."""
    if q.kind in ("single", "multiple"):
        answers = [(c.text, c.percent, c.feedback) for c in q.choices]
        formats = [(c.text_format, c.feedback_format) for c in q.choices]
    elif q.kind == "truefalse":
        true, false = q.choices
        answers, formats = (true.weight == 100, true.feedback, false.feedback), None
    elif q.kind == "matching":
        answers, formats = [(p.left, p.right) for p in q.pairs], [p.left_format for p in q.pairs]
    elif q.kind == "numerical":
        answers = [(a.value, a.tolerance, a.weight, a.feedback) for a in q.numbers]
        formats = None
    else:
        answers, formats = [(a.text, a.weight, a.feedback) for a in q.answers], None
    return {
        "kind": q.kind, "text": q.text, "answers": answers, "title": q.title, "text_format": q.text_format,
        "explanation": q.explanation, "explanation_format": q.explanation_format or q.text_format,
        "idnumber": q.idnumber, "tags": q.tags, "formats": formats,
    }


def wanted(expected):
    answers = expected["answers"]
    if expected["kind"] == "numerical":
        answers = [(None if v is None else Decimal(v), Decimal(t), Decimal(w), f) for v, t, w, f in answers]
    elif expected["kind"] in ("single", "multiple", "shortanswer"):
        answers = [(t, Decimal(w), f) for t, w, f in answers]
    text_format = expected.get("text_format", "moodle")
    return {
        "kind": expected["kind"], "text": expected["text"], "answers": answers, "title": expected.get("title", ""),
        "text_format": text_format, "explanation": expected.get("explanation", ""),
        "explanation_format": expected.get("explanation_format", text_format),
        "idnumber": expected.get("idnumber", ""), "tags": expected.get("tags", []),
    }


def read_exactly(case):
    filename, index, start, padded, expected = case
    try:
        parsed = gift.parse(padded, moodle=True)
    except gift.GiftError as exc:
        return isinstance(expected, str) and expected in exc.message and exc.line == first_text_line(padded)
    if isinstance(expected, str) or len(parsed.questions) != 1:
        return False
    got = observed(parsed.questions[0])
    formats_ok = "formats" not in expected or got["formats"] == expected["formats"]
    return formats_ok and {k: got[k] for k in wanted(expected)} == wanted(expected)


@pytest.mark.parametrize("filename, index, start, padded, expected", SUPPORTED, ids=[f"{c[0]}#{c[1]}" for c in SUPPORTED])
def test_moodle_snippet_is_read_as_moodle_reads_it(filename, index, start, padded, expected):
    question = gift.parse(padded, moodle=True).questions[0]
    got = observed(question)
    assert {k: got[k] for k in wanted(expected)} == wanted(expected)
    if "formats" in expected:
        assert got["formats"] == expected["formats"]
    assert question.line == first_text_line(padded)


@pytest.mark.parametrize("filename, index, start, padded, expected", REFUSED, ids=[f"{c[0]}#{c[1]}" for c in REFUSED])
def test_moodle_snippet_of_an_unsupported_type_is_refused_with_its_line_and_type(filename, index, start, padded, expected):
    with pytest.raises(gift.GiftError) as info:
        gift.parse(padded, moodle=True)
    assert info.value.line == first_text_line(padded)
    assert f"{expected} questions" in info.value.message


def test_every_moodle_snippet_is_read_exactly():
    exact = [c for c in CASES if read_exactly(c)]
    print(f"\nMoodle GIFT snippets read exactly: {len(exact)} of {len(CASES)} ({len(SUPPORTED)} supported, {len(REFUSED)} refused)")
    assert len(CASES) == 80
    assert len(exact) == len(CASES)


@pytest.mark.parametrize("filename, index, start, padded, expected", SUPPORTED, ids=[f"{c[0]}#{c[1]}" for c in SUPPORTED])
def test_moodle_snippet_round_trip_export_import_export_is_byte_identical(filename, index, start, padded, expected):
    parsed = gift.parse(padded, moodle=True)
    exported = gift.write(parsed, moodle=True)
    again = gift.parse(exported, moodle=True)
    assert gift.write(again, moodle=True) == exported
    assert [observed(q) for q in again.questions] == [observed(q) for q in parsed.questions]


def test_category_is_kept_and_written_back():
    quiz = gift.parse((MOODLE / "questions_in_category.gift.txt").read_text(encoding="utf-8"), moodle=True)
    assert {q.category for q in quiz.questions} == {"$course$/Default for New Features"}
    text = gift.write(quiz, moodle=True)
    assert text.count("$CATEGORY: $course$/Default for New Features\n") == 1
    assert gift.write(gift.parse(text, moodle=True), moodle=True) == text


def test_idnumber_gives_the_identity_and_is_written_back_with_tags():
    q = gift.parse("// [tag:  basic] Here is\n// a [id:   four   ] que[tag:add   ]stion.\n::Free text / name::Q?{T}\n", moodle=True).questions[0]
    assert (q.name, q.title, q.idnumber, q.tags) == ("four", "Free text / name", "four", ["basic", "add"])
    assert "// [id:four] [tag:basic] [tag:add]\n::Free text / name:: " in gift.write(QuizData([q]))


@pytest.mark.parametrize(
    "source, identity",
    [
        ("::Q1::x{T}", "Q1"),
        ("::2-08 TSL::x{T}", "2-08-tsl"),
        ("::Jesus' hometown (Short answer ex.)::x{T}", "jesus-hometown-short-answer-ex"),
        ("Who's buried in Grant's tomb?{T}", "whos-buried-in-grants-tomb"),
        ("// [id:i\\]d]\n::a::x{T}", "id"),
    ],
)
def test_stable_identity_comes_from_id_then_name_then_text(source, identity):
    assert gift.parse(source, moodle=True).questions[0].name == identity


def test_unnamed_questions_with_the_same_text_get_distinct_identities():
    quiz = gift.parse("Same?{T}\n\nSame?{F}\n", moodle=True)
    assert [q.name for q in quiz.questions] == ["same", "same-2"]


# --- Round trips per type and the writer's care ------------------------------------------

ALL_TYPES = """$CATEGORY: $course$/Bone

// section: remodeling
// [id:hb-1] [tag:bone]
::Cells / one:: [markdown]Which cell resorts bone \\{really\\}\\: **yes**?{
=Osteoclast #Right \\# one
~[html]<b>Osteoblast</b> #[plain]No <b>
~%0%%50% of cells #Text that starts like a weight
####Because *maths* -> not matching.
}

::multi:: [markdown]Pick thirds{
~%33.33333%A #fa
~%33.33333%B
~%33.33333%C -> D
~%-100%E
}

::eighths:: [markdown]Pick eight{
~%12.5%A
~%12.5%B
~%12.5%C
~%12.5%D
~%12.5%E
~%12.5%F
~%12.5%G
~%12.5%H
}

::tf:: [markdown]The sky is green.{FALSE#It is not green.#Right -> blue.
####Rayleigh.
}

::match:: [markdown]Match{
=PTH -> raises calcium
=Calcitonin -> lowers calcium
=[plain]<T-score> -> a -> b
= -> distractor
}

::num:: [markdown]T-score cut-off{#
=-2.5:0.05 #Right
=%50%-3..-2 #Close
=%33.33333%* #Anything
}

::num2:: [markdown]Year{#
=1822
~#Wrong
}

::short:: [markdown]Name the hormone{
=parathyroid hormone #Right
=%50%PTH* #Abbreviation
=%0%%50%x
}
"""


def test_every_type_round_trips_byte_identical():
    parsed = gift.parse(ALL_TYPES, moodle=True)
    assert [q.kind for q in parsed.questions] == ["single", "multiple", "multiple", "truefalse", "matching", "numerical", "numerical", "shortanswer"]
    assert gift.write(parsed, moodle=True) == ALL_TYPES
    assert gift.parse(gift.write(parsed, moodle=True), moodle=True) == parsed


def test_round_trip_keeps_escapes_formats_weights_and_text_that_looks_like_syntax():
    one, multi, eighths, truefalse, match, num, _, short = gift.parse(ALL_TYPES, moodle=True).questions
    assert one.text == "Which cell resorts bone {really}: **yes**?" and one.text_format == "markdown"
    assert [(c.text, c.percent, c.text_format, c.feedback_format) for c in one.choices] == [
        ("Osteoclast", 100, "markdown", "markdown"),
        ("<b>Osteoblast</b>", 0, "html", "plain"),
        ("%50% of cells", 0, "markdown", "markdown"),
    ]
    assert one.choices[0].feedback == "Right # one" and one.explanation == "Because *maths* -> not matching."
    assert [c.percent for c in multi.choices] == [Decimal("33.33333")] * 3 + [Decimal(-100)]
    assert multi.choices[2].text == "C -> D"
    assert [c.percent for c in eighths.choices] == [Decimal("12.5")] * 8
    assert [(c.text, c.weight, c.feedback) for c in truefalse.choices] == [("True", 0, "It is not green."), ("False", 100, "Right -> blue.")]
    assert [(p.left, p.right, p.left_format) for p in match.pairs][2:] == [("<T-score>", "a -> b", "plain"), ("", "distractor", "markdown")]
    assert [(a.value, a.tolerance, a.weight, a.range) for a in num.numbers] == [
        (Decimal("-2.5"), Decimal("0.05"), 100, None),
        (Decimal("-2.5"), Decimal("0.5"), 50, (Decimal(-3), Decimal(-2))),
        (None, 0, Decimal("33.33333"), None),
    ]
    assert [(a.text, a.weight) for a in short.answers] == [("parathyroid hormone", 100), ("PTH*", 50), ("%50%x", 0)]


@pytest.mark.parametrize(
    "choices, answer, right_feedback",
    [
        ([ChoiceData("Yes", 0, "fy"), ChoiceData("No", 100, "fn")], "FALSE", "fn"),
        ([ChoiceData("No", 100, "fn"), ChoiceData("Yes", 0, "fy")], "FALSE", "fn"),
        ([ChoiceData("Yes", 100, "fy"), ChoiceData("No", 0, "fn")], "TRUE", "fy"),
        ([ChoiceData("False", 0, "ff"), ChoiceData("True", 100, "ft")], "TRUE", "ft"),
    ],
)
def test_true_false_is_written_by_which_answer_is_right_not_by_its_label(choices, answer, right_feedback):
    text = gift.write(QuizData([QuestionData("q", "truefalse", "Statement", choices)]))
    assert f"{{{answer}#" in text and text.split("\n")[0].endswith(f"#{right_feedback}")
    back = gift.parse(text).questions[0]
    right = next(c for c in back.choices if c.weight == 100)
    assert (right.text, right.feedback) == (answer.title(), right_feedback)


def test_short_answer_with_arrow_cannot_be_written_ambiguously():
    q = QuestionData("q", "shortanswer", "Name it", answers=[ShortAnswer("a -> b")])
    with pytest.raises(gift.GiftError, match="would be read as matching"):
        gift.write(QuizData([q]))


def test_data_built_by_the_loader_writes_as_before():
    q = QuestionData("q1", "multiple", "Pick", [ChoiceData("A", 50, "fa"), ChoiceData("B", 50), ChoiceData("C", -100)])
    assert gift.write(QuizData([q])) == "::q1:: [markdown]Pick{\n~%50%A #fa\n~%50%B\n~%-100%C\n}\n"


# --- Grades ---------------------------------------------------------------------------


@pytest.mark.parametrize("weight", ["33.33333", "-33.33333", "12.5", "66.66667", "14.28571", "83.33333", "5", "-100"])
def test_moodle_grades_are_accepted(weight):
    assert gift.is_moodle_grade(Decimal(weight))


@pytest.mark.parametrize("weight", ["33", "34", "33.3", "15", "12"])
def test_grades_outside_moodles_list_are_refused_when_reading_for_moodle(weight):
    rest = 100 - Decimal(weight)
    source = f"::a::Q{{~%{weight}%x ~%{rest}%y ~%-100%z}}\n"
    with pytest.raises(gift.GiftError) as info:
        gift.parse(source, moodle=True)
    assert info.value.line == 1 and "not one of Moodle's grades" in info.value.message


def test_writer_for_moodle_refuses_a_weight_moodle_would_refuse():
    q = QuestionData("q", "multiple", "Pick", [ChoiceData("A", 33), ChoiceData("B", 33), ChoiceData("C", 34)])
    assert "~%33%A" in gift.write(QuizData([q]))
    with pytest.raises(gift.GiftError, match="33% is not one of Moodle's grades"):
        gift.write(QuizData([q]), moodle=True)


def test_loader_mode_keeps_whole_percents_and_the_three_stored_types():
    with pytest.raises(gift.GiftError, match="must be a whole percent"):
        gift.parse("::a::Q{" + " ".join(["~%12.5%x"] * 8) + "}\n")
    for source, kind in [("::a::Q{=x -> y =z -> w}", "matching"), ("::a::Q{#3:1}", "numerical"), ("::a::Q{=x}", "short-answer")]:
        with pytest.raises(gift.GiftError, match=f"{kind} questions are not supported yet"):
            gift.parse(source)
    thirds = gift.parse("::a::Q{~%33.33333%x ~%33.33333%y ~%33.33333%z}", moodle=True).questions[0]
    assert [c.weight for c in thirds.choices] == [33, 33, 33]


# --- Encodings and line endings ---------------------------------------------------------


def test_bom_and_crlf_are_read_like_plain_utf8():
    plain = gift.parse("::a:: [markdown]Größer?{\n=ja\n~nein\n}\n")
    assert gift.parse("\ufeff::a:: [markdown]Größer?{\r\n=ja\r\n~nein\r\n}\r\n") == plain
    assert gift.parse("\ufeff::a:: [markdown]Größer?{\r\n=ja\r\n~nein\r\n}\r\n".encode()) == plain


def test_non_utf8_bytes_are_a_gift_error_with_file_and_line():
    data = "::a::Q{=x ~y}\n\n::b::Größer?{=ja ~nein}\n".encode("latin-1")
    with pytest.raises(gift.GiftError) as info:
        gift.decode(data, "alpha/fundamentals.gift")
    assert info.value.line == 3
    assert str(info.value).startswith("alpha/fundamentals.gift:3: byte 0xf6 at column 8 is not UTF-8")


# --- Grading as Moodle grades -------------------------------------------------------------


def test_matching_grade_is_right_pairs_over_stems():
    pairs = [PairData("PTH", "raises"), PairData("Calcitonin", "lowers"), PairData("Estrogen", "slows loss"), PairData("", "nothing")]
    assert grade_matching(pairs, {0: "raises", 1: "lowers", 2: "slows loss"}).fraction == 1
    assert grade_matching(pairs, {0: "raises", 1: "nothing", 2: "lowers"}).fraction == pytest.approx(1 / 3)
    assert grade_matching(pairs, {}).fraction == 0


NUMBERS = [
    NumericalAnswer(Decimal(1822), Decimal(0), Decimal(100), "Exact"),
    NumericalAnswer(Decimal(1822), Decimal(2), Decimal(50), "Close"),
    NumericalAnswer(None, Decimal(0), Decimal(0), "Wrong"),
]


@pytest.mark.parametrize(
    "response, fraction, feedback",
    [("1822", 1, "Exact"), (" 1822.0 ", 1, "Exact"), ("1824", 0.5, "Close"), ("1820", 0.5, "Close"), ("1824,0001", 0, "Wrong"), ("1,8e3", 0, "Wrong")],
)
def test_numerical_grade_is_the_first_answer_whose_interval_holds_the_response(response, fraction, feedback):
    grade = grade_numerical(NUMBERS, response)
    assert (grade.fraction, grade.feedback) == (fraction, feedback)


def test_numerical_range_and_invalid_responses():
    pi = gift.parse("::pi::Pi?{#3.141..3.142}", moodle=True).questions[0].numbers
    assert grade_numerical(pi, "3.1415").fraction == 1 and grade_numerical(pi, "3.142").fraction == 1
    assert grade_numerical(pi, "3.1425").fraction == 0
    assert grade_numerical(pi, "three") is None and grade_numerical(pi, "") is None


@pytest.mark.parametrize(
    "response, fraction, feedback",
    [("frog", 1, "Good!"), ("  FROG ", 1, "Good!"), ("cat", 0.5, "What is it with Moodlers and cats?"), ("dog", 0, "Completely wrong")],
)
def test_short_answer_grade_is_the_first_match_ignoring_case_with_wildcards(response, fraction, feedback):
    answers = [ShortAnswer(t, Decimal(w), f) for t, w, f in ANIMALS]
    grade = grade_shortanswer(answers, response)
    assert (grade.fraction, grade.feedback) == (fraction, feedback)


def test_short_answer_wildcards_and_escaped_star():
    answers = [ShortAnswer("para*hormone", Decimal(100)), ShortAnswer("a\\*b", Decimal(50))]
    assert grade_shortanswer(answers, "Parathyroid Hormone").fraction == 1
    assert grade_shortanswer(answers, "A*B").fraction == 0.5 and grade_shortanswer(answers, "axxb").fraction == 0
    assert grade_shortanswer(answers, "   ") is None
    assert grade_shortanswer(answers, "PARAHORMONE", case_sensitive=True).fraction == 0


def test_an_identity_that_the_name_would_not_give_is_kept_in_a_name_comment():
    q = QuestionData("cells-1", "truefalse", "Bone is alive.", [ChoiceData("True", 100), ChoiceData("False", 0)], title="Cells / renamed")
    text = gift.write(QuizData([q]), moodle=True)
    assert text.startswith("// name: cells-1\n::Cells / renamed:: [markdown]Bone is alive.{TRUE")
    back = gift.parse(text, moodle=True).questions[0]
    assert (back.name, back.title) == ("cells-1", "Cells / renamed")
    q.title = "Cells 1"  # gives the identity itself: no comment
    assert not gift.write(QuizData([q]), moodle=True).startswith("//")
    with pytest.raises(gift.GiftError) as info:
        gift.parse("\n// name: not a slug\n::a::x{T}\n", moodle=True)
    assert info.value.line == 2 and "name must be" in info.value.message
