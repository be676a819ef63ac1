"""Public reading pages: course map, lesson tiers, glossary, and the operator endpoints."""

import logging
from collections import defaultdict

from django.db import DatabaseError, connection
from django.db.models import Max, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from . import page_cache, progress, search
from .models import TIERS, Attempt, Lesson, Status, Term, Tier, TierText, can_see_drafts
from .page_cache import render_page

logger = logging.getLogger(__name__)
TIER_CHOICES = [(t, Tier(t).label) for t in TIERS]


@require_GET
def course_map(request: HttpRequest) -> HttpResponse:
    # A new reader's map shows no progress, so it is the same page for all of them.
    if request.user.is_authenticated or progress.tiers_read(request) or progress.existing_learner_id(request):
        return _render_course_map(request)
    return page_cache.cached_page(request, ("course_map",), lambda marks: _render_course_map(request, marks))


def _render_course_map(request: HttpRequest, marks: dict | None = None) -> HttpResponse:
    lessons = Lesson.objects.visible_to(request.user).prefetch_related(
        Prefetch("tiers", queryset=TierText.objects.only("pk", "tier", "lesson_id"))
    )
    read = progress.tiers_read(request)
    best = {}
    learner = progress.existing_learner_id(request)
    if learner:
        rows = (
            Attempt.objects.filter(learner=learner, finished_at__isnull=False)
            .values("quiz__text_id", "quiz__pass_mark")
            .annotate(best=Max("score"))
        )
        best = {r["quiz__text_id"]: (r["best"], r["best"] >= r["quiz__pass_mark"]) for r in rows}
    course = []
    for lesson in lessons:
        tiers = {t.tier: t for t in lesson.tiers.all()}
        course.append(
            {
                "lesson": lesson,
                "tiers": [
                    {
                        "tier": tier,
                        "label": label,
                        "text": tiers.get(tier),
                        "read": f"{lesson.slug}/{tier}" in read,
                        "best": best.get(tiers[tier].pk) if tier in tiers else None,
                    }
                    for tier, label in TIER_CHOICES
                ],
            }
        )
    context = {"course": course, "any_progress": bool(read or best), **(marks or {})}
    return render(request, "lessons/course_map.html", context)


@require_GET
def lesson_redirect(request: HttpRequest, slug: str) -> HttpResponse:
    return redirect("tier", slug, progress.last_tier(request, slug))


@require_GET
@vary_on_headers("HX-Request")
def tier_page(request: HttpRequest, slug: str, tier: str) -> HttpResponse:
    if request.user.is_authenticated:
        response = _render_tier_page(request, slug, tier)
    else:
        build = lambda marks: _render_tier_page(request, slug, tier, marks)  # noqa: E731
        response = page_cache.cached_page(request, ("tier", slug, tier), build)
    progress.note_reading(request, slug, tier)
    return response


def _render_tier_page(request: HttpRequest, slug: str, tier: str, marks: dict | None = None) -> HttpResponse:
    text = get_object_or_404(
        TierText.objects.select_related("lesson", "quiz"),
        lesson__in=Lesson.objects.visible_to(request.user), lesson__slug=slug, tier=tier,
    )
    lesson = text.lesson
    prev_lesson, next_lesson = lesson.neighbours()
    context = {
        "lesson": lesson,
        "text": text,
        "tiers": TIER_CHOICES,
        "prev_lesson": prev_lesson,
        "next_lesson": next_lesson,
        "has_quiz": hasattr(text, "quiz"),
        **(marks or {}),
    }
    return render_page(request, "lessons/tier.html", context, partial="lesson")


def _term_matches(term: Term, query: str) -> bool:
    q = query.lower()
    return any(q in name.lower() for name in term.names()) or q in term.short.lower()


@require_GET
@vary_on_headers("HX-Request")
def glossary(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    if request.user.is_authenticated:
        return _render_glossary(request, query)
    return page_cache.cached_page(request, ("glossary", query), lambda marks: _render_glossary(request, query, marks))


def _render_glossary(request: HttpRequest, query: str, marks: dict | None = None) -> HttpResponse:
    terms = [t for t in Term.objects.only("slug", "term", "aliases", "short") if not query or _term_matches(t, query)]
    groups = defaultdict(list)
    for term in sorted(terms, key=lambda t: t.term.lower()):
        first = term.term[0].upper()
        groups[first if first.isalpha() else "#"].append(term)
    context = {"groups": sorted(groups.items()), "query": query, "count": len(terms), **(marks or {})}
    return render_page(request, "lessons/glossary.html", context, partial="results")


@require_GET
@vary_on_headers("HX-Request")
def search_page(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[: search.MAX_QUERY_CHARS]
    results = search.search(query, drafts=can_see_drafts(request.user))
    for hit in results.sections:
        hit.other_depths = [(t, label, hit.depths[t]) for t, label in TIER_CHOICES if t in hit.depths and t != hit.tier]
    context = {"query": query.strip(), "results": results}
    return render_page(request, "lessons/search.html", context, partial="results")


@require_GET
def term_page(request: HttpRequest, slug: str) -> HttpResponse:
    if request.user.is_authenticated:
        return _render_term_page(request, slug)
    return page_cache.cached_page(request, ("term", slug), lambda marks: _render_term_page(request, slug, marks))


def _render_term_page(request: HttpRequest, slug: str, marks: dict | None = None) -> HttpResponse:
    term = get_object_or_404(Term, slug=slug)
    texts = (
        TierText.objects.select_related("lesson")
        .filter(lesson__status=Status.PUBLISHED)
        .only("tier", "terms", "lesson__slug", "lesson__title", "lesson__order")
    )
    uses = [(t, t.terms[slug]) for t in texts if slug in t.terms]
    return render(
        request,
        "lessons/term.html",
        {"term": term, "see_also": term.see_also.all(), "uses": uses, "tiers": TIER_CHOICES, **(marks or {})},
    )


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


@csrf_exempt
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    """Browsers post Content-Security-Policy violations here; they go to the log."""
    body = request.body[:4096].decode("utf-8", errors="replace")
    logger.warning("CSP violation from %s: %s", request.headers.get("user-agent", "?")[:120], body)
    return HttpResponse(status=204)


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    sitemap = request.build_absolute_uri("/sitemap.xml")
    body = f"User-agent: *\nDisallow: /admin/\nDisallow: /lessons/*/quiz/\nSitemap: {sitemap}\n"
    return HttpResponse(body, content_type="text/plain")
