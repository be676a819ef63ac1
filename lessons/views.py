"""Reading pages: course map, lesson tiers, glossary, and the operator endpoints."""

import re
import secrets
import uuid
from collections import defaultdict

from django.db import DatabaseError, connection
from django.db.models import Max, Prefetch
from django.middleware.csp import get_nonce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from .models import TIERS, Attempt, Lesson, Status, Term, Tier, TierText
from .rendering import render_markdown, render_tier


def learner_key(request: HttpRequest) -> str:
    """A stable id for this browser, kept in the (signed-cookie) session."""
    key = request.session.get("learner")
    if not key:
        key = request.session["learner"] = uuid.uuid4().hex
    return key


def visible(lesson: Lesson, request: HttpRequest) -> bool:
    return lesson.status == Status.PUBLISHED or request.user.is_staff


def wants_partial(request: HttpRequest) -> bool:
    # A history restore after a cache miss needs the whole page.
    return bool(request.htmx) and not request.htmx.history_restore_request


@require_GET
def course_map(request: HttpRequest) -> HttpResponse:
    lessons = Lesson.objects.prefetch_related(Prefetch("tiers", queryset=TierText.objects.only("pk", "tier", "lesson_id")))
    if not request.user.is_staff:
        lessons = lessons.published()
    read = set(request.session.get("read", []))
    best = {}
    if request.session.get("learner"):
        rows = (
            Attempt.objects.filter(session_key=request.session["learner"], finished_at__isnull=False)
            .values("quiz__tier_id", "quiz__pass_mark")
            .annotate(best=Max("score"))
        )
        best = {r["quiz__tier_id"]: (r["best"], r["best"] >= r["quiz__pass_mark"]) for r in rows}
    course = []
    for lesson in lessons:
        tiers = {t.tier: t for t in lesson.tiers.all()}
        course.append(
            {
                "lesson": lesson,
                "tiers": [
                    {
                        "tier": tier,
                        "label": Tier(tier).label,
                        "text": tiers.get(tier),
                        "read": f"{lesson.slug}/{tier}" in read,
                        "best": best.get(tiers[tier].pk) if tier in tiers else None,
                    }
                    for tier in TIERS
                ],
            }
        )
    return render(request, "lessons/course_map.html", {"course": course, "any_progress": bool(read or best)})


@require_GET
def lesson_redirect(request: HttpRequest, slug: str) -> HttpResponse:
    tier = request.session.get("last_tier", {}).get(slug, Tier.FUNDAMENTALS)
    return redirect("tier", slug, tier if tier in TIERS else Tier.FUNDAMENTALS)


# Rendered tier pages for anonymous readers, per process: (slug, tier, partial) → (version, html).
# The page is the same for every anonymous reader except the CSP nonce, which is rendered
# as a marker and filled in per request. The version is read from the
# database on every request, so an edit made through any app server is seen at once.
_PAGES: dict = {}
NONCE_MARK = "cspnonce" + secrets.token_hex(8)
VERSION_SQL = (
    "SELECT (SELECT MAX(updated_at) FROM lessons_tiertext), (SELECT COUNT(*) FROM lessons_tiertext),"
    " (SELECT MAX(updated_at) FROM lessons_lesson), (SELECT COUNT(*) FROM lessons_lesson),"
    " (SELECT COUNT(*) FROM lessons_quiz)"
)


def content_version():
    with connection.cursor() as cursor:
        cursor.execute(VERSION_SQL)
        return tuple(str(v) for v in cursor.fetchone())


def _note_reading(request: HttpRequest, slug: str, tier: str) -> None:
    read = request.session.get("read", [])
    if f"{slug}/{tier}" not in read:
        request.session["read"] = [*read, f"{slug}/{tier}"]
    last = request.session.get("last_tier", {})
    if last.get(slug) != tier:
        request.session["last_tier"] = {**last, slug: tier}


@require_GET
@vary_on_headers("HX-Request")
def tier_page(request: HttpRequest, slug: str, tier: str) -> HttpResponse:
    if tier not in TIERS:
        raise Http404("No such tier")
    if request.user.is_authenticated:
        return _render_tier_page(request, slug, tier)
    key = (slug, tier, wants_partial(request))
    version = content_version()
    cached = _PAGES.get(key)
    if cached is None or cached[0] != version:
        response = _render_tier_page(request, slug, tier, markers=True)
        if len(_PAGES) > 1000:
            _PAGES.clear()
        _PAGES[key] = (version, response.content.decode())
        cached = _PAGES[key]
    else:
        _note_reading(request, slug, tier)
    return HttpResponse(cached[1].replace(NONCE_MARK, str(get_nonce(request))))


