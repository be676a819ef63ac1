"""Issue 20: the XSS corpus through every instructor field, as saved by the admin or the
importer, on every page that shows the field. Nothing a payload adds may run."""

import pytest

from lessons.models import Choice, Lesson, Question, Reference, Term, TierText

from .test_rendering import FORBIDDEN_TAGS, URL_ATTRIBUTES, XSS, Tags, scheme

pytestmark = pytest.mark.django_db

PAYLOADS = [p for i, p in enumerate(XSS) if i % 3 == 0] + ['"><script>alert(1)</script>', "'><img src=x onerror=alert(1)>", "</title><script>alert(1)</script>"]

TIER, QUIZ, TERM = "/lessons/alpha/fundamentals/", "/lessons/alpha/fundamentals/quiz/", "/glossary/osteoclast/"
# "question": the quiz page showing its first question; "feedback": the page after answering it.


def _questions():
    # Every question of the quiz: an attempt may ask them in any order.
    return Question.objects.filter(quiz__text__lesson__slug="alpha", quiz__text__tier="fundamentals").order_by("position")


# field name → (the object it is saved on, its values for a given text, the pages that show it).
# Fields of one object are saved together, as the admin saves a form: one save, one render.
FIELDS = {
    "lesson title": ("lesson", lambda v: {"title": v[:200]}, ["/", TIER]),
    "lesson summary": ("lesson", lambda v: {"summary": v[:300]}, ["/", TIER]),
    "tier title": ("tier", lambda v: {"title": v[:200]}, [TIER, QUIZ]),
    "tier summary": ("tier", lambda v: {"summary": v[:300]}, [TIER]),
    "tier objective": ("tier", lambda v: {"objectives": [v]}, [TIER]),
    "tier body": ("tier", lambda v: {"body": v + "\n\nThe osteoclast [@smith2020]."}, [TIER]),
    "term name": ("term", lambda v: {"term": v[:120]}, [TERM, "/glossary/", TIER]),
    "term alias": ("term", lambda v: {"aliases": ["osteoclasts", v]}, [TERM, "/glossary/"]),
    "term tooltip": ("term", lambda v: {"short": v[:250]}, [TERM, "/glossary/"]),
    "term plain tooltip": ("term", lambda v: {"short_fundamentals": v[:250]}, [TERM, TIER]),
    "term body": ("term", lambda v: {"body": v}, [TERM]),
    "term evidence note": ("term", lambda v: {"evidence": "trial", "evidence_note": v[:300]}, [TERM, TIER]),
    "reference authors": ("reference", lambda v: {"authors": v[:500]}, [TIER]),
    "reference title": ("reference", lambda v: {"title": v[:500]}, [TIER]),
    "reference journal": ("reference", lambda v: {"journal": v[:200]}, [TIER]),
    "question text": ("question", lambda v: {"text": v, "text_format": "markdown"}, ["question"]),
    "question explanation": ("question", lambda v: {"explanation": v, "explanation_format": "markdown"}, ["feedback"]),
    "choice text": ("choices", lambda v: {"text": v[:500], "text_format": "markdown"}, ["question", "feedback"]),
    "choice feedback": ("choices", lambda v: {"feedback": v[:1000], "feedback_format": "markdown"}, ["feedback"]),
}
# A field that has other formats goes through the sweep once per format.
OTHER_FORMATS = {
    "question text, html format": ("question", lambda v: {"text": v, "text_format": "html"}, ["question"]),
    "question explanation, plain format": ("question", lambda v: {"explanation": v, "explanation_format": "plain"}, ["feedback"]),
    "choice text, html format": ("choices", lambda v: {"text": v[:500], "text_format": "html"}, ["question", "feedback"]),
    "choice feedback, html format": ("choices", lambda v: {"feedback": v[:1000], "feedback_format": "html"}, ["feedback"]),
    # The tooltip shown at Fundamentals when the term has no plain one.
    "term tooltip, no plain tooltip": ("term", lambda v: {"short": v[:250], "short_fundamentals": ""}, [TERM, "/glossary/", TIER]),
}
SWEEPS = {
    "every field": FIELDS,
    "the other formats": OTHER_FORMATS,
}


