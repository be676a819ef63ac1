"""Moving one learner's review items to another (signing in merges a browser's learner id into
the account's)."""

from django.db import transaction

from ..models import ReviewItem, ReviewLog


def _recency(item: ReviewItem) -> tuple:
    return (item.reviewed_at or item.created_at, item.review_count, item.pk)


def merge_reviews(old_learner: str, new_learner: str) -> None:
    """Give old_learner's review items to new_learner. Where both have an item for the same
    question, the one reviewed more recently (then the one with more reviews) stays, the other's
    review log moves to it, and it is deleted: never two items for one (learner, question), no
    log row lost. Four queries, and one more per question both learners have an item for."""
    if not old_learner or old_learner == new_learner:
        return
    with transaction.atomic():
        items = list(ReviewItem.objects.select_for_update().filter(learner__in=[old_learner, new_learner]))
        kept = {}
        for item in items:
            other = kept.get(item.question_id)
            if other is None or _recency(item) > _recency(other):
                kept[item.question_id] = item
        losers = [item for item in items if kept.get(item.question_id, item) is not item]
        for loser in losers:
            ReviewLog.objects.filter(item=loser).update(item=kept[loser.question_id])
        ReviewItem.objects.filter(pk__in=[item.pk for item in losers]).delete()
        ReviewItem.objects.filter(learner=old_learner).update(learner=new_learner)
