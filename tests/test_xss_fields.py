"""Issue 20: the XSS corpus through every instructor field, as saved by the admin or the
importer, on every page that shows the field. Nothing a payload adds may run."""

import pytest

from lessons.models import Choice, Lesson, Question, Reference, Term, TierText

from .test_rendering import FORBIDDEN_TAGS, URL_ATTRIBUTES, XSS, Tags, scheme

pytestmark = pytest.mark.django_db

PAYLOADS = [p for i, p in enumerate(XSS) if i % 3 == 0] + ['"><script>alert(1)</script>', "'><img src=x onerror=alert(1)>", "</title><script>alert(1)</script>"]

TIER, QUIZ, TERM = "/lessons/alpha/fundamentals/", "/lessons/alpha/fundamentals/quiz/", "/glossary/osteoclast/"


def _first_question():
    return Question.objects.filter(quiz__text__lesson__slug="alpha", quiz__text__tier="fundamentals").order_by("position").first()


# field name → (how to write the value, the pages that show it)
FIELDS = {
    "lesson title": (lambda v: Lesson.objects.filter(slug="alpha").update(title=v[:200]), ["/", TIER]),
    "lesson summary": (lambda v: Lesson.objects.filter(slug="alpha").update(summary=v[:300]), ["/", TIER]),
    "tier title": (lambda v: _save(TierText.objects.get(lesson__slug="alpha", tier="fundamentals"), title=v[:200]), [TIER, QUIZ]),
    "tier summary": (lambda v: _save(TierText.objects.get(lesson__slug="alpha", tier="fundamentals"), summary=v[:300]), [TIER]),
    "tier objective": (lambda v: _save(TierText.objects.get(lesson__slug="alpha", tier="fundamentals"), objectives=[v]), [TIER]),
    "tier body": (lambda v: _save(TierText.objects.get(lesson__slug="alpha", tier="fundamentals"), body=v + "\n\nThe osteoclast [@smith2020]."), [TIER]),
    "term name": (lambda v: _save(Term.objects.get(slug="osteoclast"), term=v[:120]), [TERM, "/glossary/", TIER]),
    "term alias": (lambda v: _save(Term.objects.get(slug="osteoclast"), aliases=["osteoclasts", v]), [TERM, "/glossary/"]),
    "term tooltip": (lambda v: _save(Term.objects.get(slug="osteoclast"), short=v[:250], short_fundamentals=""), [TERM, "/glossary/", TIER]),
    "term plain tooltip": (lambda v: _save(Term.objects.get(slug="osteoclast"), short_fundamentals=v[:250]), [TERM, TIER]),
    "term body": (lambda v: _save(Term.objects.get(slug="osteoclast"), body=v), [TERM]),
    "term evidence note": (lambda v: _save(Term.objects.get(slug="osteoclast"), evidence="trial", evidence_note=v[:300]), [TERM, TIER]),
    "reference authors": (lambda v: _save(Reference.objects.get(key="smith2020"), authors=v[:500]), [TIER]),
    "reference title": (lambda v: _save(Reference.objects.get(key="smith2020"), title=v[:500]), [TIER]),
    "reference journal": (lambda v: _save(Reference.objects.get(key="smith2020"), journal=v[:200]), [TIER]),
    "question text": (lambda v: _save(_first_question(), text=v), [QUIZ]),
    "question explanation": (lambda v: _save(_first_question(), explanation=v), ["feedback"]),
    "question text, html format": (lambda v: _save(_first_question(), text=v, text_format="html"), [QUIZ]),
    "question explanation, plain format": (lambda v: _save(_first_question(), explanation=v, explanation_format="plain"), ["feedback"]),
    "choice text": (lambda v: _save_choices(text=v[:500]), [QUIZ, "feedback"]),
    "choice text, html format": (lambda v: _save_choices(text=v[:500], text_format="html"), [QUIZ, "feedback"]),
    "choice feedback": (lambda v: _save_choices(feedback=v[:1000]), ["feedback"]),
    "choice feedback, html format": (lambda v: _save_choices(feedback=v[:1000], feedback_format="html"), ["feedback"]),
}


def _save_choices(**values):
    # Saved one by one, as the admin and the importer do, so each format is rendered.
    for choice in Choice.objects.filter(question=_first_question()):
        _save(choice, **values)


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
    client.cookies.clear()  # the same quiz state every time: a new learner
    html = []
    for page in pages:
        if page == "feedback":
            from .test_quiz import current_question, start

            attempt = start(client)
            question, _ = current_question(client)
            response = client.post(QUIZ + "answer/", {"attempt": attempt.pk, "question": question.pk, "choice": question.choices.first().pk}, follow=True)
        else:
            response = client.get(page)
        assert response.status_code == 200, page
        html.append(response.content.decode())
    return html


@pytest.mark.parametrize("field", FIELDS)
def test_no_payload_in_any_instructor_field_can_run_on_any_page(client, small_course, field):
    write, pages = FIELDS[field]
    write("harmless words")
    baseline = [dangerous(h) for h in _pages(client, pages)]
    for payload in PAYLOADS:
        write(payload)
        for page, before, html in zip(pages, baseline, _pages(client, pages)):
            assert dangerous(html) == before, f"{field} on {page}: {payload}"