def _render_tier_page(request: HttpRequest, slug: str, tier: str, markers: bool = False) -> HttpResponse:
    text = get_object_or_404(TierText.objects.select_related("lesson", "quiz"), lesson__slug=slug, tier=tier)
    lesson = text.lesson
    if not visible(lesson, request):
        raise Http404("No such lesson")
    order = list(Lesson.objects.published().values_list("slug", "title"))
    slugs = [s for s, _ in order]
    prev_lesson = next_lesson = None
    if slug in slugs:
        i = slugs.index(slug)
        prev_lesson = order[i - 1] if i > 0 else None
        next_lesson = order[i + 1] if i + 1 < len(order) else None

    _note_reading(request, slug, tier)
    context = {
        "lesson": lesson,
        "text": text,
        "tiers": [(t, Tier(t).label) for t in TIERS],
        "prev_lesson": prev_lesson,
        "next_lesson": next_lesson,
        "has_quiz": hasattr(text, "quiz"),
    }
    if markers:
        context["csp_nonce"] = NONCE_MARK
    template = "lessons/tier.html#lesson" if wants_partial(request) else "lessons/tier.html"
    return render(request, template, context)


def _term_matches(term: Term, query: str) -> bool:
    q = query.lower()
    return any(q in name.lower() for name in term.names()) or q in term.short.lower()


@require_GET
@vary_on_headers("HX-Request")
def glossary(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    terms = [t for t in Term.objects.only("slug", "term", "aliases", "short") if not query or _term_matches(t, query)]
    groups = defaultdict(list)
    for term in sorted(terms, key=lambda t: t.term.lower()):
        first = term.term[0].upper()
        groups[first if first.isalpha() else "#"].append(term)
    context = {"groups": sorted(groups.items()), "query": query, "count": len(terms)}
    template = "lessons/glossary.html#results" if wants_partial(request) else "lessons/glossary.html"
    return render(request, template, context)


@require_GET
def term_page(request: HttpRequest, slug: str) -> HttpResponse:
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
        {"term": term, "see_also": term.see_also.all(), "uses": uses, "tiers": [(t, Tier(t).label) for t in TIERS]},
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


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    sitemap = request.build_absolute_uri("/sitemap.xml")
    body = f"User-agent: *\nDisallow: /admin/\nDisallow: /lessons/*/quiz/\nSitemap: {sitemap}\n"
    return HttpResponse(body, content_type="text/plain")


def preview(request: HttpRequest) -> HttpResponse:
    """Admin live preview (staff only, wrapped by admin_view in urls.py)."""
    if request.method != "POST":
        return HttpResponse(status=405)
    body = next((v for k, v in request.POST.items() if k.endswith("body")), "")
    tier = next((v for k, v in request.POST.items() if k.endswith("tier") and v in TIERS), Tier.FUNDAMENTALS)
    if request.GET.get("kind") == "plain":
        context = {"html": render_markdown(body), "problems": [], "terms": []}
    else:
        result = render_tier(body, tier)
        problems = [m for m, _ in result.problems] + _broken_site_links(result.html)
        context = {"html": result.html, "problems": problems, "terms": list(result.terms)}
    return render(request, "admin/lessons/preview.html", context)


def _broken_site_links(html: str) -> list:
    """Links to lessons or glossary entries of this site that do not exist (yet)."""
    problems = []
    for href in sorted(set(re.findall(r'href="(/[^"#?]*)', html))):
        try:
            match = resolve(href)
        except Resolver404:
            problems.append(f"link to a page that does not exist: {href}")
            continue
        slug = match.kwargs.get("slug")
        if match.url_name == "term" and not Term.objects.filter(slug=slug).exists():
            problems.append(f"link to an unknown glossary term: {href}")
        elif match.url_name in {"lesson", "tier", "quiz"} and not (
            Lesson.objects.filter(slug=slug).exists() and match.kwargs.get("tier", TIERS[0]) in TIERS
        ):
            problems.append(f"link to an unknown lesson or tier: {href}")
    return problems
