"""The FSRS schedule of one review item, kept as the JSON of `fsrs.Card.to_dict()`.

Pure: no database. A review is rated from how the server graded it, never by the learner:
wrong (score 0) is Again, partly right is Hard, right is Good; Easy is never given.
"""

from datetime import datetime, timezone

from fsrs import Card, Rating, Scheduler

# Fuzzing spreads the due dates of many cards learned together by a random day or two; a
# learner here has a few dozen items at most, and a schedule that can be reproduced (and
# tested against the library) is worth more than the spread.
SCHEDULER = Scheduler(enable_fuzzing=False)


def rating_for(score: float) -> Rating:
    if score >= 1:
        return Rating.Good
    return Rating.Hard if score > 0 else Rating.Again


def _utc(moment: datetime) -> datetime:
    # fsrs refuses any tzinfo other than datetime.timezone.utc, even an equal one.
    return moment.astimezone(timezone.utc)


def first_review(rating: Rating, now: datetime) -> dict:
    """A new card reviewed once, at now (the quiz answer that made it): its state as a dict."""
    card = Card(card_id=int(now.timestamp() * 1000), due=_utc(now))
    card, _ = SCHEDULER.review_card(card, rating, _utc(now))
    return card.to_dict()


def next_review(state: dict, rating: Rating, now: datetime) -> dict:
    """The card's state after one more review at now."""
    card, _ = SCHEDULER.review_card(Card.from_dict(state), rating, _utc(now))
    return card.to_dict()


def due_of(state: dict) -> datetime:
    return datetime.fromisoformat(state["due"])
