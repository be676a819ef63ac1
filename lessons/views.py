"""Public reading pages: course map, lesson tiers, glossary, and the operator endpoints."""

import functools
import logging
from collections import defaultdict

from django.db import DatabaseError, connection
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from . import glossary_filter, page_cache, search, sections
from .learners import progress
from .forms import PlaceForm
from .models import TIER_CHOICES, TIERS, Attempt, Lesson, ReviewItem, Status, Term, Tier, TierText, can_see_drafts
from .page_cache import render_page

logger = logging.getLogger(__name__)
# Who each depth is written for, short enough for the depth control at 360 px.
TIER_AUDIENCE = {Tier.FUNDAMENTALS: "Anyone", Tier.INTERMEDIATE: "Students", Tier.ACADEMIC: "Med/bio"}


@require_safe
def course_map(request: HttpRequest) -> HttpResponse:
    """Every lesson with its tiers and this reader's progress. A new reader's map shows no
    progress, so it is the same page for all of them and comes from the page cache."""
    if (
        request.user.is_authenticated or progress.tiers_read(request) or progress.places(request)
        or progress.existing_learner_id(request)
    ):
        return _render_course_map(request)
    return page_cache.cached_page(request, ("course_map",), lambda marks: _render_course_map(request, marks))


def _render_course_map(request: HttpRequest, marks: dict | None = None) -> HttpResponse:
    """2 queries; 4 for a learner with an id (best scores, reviews due); one more when
    "Continue" names the section the reader got to."""
    lessons = list(Lesson.objects.visible_to(request.user).with_tier_texts())
    read, places = progress.tiers_read(request), progress.places(request)
    best = {}
    learner = progress.existing_learner_id(request)
    if learner:
        rows = (
            Attempt.objects.filter(learner=learner, finished_at__isnull=False)
            .values("quiz__text_id", "quiz__pass_mark")
            .annotate(best=Max("score"))
        )
        best = {r["quiz__text_id"]: (r["best"], r["best"] >= r["quiz__pass_mark"]) for r in rows}
    due_reviews = ReviewItem.objects.of(learner).due(timezone.now()).count() if learner else 0
    depth = progress.preferred_depth(request)
    course = []
    for number, lesson in enumerate(lessons, start=1):
        tiers = progress.tier_rows(lesson, read, places, best)
        steps = len(tiers) + sum(t["has_quiz"] for t in tiers)
        done = sum(t["read"] for t in tiers) + sum(t["passed"] for t in tiers)
        course.append({
            "lesson": lesson, "number": number, "tiers": tiers, "steps": steps, "done": done,
            "read_count": sum(t["read"] for t in tiers), "quiz_count": sum(t["has_quiz"] for t in tiers),
            "passed_count": sum(t["passed"] for t in tiers),
            "start": _lesson_start(lesson, tiers, depth),
        })
    context = {
        "course": course,
        "total": len(course),
        "steps": sum(item["steps"] for item in course),
        "done": sum(item["done"] for item in course),
        "tiers_total": sum(len(item["tiers"]) for item in course),
        "read_total": sum(item["read_count"] for item in course),
        "quizzes_total": sum(item["quiz_count"] for item in course),
        "passed_total": sum(item["passed_count"] for item in course),
        "any_progress": bool(read or best or places),
        "depth_label": Tier(depth).label,
        "due_reviews": due_reviews,
        **(marks or {}),
    }
    context["continue"], context["up_next"] = _continue_and_up_next(course, progress.recent(request), depth)
    return render(request, "lessons/course_map.html", context)


def _tier_url(slug: str, tier: str, section: str = "") -> str:
    url = reverse("tier", args=[slug, tier])
    return f"{url}#{section}" if section else url


def _lesson_start(lesson: Lesson, tiers: list, depth: str) -> dict:
    """The card's button: resume a tier in progress, else open the reader's depth (or the first tier)."""
    started = next((t for t in tiers if t["started"]), None)
    if started:
        return {"label": "Continue", "url": _tier_url(lesson.slug, started["tier"], started["section"])}
    tier = next((t for t in tiers if t["tier"] == depth), tiers[0] if tiers else None)
    if tier is None:
        return {}
    if tier["read"]:
        unread = next((t for t in tiers if not t["read"]), None)
        if unread:
            return {"label": f"Read {unread['label']}", "url": _tier_url(lesson.slug, unread["tier"])}
        return {"label": "Read again", "url": _tier_url(lesson.slug, tier["tier"])}
    return {"label": "Start", "url": _tier_url(lesson.slug, tier["tier"])}


