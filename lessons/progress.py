"""What a reader has done in this browser: the tiers read and the last tier per lesson in
`request.progress` (a signed cookie, see middleware.ProgressMiddleware, so reading writes
no session), and the learner id in the server-side session once they start a quiz."""

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


def note_reading(request: HttpRequest, slug: str, tier: str) -> None:
    read = request.progress.get("read", [])
    if f"{slug}/{tier}" not in read:
        request.progress["read"] = [*read, f"{slug}/{tier}"]
    last = request.progress.get("last_tier", {})
    if last.get(slug) != tier:
        request.progress["last_tier"] = {**last, slug: tier}


def tiers_read(request: HttpRequest) -> set:
    return set(request.progress.get("read", []))


def last_tier(request: HttpRequest, slug: str) -> str:
    tier = request.progress.get("last_tier", {}).get(slug, Tier.FUNDAMENTALS)
    return tier if tier in TIERS else Tier.FUNDAMENTALS
