"""Rate limits for learners' writes (quiz starts and answers, sign-ups), counted in the
shared cache so that every worker and app server sees the same count."""

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone


def _count(key: str, seconds: int = 90) -> int:
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, seconds)
        return 1


def client_ip(request: HttpRequest) -> str:
    """The address of the client: behind DJANGO_TRUSTED_PROXY_COUNT proxies that each append
    the address they saw to X-Forwarded-For, the Nth entry from the right (anything left of
    it was written by the client and can be forged); otherwise REMOTE_ADDR."""
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [a.strip() for a in request.headers.get("x-forwarded-for", "").split(",") if a.strip()]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")


def too_fast(request: HttpRequest, learner: str) -> bool:
    """Count one quiz write (start or answer) and say whether this minute's limit is passed.

    The address is client_ip(), the same one the login lockout (django-axes) uses."""
    minute = int(timezone.now().timestamp() // 60)
    by_learner = _count(f"quiz-rate:learner:{learner}:{minute}")
    by_address = _count(f"quiz-rate:ip:{client_ip(request)}:{minute}")
    return by_learner > settings.QUIZ_RATE_LIMIT or by_address > settings.QUIZ_IP_RATE_LIMIT


def account_requests_too_fast(request: HttpRequest, action: str) -> bool:
    """Count one sign-up (or password-reset) request from this client address and say whether
    this hour's limit for that action is passed. Sign-in guessing is django-axes' job."""
    hour = int(timezone.now().timestamp() // 3600)
    return _count(f"account-rate:{action}:ip:{client_ip(request)}:{hour}", 3700) > settings.ACCOUNT_IP_RATE_LIMIT
