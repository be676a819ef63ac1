"""The bundled course meets the brief: counts, lengths, readability, citations, quizzes, diagrams."""

import re

import pytest
import textstat

from lessons.models import Diagram, Lesson, Question, QuestionKind, Quiz, Reference, Status, Term, TierText
from lessons.models import load_render_sources
from lessons.rendering import render_tier

pytestmark = pytest.mark.django_db

WORDS = {"fundamentals": (400, 900), "intermediate": (800, 1600), "academic": (1200, 2500)}


def plain(body):
    """Body text as a reader hears it: no citations, diagrams, attributes or markdown marks."""
    text = re.sub(r"\[\[diagram:[^\]]+\]\]", "", body)
    text = re.sub(r"\[@[^\]]*\]|\{[^}]*\}|[#*_>|`]", "", text)
    return re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)


@pytest.fixture
def texts(bundled_course):
    return list(TierText.objects.select_related("lesson").filter(lesson__status=Status.PUBLISHED))


def test_at_least_nine_published_lessons_each_with_three_tiers(texts):
    lessons = Lesson.objects.published()
    assert lessons.count() >= 9
    for lesson in lessons:
        assert sorted(t.tier for t in lesson.tiers.all()) == ["academic", "fundamentals", "intermediate"]


def test_tier_lengths_are_within_their_ranges(texts):
    for text in texts:
        low, high = WORDS[text.tier]
        words = len(plain(text.body).split())
        assert low <= words <= high, f"{text}: {words} words, expected {low}-{high}"


def test_fundamentals_are_plain_and_readability_rises_with_depth(texts):
    grades = {(t.lesson.slug, t.tier): textstat.flesch_kincaid_grade(plain(t.body)) for t in texts}
    for slug in {s for s, _ in grades}:
        f, i, a = (grades[(slug, tier)] for tier in ("fundamentals", "intermediate", "academic"))
        assert f <= 9, f"{slug} fundamentals grade {f}"
        assert f < i < a, f"{slug}: grades {f} / {i} / {a} do not rise"


def test_every_citation_resolves_and_deeper_tiers_cite_at_least_three_sources(texts):
    for text in texts:
        assert render_tier(text.body, text.tier, load_render_sources()).problems == [], str(text)
        if text.tier != "fundamentals":
            assert len(set(text.citations)) >= 3, f"{text} cites {text.citations}"


def test_references_are_real_citations_with_doi_or_pmid(bundled_course):
    refs = Reference.objects.all()
    assert refs.filter(doi__gt="").count() + refs.filter(doi="", pmid__gt="").count() >= 40
    for ref in refs:
        assert ref.doi or ref.pmid or ref.url, ref.key
        if ref.doi:
            assert re.fullmatch(r"10\.\d{4,9}/\S+", ref.doi), ref.key


def test_glossary_has_sixty_terms_with_aliases_and_marked_acronyms(bundled_course):
    terms = list(Term.objects.all())
    assert len(terms) >= 60
    assert sum(1 for t in terms if t.aliases) >= 50
    assert all(0 < len(t.short) <= 250 for t in terms)
    acronyms = [t for t in terms if re.fullmatch(r"[A-Z][A-Z0-9-]{1,6}", t.term)]
    assert acronyms and all(t.case_sensitive for t in acronyms), [t.term for t in acronyms if not t.case_sensitive]
    assert sum(1 for t in terms if t.short_fundamentals) >= 15


def test_every_tier_has_a_quiz_of_the_right_size_with_feedback_and_review_links(texts):
    for text in texts:
        quiz = Quiz.objects.get(text=text)
        questions = list(quiz.questions.active().prefetch_related("choices"))
        assert len(questions) >= (8 if text.tier == "academic" else 6), str(text)
        kinds = {q.kind for q in questions}
        assert QuestionKind.SINGLE in kinds, str(text)
        for q in questions:
            assert q.explanation.strip(), q.name
            assert q.section in text.anchors, f"{q.name}: #{q.section} is not a section of {text}"
            choices = list(q.choices.all())
            assert len(choices) >= 2 and any(c.weight > 0 for c in choices), q.name
            if q.kind != QuestionKind.TRUE_FALSE:
                assert len(choices) >= 3, f"{q.name} needs plausible distractors"
            assert all(c.feedback.strip() for c in choices), q.name


def test_five_accessible_diagrams_all_used(texts):
    diagrams = list(Diagram.objects.all())
    assert len(diagrams) >= 5
    html = "".join(t.html for t in texts)
    for d in diagrams:
        assert f'id="diagram-{d.slug}"' in html, f"diagram {d.slug} is not used"
    assert html.count('role="img"') >= 5


def test_no_dosing_instructions_anywhere(texts):
    dose = re.compile(r"\b\d+(?:\.\d+)?\s?(?:mg|mcg|µg|μg|IU|units?|mL|ml|milligrams?)\b(?!\s*/\s*(?:dL|L)\b)", re.IGNORECASE)
    for text in texts:
        assert not dose.search(text.body), f"{text}: {dose.search(text.body).group(0)}"
    for q in Question.objects.all():
        assert not dose.search(q.text + q.explanation), q.name


