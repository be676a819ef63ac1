"""What a reader has done: the tiers read, where the reader got to in each tier, the tier read
most recently, the last tier opened per lesson and the depth they read at; and the learner id
that keys their quiz attempts.

An anonymous reader's progress is `request.progress`, a signed cookie (see
middleware.ProgressMiddleware, so reading writes no session and no row), and their learner id
sits in the server-side session once they start a quiz. A signed-in learner's progress is kept
in TierProgress rows and one ReadingState row, so every device sees the same course map, and
their learner id is derived from the account. The functions below read and write whichever
applies; callers never ask which.

Opening a tier does not count as reading it. Tier pages are cached for every anonymous
reader, so the page sends a small beacon (static/js/site.js, views.reading_place) when the
reader reaches the end; for readers without JavaScript, opening the tier's quiz counts.
"""

import uuid

from django.http import HttpRequest
from django.utils import timezone

from ..models import TIER_CHOICES, TIERS, ReadingState, Tier, TierProgress


def account_learner_id(user) -> str:
    """The learner id of an account: stable, never a browser's random one (those are uuid hex)."""
    return f"user-{user.pk}"


def learner_id(request: HttpRequest) -> str:
    """A stable id for this learner, created the first time an anonymous one does something worth keeping."""
    if request.user.is_authenticated:
        return account_learner_id(request.user)
    key = request.session.get("learner")
    if not key:
        key = request.session["learner"] = uuid.uuid4().hex
    return key


def existing_learner_id(request: HttpRequest) -> str:
    if request.user.is_authenticated:
        return account_learner_id(request.user)
    return request.session.get("learner", "")


def account_state(user) -> dict:
    """An account's progress in the cookie's shape (two queries)."""
    state: dict = {"read": [], "place": {}, "last_tier": {}}
    opened = {}
    for row in TierProgress.objects.filter(user=user).only("lesson", "tier", "read", "place", "opened_at"):
        if row.read:
            state["read"].append(row.key)
        if row.place:
            state["place"][row.key] = row.place
        if row.opened_at and (row.lesson not in opened or row.opened_at > opened[row.lesson]):
            opened[row.lesson] = row.opened_at
            state["last_tier"][row.lesson] = row.tier
    depth, recent = ReadingState.objects.filter(user=user).values_list("depth", "recent").first() or ("", "")
    if depth:
        state["depth"] = depth
    if recent:
        state["recent"] = recent
    return state


def _state(request: HttpRequest) -> dict:
    if request.user.is_authenticated:
        if not hasattr(request, "account_progress"):
            request.account_progress = account_state(request.user)
        return request.account_progress
    return request.progress


def save_tier(user, slug: str, tier: str, fields: dict) -> None:
    """Insert or update one TierProgress row, changing only `fields` of an existing one (one query)."""
    row = TierProgress(user=user, lesson=slug, tier=tier, **fields)
    TierProgress.objects.bulk_create(
        [row], update_conflicts=True, unique_fields=["user", "lesson", "tier"], update_fields=[*fields, "updated_at"]
    )


def save_reading_state(user, fields: dict) -> None:
    ReadingState.objects.bulk_create(
        [ReadingState(user=user, **fields)], update_conflicts=True, unique_fields=["user"], update_fields=[*fields, "updated_at"]
    )


def note_opened(request: HttpRequest, slug: str, tier: str) -> None:
    """Remember the tier last opened in this lesson (where /lessons/<slug>/ goes). Not 'read'."""
    state = _state(request)
    last = state.get("last_tier", {})
    account = request.user if request.user.is_authenticated else None
    if last.get(slug) != tier:
        state["last_tier"] = {**last, slug: tier}
        if account:
            save_tier(account, slug, tier, {"opened_at": timezone.now()})
    if state.get("depth") != tier:
        state["depth"] = tier
        if account:
            save_reading_state(account, {"depth": tier})


def note_place(request: HttpRequest, slug: str, tier: str, section: str = "", done: bool = False) -> None:
    """The reader got to section of this tier; done means the end (or the tier's quiz) was reached."""
    state = _state(request)
    key = f"{slug}/{tier}"
    changed = {}
    read = state.get("read", [])
    if done and key not in read:
        state["read"] = [*read, key]
        changed["read"] = True
    places = state.get("place", {})
    if section and places.get(key) != section:
        state["place"] = {**places, key: section}
        changed["place"] = section
    account = request.user if request.user.is_authenticated else None
    if account and changed:
        save_tier(account, slug, tier, changed)
    if state.get("recent") != key:
        state["recent"] = key
        if account:
            save_reading_state(account, {"recent": key})


def tiers_read(request: HttpRequest) -> set:
    return set(_state(request).get("read", []))


def places(request: HttpRequest) -> dict:
    """'slug/tier' → the section id the reader last reached there."""
    places = _state(request).get("place", {})
    return dict(places) if isinstance(places, dict) else {}


def recent(request: HttpRequest) -> tuple[str, str] | None:
    """(slug, tier) the reader was reading most recently, or None."""
    key = _state(request).get("recent", "")
    slug, _, tier = key.partition("/") if isinstance(key, str) else ("", "", "")
    return (slug, tier) if slug and tier in TIERS else None


def last_tier(request: HttpRequest, slug: str) -> str:
    last = _state(request).get("last_tier", {})
    tier = last.get(slug, Tier.FUNDAMENTALS) if isinstance(last, dict) else Tier.FUNDAMENTALS
    return tier if tier in TIERS else Tier.FUNDAMENTALS


def preferred_depth(request: HttpRequest) -> str:
    """The depth this reader reads at: a chosen one if set, else that of the tier read last."""
    depth = _state(request).get("depth")
    if depth in TIERS:
        return depth
    last = recent(request)
    return last[1] if last else Tier.FUNDAMENTALS


def known_depth(request: HttpRequest) -> str | None:
    """The reader's depth once they have opened or read a tier; None for a new reader."""
    state = _state(request)
    return preferred_depth(request) if state.get("depth") or state.get("recent") else None


def tier_rows(lesson, read: set, places: dict, best: dict) -> list[dict]:
    """A lesson's tiers (from Lesson.objects.with_tier_texts()) with this reader's status, for
    the course map and My learning. `best` maps a tier text's id to (best score, passed)."""
    texts = {t.tier: t for t in lesson.tiers.all()}
    rows = []
    for tier, label in TIER_CHOICES:
        text = texts.get(tier)
        if text is None:
            continue
        key = f"{lesson.slug}/{tier}"
        score, passed = best.get(text.pk, (None, False))
        rows.append({
            "tier": tier, "label": label, "text": text, "key": key,
            "read": key in read, "started": key in places and key not in read,
            "section": places.get(key, ""), "has_quiz": text.has_quiz,
            "best": score, "passed": passed,
        })
    return rows
