import cProfile, pstats, time
import pytest
from .test_quiz import start, current_question, URL

def test_x(client, small_course):
    # tier page uncached as an anonymous reader, quiz page mid-attempt, answer POST
    from lessons import page_cache
    tier = "/lessons/alpha/fundamentals/"
    for label, fn in [("tier (anonymous, uncached)", lambda: (page_cache.clear(), client.get(tier))),
                      ("course map", lambda: client.get("/")),
                      ("glossary term", lambda: client.get("/glossary/osteoclast/"))]:
        fn()
        t = time.perf_counter()
        for _ in range(20): fn()
        print(label, round((time.perf_counter() - t) / 20 * 1000, 1), "ms")
    attempt = start(client)
    t = time.perf_counter()
    for _ in range(20): client.get(URL)
    print("quiz page", round((time.perf_counter() - t) / 20 * 1000, 1), "ms")
    pr = cProfile.Profile(); pr.enable()
    for _ in range(20): page_cache.clear(); client.get(tier)
    pr.disable()
    pstats.Stats(pr).sort_stats("cumulative").print_stats(60)
