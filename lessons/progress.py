"""What a reader has done in this browser: the tiers read, where the reader got to in each
tier, the tier read most recently and the last tier opened per lesson, in
`request.progress` (a signed cookie, see middleware.ProgressMiddleware, so reading writes
no session), the depth they read at, and the learner id in the server-side session once they start a quiz.

Opening a tier does not count as reading it. Tier pages are cached for every anonymous
reader, so the page sends a small beacon (static/js/site.js, views.reading_place) when the
reader reaches the end; for readers without JavaScript, opening the tier's quiz counts.
"""

import uuid

from django.http import HttpRequest

from .models import TIERS, Tier


def learner_id(request: HttpRequest) -> str:
    """A stable id for this browser, created the first time a learner does something worth keeping."""
    key = request.session.get("learner")
    if not key:
        key = request.session["learner"] = uuid.uuid4().hex
    return key


def existing_learner_id(request: HttpRequest) -> str:
    return request.session.get("learner", "")


def note_opened(request: HttpRequest, slug: str, tier: str) -> None:
    """Remember the tier last opened in this lesson (where /lessons/<slug>/ goes). Not 'read'."""
    last = request.progress.get("last_tier", {})
    if last.get(slug) != tier:
        request.progress["last_tier"] = {**last, slug: tier}
    if request.progress.get("depth") != tier:
        request.progress["depth"] = tier


def note_place(request: HttpRequest, slug: str, tier: str, section: str = "", done: bool = False) -> None:
    """The reader got to section of this tier; done means the end (or the tier's quiz) was reached."""
    key = f"{slug}/{tier}"
    read = request.progress.get("read", [])
    if done and key not in read:
        request.progress["read"] = [*read, key]
    places = request.progress.get("place", {})
    if section and places.get(key) != section:
        request.progress["place"] = {**places, key: section}
    if request.progress.get("recent") != key:
        request.progress["recent"] = key


def tiers_read(request: HttpRequest) -> set:
    return set(request.progress.get("read", []))


def places(request: HttpRequest) -> dict:
    """'slug/tier' → the section id the reader last reached there."""
    places = request.progress.get("place", {})
    return dict(places) if isinstance(places, dict) else {}


def recent(request: HttpRequest) -> tuple[str, str] | None:
    """(slug, tier) the reader was reading most recently, or None."""
    key = request.progress.get("recent", "")
    slug, _, tier = key.partition("/") if isinstance(key, str) else ("", "", "")
    return (slug, tier) if slug and tier in TIERS else None


def last_tier(request: HttpRequest, slug: str) -> str:
    tier = request.progress.get("last_tier", {}).get(slug, Tier.FUNDAMENTALS)
    return tier if tier in TIERS else Tier.FUNDAMENTALS


def preferred_depth(request: HttpRequest) -> str:
    """The depth this reader reads at: a chosen one if set, else that of the tier read last."""
    depth = request.progress.get("depth")
    if depth in TIERS:
        return depth
    last = recent(request)
    return last[1] if last else Tier.FUNDAMENTALS
