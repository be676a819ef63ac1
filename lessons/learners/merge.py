"""Nothing is lost when you sign in: what this browser did anonymously moves to the account.

Called explicitly by the learner sign-in and sign-up views (never on an admin login) with the
browser's learner id (from its session) and its progress cookie. The rule:

- Reading progress is a union per (lesson, tier): a tier read on either side is read; the
  section reached, the last tier opened per lesson, the depth and "Continue" come from this
  browser where it has them (it is what the learner did just now), else stay as they were.
- Attempts (with their answers) are re-keyed to the account: every attempt of both sides is
  kept, so the best score per quiz is the best of both. When both sides hold an unfinished
  attempt at the same quiz, both are kept: the quiz page resumes the one started later, as it
  always does, and the other stays in the history as unfinished (its answers are not lost).
- Review items (lessons/review/merge.py): where both sides have an item for one question, the
  one reviewed more recently (then the one with more reviews) stays and takes the other's log.
- Every other table keyed by the learner id adds its step to LEARNER_STEPS below (one
  function `step(old_learner, new_learner, user)`), and its rows to the export and the
  account deletion in my_learning.py.

All of it runs in one transaction, and running it again changes nothing.
"""

from django.db import transaction
from django.utils import timezone

from ..models import TIERS, Attempt, ReadingState, TierProgress
from ..review.merge import merge_reviews
from .progress import account_learner_id

MAX_SLUG = 80
MAX_SECTION = 100


def _tier_key(value) -> tuple[str, str] | None:
    """'slug/tier' from a cookie, checked (the cookie is signed, but its shape is old code's)."""
    if not isinstance(value, str):
        return None
    slug, _, tier = value.partition("/")
    return (slug, tier) if slug and len(slug) <= MAX_SLUG and tier in TIERS else None


def cookie_rows(cookie: dict) -> dict:
    """The cookie's progress as {(slug, tier): {"read", "place", "last"}} plus its depth and recent."""
    cookie = cookie if isinstance(cookie, dict) else {}
    rows: dict = {}

    def row(key):
        return rows.setdefault(key, {"read": False, "place": "", "last": False})

    for value in cookie.get("read", []) if isinstance(cookie.get("read"), list) else []:
        if key := _tier_key(value):
            row(key)["read"] = True
    places = cookie.get("place") if isinstance(cookie.get("place"), dict) else {}
    for value, section in places.items():
        if (key := _tier_key(value)) and isinstance(section, str) and 0 < len(section) <= MAX_SECTION:
            row(key)["place"] = section
    last = cookie.get("last_tier") if isinstance(cookie.get("last_tier"), dict) else {}
    for slug, tier in last.items():
        if key := _tier_key(f"{slug}/{tier}"):
            row(key)["last"] = True
    depth = cookie.get("depth") if cookie.get("depth") in TIERS else ""
    recent = cookie.get("recent") if _tier_key(cookie.get("recent")) else ""
    return {"rows": rows, "depth": depth, "recent": recent}


def merge_progress(user, cookie: dict) -> None:
    """Union of the cookie's progress and the account's rows (two queries and two upserts at most)."""
    anonymous = cookie_rows(cookie)
    now = timezone.now()
    if anonymous["rows"]:
        slugs = {slug for slug, _ in anonymous["rows"]}
        existing = {(r.lesson, r.tier): r for r in TierProgress.objects.filter(user=user, lesson__in=slugs)}
        merged = []
        for (slug, tier), new in sorted(anonymous["rows"].items()):
            old = existing.get((slug, tier))
            merged.append(TierProgress(
                user=user, lesson=slug, tier=tier,
                read=new["read"] or bool(old and old.read),
                place=new["place"] or (old.place if old else ""),
                opened_at=now if new["last"] else (old.opened_at if old else None),
            ))
        TierProgress.objects.bulk_create(
            merged, update_conflicts=True, unique_fields=["user", "lesson", "tier"],
            update_fields=["read", "place", "opened_at", "updated_at"],
        )
    fields = {name: anonymous[name] for name in ("depth", "recent") if anonymous[name]}
    if fields:
        ReadingState.objects.bulk_create(
            [ReadingState(user=user, **fields)], update_conflicts=True, unique_fields=["user"],
            update_fields=[*fields, "updated_at"],
        )


def merge_attempts(old_learner: str, new_learner: str, user) -> None:
    """Attempts (their answers follow by foreign key) become the account's."""
    Attempt.objects.filter(learner=old_learner, user__isnull=True).update(learner=new_learner, user=user)


def merge_review_items(old_learner: str, new_learner: str, user) -> None:
    merge_reviews(old_learner, new_learner)


# Per-learner tables keyed by the learner id: each gives its merge step here.
LEARNER_STEPS = [merge_attempts, merge_review_items]


def merge_into_account(user, learner: str, cookie: dict) -> None:
    """Move an anonymous browser's work (learner id from its session, progress cookie) into user's account."""
    account = account_learner_id(user)
    with transaction.atomic():
        merge_progress(user, cookie)
        # A browser's own ids are uuid hex; an account's id is never taken from another account.
        if learner and learner != account and not learner.startswith("user-"):
            for step in LEARNER_STEPS:
                step(learner, account, user)
