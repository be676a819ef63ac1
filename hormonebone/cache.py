"""The shared cache: Django's Redis backend, parsed from CACHE_URL, that survives an outage.

With several app servers the cache (quiz rate limits) lives in one Redis. If that Redis
stops, a request must not fail because of it: every cache call then behaves like a miss
(get returns the default, add/set store nothing, incr finds no key), and the outage is
logged, at most one line per interval per process. The quiz rate limit therefore fails
open while Redis is down: answers are accepted and stored, uncounted.
"""

import logging
import time
from urllib.parse import urlsplit

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import RedisError

log = logging.getLogger("hormonebone.cache")

# Seconds: how long a request waits for Redis before treating it as down.
TIMEOUT = 0.5
LOG_INTERVAL = 10.0


def cache_config(url: str) -> dict:
    """The CACHES["default"] entry for CACHE_URL, or a clear error naming what is wrong."""
    scheme = urlsplit(url).scheme
    if scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(
            f"CACHE_URL must be a redis://, rediss:// or unix:// URL (Django's Redis backend), not {url!r}."
        )
    return {
        "BACKEND": "hormonebone.cache.DegradingRedisCache",
        "LOCATION": url,
        "OPTIONS": {"socket_connect_timeout": TIMEOUT, "socket_timeout": TIMEOUT},
    }


class DegradingRedisCache(RedisCache):
    _last_logged = 0.0
    _suppressed = 0

    def _down(self, operation: str, exc: Exception) -> None:
        cls = DegradingRedisCache
        now = time.monotonic()
        if now - cls._last_logged >= LOG_INTERVAL:
            more = f" ({cls._suppressed} more failures since the last line)" if cls._suppressed else ""
            log.warning("cache unavailable, treated as empty: %s failed: %s%s", operation, exc, more)
            cls._last_logged, cls._suppressed = now, 0
        else:
            cls._suppressed += 1

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as exc:
            self._down("get", exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError as exc:
            self._down("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except RedisError as exc:
            self._down("has_key", exc)
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError as exc:
            self._down("add", exc)
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError as exc:
            self._down("set", exc)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except RedisError as exc:
            self._down("set_many", exc)
            return list(data)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except RedisError as exc:
            self._down("touch", exc)
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except RedisError as exc:
            self._down("incr", exc)
            raise ValueError(f"Key {key!r} not found (cache unavailable).") from None

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError as exc:
            self._down("delete", exc)
            return False

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except RedisError as exc:
            self._down("delete_many", exc)

    def clear(self):
        try:
            return super().clear()
        except RedisError as exc:
            self._down("clear", exc)
            return False
