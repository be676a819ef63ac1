"""The shared-cache settings: CACHE_URL parsing, and a Redis outage degrading to misses."""

import logging
import socket

import pytest
from django.core.exceptions import ImproperlyConfigured

from hormonebone.cache import DegradingRedisCache, cache_config


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cache_url_must_be_redis():
    assert cache_config("redis://127.0.0.1:6379/1")["BACKEND"] == "hormonebone.cache.DegradingRedisCache"
    with pytest.raises(ImproperlyConfigured, match=r"CACHE_URL must be a redis://, rediss:// or unix:// URL .*'memcached://x'"):
        cache_config("memcached://x")


def test_redis_down_behaves_like_an_empty_cache_and_is_logged_once(caplog):
    config = cache_config(f"redis://127.0.0.1:{closed_port()}/0")
    cache = DegradingRedisCache(config["LOCATION"], {"OPTIONS": config["OPTIONS"]})
    DegradingRedisCache._last_logged = 0.0
    with caplog.at_level(logging.WARNING, logger="hormonebone.cache"):
        assert cache.get("k", "default") == "default"
        assert cache.add("k", 0, 90) is False
        cache.set("k", 1)
        with pytest.raises(ValueError):
            cache.incr("k")  # the quiz rate limit reads this as "no count yet": it fails open
        assert cache.get_many(["a", "b"]) == {}
    lines = [r.getMessage() for r in caplog.records if r.name == "hormonebone.cache"]
    assert len(lines) == 1 and lines[0].startswith("cache unavailable, treated as empty: get failed: "), lines
