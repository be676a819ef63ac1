"""Keep stored tier HTML in step with the glossary, references and diagrams.

A changed term re-renders exactly the tier texts that mention (or mentioned) it, so no
page shows a stale definition or a link to a renamed or deleted term.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from .models import Diagram, Reference, Term, TierText
from .rendering import Glossary

_suspended = ContextVar("rerender_suspended", default=False)


@contextmanager
def rerender_suspended():
    """For bulk loads that render every tier themselves afterwards."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)


def rerender(texts):
    texts = list(texts)
    if not texts:
        return []
    glossary = Glossary.from_db()
    references = {r.key: r for r in Reference.objects.all()}
    diagrams = {d.slug: d.svg for d in Diagram.objects.all()}
    for text in texts:
        text.render(glossary=glossary, references=references, diagrams=diagrams)
        text.save(render=False)
    return texts


def texts_mentioning(names, slug):
    folded = [n.lower() for n in names if n]
    return [
        t
        for t in TierText.objects.select_related("lesson")
        if slug in t.terms or any(n in t.body.lower() for n in folded)
    ]


@receiver(pre_save, sender=Term)
def remember_term_names(sender, instance, **kwargs):
    old = Term.objects.filter(pk=instance.pk).first() if instance.pk else None
    instance._old = (old.slug, old.names()) if old else (None, [])


@receiver(post_save, sender=Term)
@receiver(post_delete, sender=Term)
def term_changed(sender, instance, raw=False, **kwargs):
    if raw or _suspended.get():
        return
    old_slug, old_names = getattr(instance, "_old", (None, []))
    affected = {t.pk: t for t in texts_mentioning(instance.names() + old_names, instance.slug)}
    if old_slug and old_slug != instance.slug:
        affected.update({t.pk: t for t in texts_mentioning([], old_slug)})
    rerender(affected.values())


@receiver(post_save, sender=Reference)
@receiver(post_delete, sender=Reference)
@receiver(post_save, sender=Diagram)
@receiver(post_delete, sender=Diagram)
def source_changed(sender, instance, raw=False, **kwargs):
    if raw or _suspended.get():
        return
    needle = f"@{instance.key}" if sender is Reference else f"[[diagram:{instance.slug}]]"
    rerender(t for t in TierText.objects.select_related("lesson") if needle in t.body)