def _continue_and_up_next(course: list, recent, depth: str):
    """Continue: the tier read last, at the section reached, or its quiz once read. Up next: the
    first lesson after it not yet read at the reader's depth (from the start for a new reader)."""
    position = 0
    resume = None
    if recent:
        slug, tier = recent
        position = next((i for i, item in enumerate(course) if item["lesson"].slug == slug), None)
        if position is not None:
            item = course[position]
            entry = next((t for t in item["tiers"] if t["tier"] == tier), None)
            if entry and not entry["read"]:
                resume = {
                    "kind": "resume", "item": item, "tier": entry, "url": _tier_url(slug, tier, entry["section"]),
                    "section_name": _section_name(entry["text"].pk, entry["section"]),
                }
            elif entry and entry["has_quiz"] and not entry["passed"]:
                resume = {"kind": "quiz", "item": item, "tier": entry, "url": reverse("quiz", args=[slug, tier])}
            position += 1
        else:
            position = 0
    up_next = None
    for item in course[position:]:
        entry = next((t for t in item["tiers"] if t["tier"] == depth), None)
        if entry and not entry["read"]:
            up_next = {"kind": "next", "item": item, "tier": entry, "url": _tier_url(item["lesson"].slug, depth)}
            break
    return resume or up_next, (up_next if resume else None)


def _section_name(text_pk: int, section: str) -> str:
    if not section:
        return ""
    toc = TierText.objects.filter(pk=text_pk).values_list("toc", flat=True).first() or []
    return next((item["name"] for item in toc if item["id"] == section), "")


@require_safe
def lesson_redirect(request: HttpRequest, slug: str) -> HttpResponse:
    if not Lesson.objects.visible_to(request.user).filter(slug=slug).exists():
        raise Http404("No such lesson.")
    return redirect("tier", slug, progress.preferred_depth(request))


@require_safe
@vary_on_headers("HX-Request")
def tier_page(request: HttpRequest, slug: str, tier: str) -> HttpResponse:
    if request.user.is_authenticated:
        response = _render_tier_page(request, slug, tier)
    else:
        build = lambda marks: _render_tier_page(request, slug, tier, marks)  # noqa: E731
        response = page_cache.cached_page(request, ("tier", slug, tier), build)
    progress.note_opened(request, slug, tier)
    get_token(request)  # the CSRF cookie for the reading beacon; the cached HTML carries no token
    return response


@require_POST
def reading_place(request: HttpRequest, slug: str, tier: str) -> HttpResponse:
    """The beacon from a tier page: how far the reader got (204), never a page of its own."""
    form = PlaceForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("section must be a heading id", content_type="text/plain")
    toc = (
        TierText.objects.filter(lesson__in=Lesson.objects.visible_to(request.user), lesson__slug=slug, tier=tier)
        .values_list("toc", flat=True)
        .first()
    )
    if toc is None:
        raise Http404("No such tier.")
    section = form.cleaned_data["section"]
    if section and section not in {item["id"] for item in toc}:
        return HttpResponseBadRequest(f"this tier has no section '{section}'", content_type="text/plain")
    progress.note_place(request, slug, tier, section, form.cleaned_data["done"])
    return HttpResponse(status=204)


def _render_tier_page(request: HttpRequest, slug: str, tier: str, marks: dict | None = None) -> HttpResponse:
    text = get_object_or_404(
        TierText.objects.select_related("lesson", "quiz"),
        lesson__in=Lesson.objects.visible_to(request.user), lesson__slug=slug, tier=tier,
    )
    lesson = text.lesson
    prev_lesson, next_lesson = lesson.neighbours()
    siblings = {
        t.tier: t for t in TierText.objects.filter(lesson=lesson).only("tier", "toc", "reading_minutes", "lesson_id")
    }
    urls = {tier: (label, reverse("tier", args=[lesson.slug, tier])) for tier, label in TIER_CHOICES if tier in siblings}
    depths = [
        {
            "tier": tier, "label": label, "url": url, "audience": TIER_AUDIENCE[tier],
            "minutes": siblings[tier].reading_minutes, "current": tier == text.tier,
        }
        for tier, (label, url) in urls.items()
    ]
    others = {tier: t.toc for tier, t in siblings.items() if tier != text.tier}
    matches = sections.matching_sections(text.toc, others)
    html = sections.add_depth_links(text.html, matches, {t: u for t, u in urls.items() if t != text.tier})
    context = {
        "lesson": lesson,
        "text": text,
        "html": html,
        "depths": depths,
        "tiers": TIER_CHOICES,
        "prev_lesson": prev_lesson,
        "next_lesson": next_lesson,
        "has_quiz": hasattr(text, "quiz"),
        **(marks or {}),
    }
    return render_page(request, "lessons/tier.html", context, partial="lesson")