def _objects():
    return {
        "lesson": [Lesson.objects.get(slug="alpha")],
        "tier": [TierText.objects.get(lesson__slug="alpha", tier="fundamentals")],
        "term": [Term.objects.get(slug="osteoclast")],
        "reference": [Reference.objects.get(key="smith2020")],
        "question": list(_questions()),
        # Saved one by one, as the admin and the importer do, so each format is rendered.
        "choices": list(Choice.objects.filter(question__in=_questions())),
    }


def _write(fields, texts):
    """Saves texts[name] into each field, each object once."""
    values = {}
    for name, text in texts.items():
        target, to_values, _ = fields[name]
        values.setdefault(target, {}).update(to_values(text))
    for target, objects in _objects().items():
        for obj in objects if target in values else ():
            _save(obj, **values[target])


def _save(obj, **values):
    for name, value in values.items():
        setattr(obj, name, value)
    obj.save()


def dangerous(html):
    """What in a page could run script: forbidden tags, on* handlers, script-scheme URLs.
    Attribute values other than URLs are left out, so a payload shown harmlessly in a
    title or meta description does not count."""
    found = []
    for tag, attrs in Tags(html).tags:
        handlers = sorted(a for a in attrs if a.startswith("on"))
        bad_urls = sorted(a for a, v in attrs.items() if a in URL_ATTRIBUTES and scheme(v) in {"javascript", "data", "vbscript"})
        if tag in FORBIDDEN_TAGS or handlers or bad_urls or "style" in attrs:
            found.append((tag, tuple(sorted(attrs)) if tag in FORBIDDEN_TAGS else (), tuple(handlers), tuple(bad_urls)))
    return sorted(found)


def _pages(client, pages):
    from lessons import page_cache

    from .test_quiz import current_question, start

    client.cookies.clear()  # the same quiz state every time: a new learner
    page_cache.clear()
    html = {}
    for page in pages:
        if page == "question":
            start(client)
            response = client.get(QUIZ)
        elif page == "feedback":
            attempt = start(client)
            question, _ = current_question(client)
            response = client.post(QUIZ + "answer/", {"attempt": attempt.pk, "question": question.pk, "choice": question.choices.first().pk}, follow=True)
        else:
            response = client.get(page)
        assert response.status_code == 200, page
        html[page] = response.content.decode()
    return html


def _leaks(client, fields, texts, baseline):
    pages = sorted({page for name in texts for page in fields[name][2]})
    _write(fields, texts)
    found = _pages(client, pages)
    changed = {page: dangerous(found[page]) for page in pages}
    return {page: sorted(set(now) - set(baseline[page])) or now for page, now in changed.items() if now != baseline[page]}


@pytest.mark.parametrize("sweep", SWEEPS)
def test_no_payload_in_any_instructor_field_can_run_on_any_page(client, small_course, sweep):
    """Every payload goes into every field: in round r, field k holds payload r + k, so each
    round loads every page once. A page that gains something that could run is then checked
    field by field, so the failure names the field and the payload."""
    fields = SWEEPS[sweep]
    names = list(fields)
    harmless = {name: f"harmless{k}" for k, name in enumerate(names)}
    pages = sorted({page for _, _, shown in fields.values() for page in shown})
    _write(fields, harmless)
    html = _pages(client, pages)
    baseline = {page: dangerous(html[page]) for page in pages}
    for name, (_, _, shown) in fields.items():
        assert any(harmless[name] in html[page].lower() for page in shown), f"{name} is not on {shown}"
    for r in range(len(PAYLOADS)):
        texts = {name: PAYLOADS[(r + k) % len(PAYLOADS)] for k, name in enumerate(names)}
        if _leaks(client, fields, texts, baseline):
            culprits = []
            for name in names:
                _write(fields, harmless)
                if leaked := _leaks(client, fields, {name: texts[name]}, baseline):
                    culprits.append(f"{name} with {texts[name]!r}: {leaked}")
            assert not culprits, "\n".join(culprits) or f"round {r}: only the payloads together leak: {texts}"
            raise AssertionError(f"round {r}: only the payloads together leak: {texts}")