def test_every_term_page_opens_and_links_each_see_also_term(client, bundled_course):
    terms = list(Term.objects.prefetch_related("see_also"))
    assert sum(len(t.see_also.all()) for t in terms) >= 60
    for term in terms:
        response = client.get(f"/glossary/{term.slug}/")
        assert response.status_code == 200, term.slug
        page = response.content.decode()
        missing = [o.slug for o in term.see_also.all() if f'href="/glossary/{o.slug}/"' not in page]
        assert missing == [], f"{term.slug}: no link to {missing}"

# --- Issue 13: structure that keeps the content honest ------------------------------------


def _blocks(body):
    """Paragraphs and list items of a tier's markdown, without headings and figure captions."""
    blocks, after_diagram = [], False
    for chunk in re.split(r"\n\s*\n", body):
        chunk = chunk.strip()
        if not chunk or chunk.startswith("#"):
            continue
        if chunk.startswith("[[diagram:"):
            after_diagram = True
            continue
        if after_diagram:  # the caption of the diagram above
            after_diagram = False
            continue
        items = re.split(r"\n(?=\s*(?:[-*+]|\d+\.)\s)", chunk)
        blocks.extend(items)
    return blocks


def test_every_paragraph_that_mentions_a_therapy_labels_its_evidence(texts):
    therapies = {t.slug for t in Term.objects.exclude(evidence="")}
    assert len(therapies) >= 15, "therapy terms need evidence data in glossary.toml"
    glossary = load_render_sources().glossary
    unlabelled = []
    for text in texts:
        for block in _blocks(text.body):
            mentioned = {slug for _, _, slug in glossary.find(block)} & therapies
            if mentioned and "[[evidence:" not in block:
                unlabelled.append(f"{text.lesson.slug}/{text.tier}: {sorted(mentioned)} in “{block[:70]}…”")
    assert unlabelled == [], "\n".join(unlabelled)


def test_every_therapy_term_says_what_its_evidence_is(bundled_course):
    for term in Term.objects.exclude(evidence=""):
        assert term.evidence_note.strip(), term.slug


def test_terms_linked_from_fundamentals_have_plain_definitions(texts):
    linked = {slug for t in texts if t.tier == "fundamentals" for slug in t.terms}
    assert len(linked) >= 50
    hard = {}
    for term in Term.objects.filter(slug__in=linked):
        grade = textstat.flesch_kincaid_grade(term.short_for("fundamentals"))
        if grade > 8:
            hard[term.slug] = grade
    assert hard == {}


def test_every_h2_has_a_section_key_shared_by_the_other_tiers(texts):
    by_lesson = {}
    for text in texts:
        by_lesson.setdefault(text.lesson.slug, {})[text.tier] = [i for i in text.toc if i["level"] == 2 and i["id"] != "references"]
    missing = []
    for slug, tiers in by_lesson.items():
        keys = {tier: {i["key"] for i in items} for tier, items in tiers.items()}
        for tier, items in tiers.items():
            for item in items:
                others = [t for t in keys if t != tier and item["key"] not in keys[t]]
                if others and not item["solo"]:
                    missing.append(f"{slug}/{tier} #{item['id']} (key {item['key']}) has no match in {others}")
    assert missing == [], "\n".join(missing)


def test_every_lesson_has_a_diagram_in_fundamentals_and_a_deeper_tier(texts):
    used = {}
    for text in texts:
        used.setdefault(text.lesson.slug, {})[text.tier] = set(re.findall(r"\[\[diagram:([a-z0-9-]+)\]\]", text.body))
    for slug, tiers in used.items():
        assert tiers["fundamentals"], f"{slug}: no diagram at Fundamentals"
        assert tiers["intermediate"] | tiers["academic"], f"{slug}: no diagram at Intermediate or Academic"
        assert len(set().union(*tiers.values())) >= 2, f"{slug}: fewer than two diagrams"
    assert len(set().union(*(s for tiers in used.values() for s in tiers.values()))) >= 20


def test_every_tier_says_when_it_was_reviewed(texts):
    assert [str(t) for t in texts if t.reviewed is None] == []


def test_no_term_lists_a_name_twice_up_to_case_and_hyphens(bundled_course):
    from lessons.models import name_key

    for term in Term.objects.all():
        keys = [name_key(n) for n in term.names()]
        assert len(keys) == len(set(keys)), term.slug


def test_a_choose_all_question_says_choose_all_that_apply_once(client, bundled_course):
    """Found by hand: every multiple-select question's text ended "Choose all that apply." and the
    page adds that hint itself, so learners read it twice under each such question."""
    quiz = "/lessons/bone-is-alive/academic/quiz/"
    questions = Quiz.objects.get(text__lesson__slug="bone-is-alive", text__tier="academic").questions.filter(archived=False)
    client.post(quiz + "start/")
    seen = 0
    for _ in range(questions.count()):
        page = client.get(quiz).content.decode()
        fields = {name: re.search(rf'name="{name}" value="(\d+)"', page).group(1) for name in ("attempt", "question", "choice")}
        if 'type="checkbox"' in page:
            seen += 1
            assert page.count("Choose all that apply") == 1
        client.post(quiz + "answer/", fields)
    assert seen == questions.filter(kind=QuestionKind.MULTIPLE).count() > 0
    assert not [q.name for q in Question.objects.filter(kind=QuestionKind.MULTIPLE) if "all that apply" in q.text.lower()]