@require_safe
@vary_on_headers("HX-Request")
def glossary(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    if request.user.is_authenticated:
        return _render_glossary(request, query)
    return page_cache.cached_page(request, ("glossary", query), lambda marks: _render_glossary(request, query, marks))


def _render_glossary(request: HttpRequest, query: str, marks: dict | None = None) -> HttpResponse:
    terms = list(Term.objects.only("slug", "term", "aliases", "short", "case_sensitive"))
    matches = glossary_filter.rank(terms, query)
    context = {"query": query, "count": len(matches), "matches": matches, "groups": [], **(marks or {})}
    if not query:
        groups = defaultdict(list)
        for match in matches:
            first = match.term.display_name[0].upper()
            groups[first if first.isalpha() else "#"].append(match)
        context["groups"] = sorted(groups.items())
    elif not matches:
        context["suggestions"] = glossary_filter.suggest(terms, query)
    return render_page(request, "lessons/glossary.html", context, partial="results")


@require_safe
@vary_on_headers("HX-Request")
def search_page(request: HttpRequest) -> HttpResponse:
    """Results for a new reader are the same for all of them and come from the page cache; a
    reader who has read or chosen a depth gets results at that depth."""
    query = request.GET.get("q", "")[: search.MAX_QUERY_CHARS]
    if request.user.is_authenticated or request.progress:
        return _render_search(request, query)
    return page_cache.cached_page(request, ("search", query), lambda marks: _render_search(request, query, marks))


@functools.lru_cache(maxsize=4096)
def _cached_url(prefix: str, name: str, *args) -> str:
    return reverse(name, args=args)  # the script prefix is in the key: reverse() reads it itself


def _render_search(request: HttpRequest, query: str, marks: dict | None = None) -> HttpResponse:
    depth = progress.known_depth(request)
    results = search.search(query, drafts=can_see_drafts(request.user), tier=depth)
    # Links made here, each reverse() once per process: forty {% url %} tags were a third of the page's rendering.
    prefix = get_script_prefix()
    for hit in results.sections:
        hit.url = _cached_url(prefix, "tier", hit.lesson_slug, hit.tier) + (f"#{hit.anchor}" if hit.anchor else "")
        hit.other_depths = [
            (label, _cached_url(prefix, "tier", hit.lesson_slug, t) + (f"#{hit.depths[t]}" if hit.depths[t] else ""))
            for t, label in TIER_CHOICES if t in hit.depths and t != hit.tier
        ]
    for term in results.terms:
        term.url = _cached_url(prefix, "term", term.slug)
    context = {"query": query.strip(), "results": results, **(marks or {})}
    return render_page(request, "lessons/search.html", context, partial="results")


@require_safe
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
    uses = sorted(
        ((t, t.terms[slug]) for t in texts if slug in t.terms),
        key=lambda use: (use[0].lesson.order, use[0].lesson.slug, TIERS.index(use[0].tier)),
    )  # teaching order: lesson by lesson, Fundamentals before Intermediate before Academic
    return render(
        request,
        "lessons/term.html",
        {"term": term, "see_also": term.see_also.all(), "uses": uses, "tiers": TIER_CHOICES, **(marks or {})},
    )


@require_safe
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


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    sitemap = request.build_absolute_uri("/sitemap.xml")
    body = f"User-agent: *\nDisallow: /admin/\nDisallow: /lessons/*/quiz/\nDisallow: /lessons/*/progress/\nDisallow: /review/\nSitemap: {sitemap}\n"
    return HttpResponse(body, content_type="text/plain")


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages without an icon link (the admin, error pages)."""
    return redirect(static("icons/favicon.svg"), permanent=True)
