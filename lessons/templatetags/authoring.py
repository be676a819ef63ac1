"""{% edit_links obj %}: admin links for staff who may change what a public page shows."""

from django import template
from django.urls import reverse

from ..models import Quiz, Term, TierText

register = template.Library()


def edit_links_for(user, obj) -> list:
    """(label, url) pairs for the admin pages where this user may change obj; none for anyone else."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return []
    candidates = {
        TierText: [
            ("Edit this tier", "lessons.change_tiertext", "admin:lessons_tiertext_change", lambda o: o.pk),
            ("Edit the lesson", "lessons.change_lesson", "admin:lessons_lesson_change", lambda o: o.lesson_id),
        ],
        Term: [("Edit this term", "lessons.change_term", "admin:lessons_term_change", lambda o: o.pk)],
        Quiz: [("Edit this quiz", "lessons.change_quiz", "admin:lessons_quiz_change", lambda o: o.pk)],
    }.get(type(obj), [])
    return [(label, reverse(name, args=[pk(obj)])) for label, perm, name, pk in candidates if user.has_perm(perm)]


@register.inclusion_tag("lessons/edit_links.html", takes_context=True)
def edit_links(context, obj):
    # Anonymous pages are cached (page_cache.py) and anonymous users get no links, so none leak into the cache.
    request = context.get("request")
    return {"links": edit_links_for(request.user, obj) if request else []}
