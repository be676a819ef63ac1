"""Rendered pages for anonymous readers, kept per process and checked against the
database on every request, so an edit made through any app server shows at once.

A cached page is the same for every anonymous reader except the CSP nonce and the CSRF
token, which are rendered as markers and filled in per request (so no reader is served
the token of the reader whose request built the page). Whether a request gets the whole page or
the htmx partial is decided once, by `wants_partial()`, for the cache key and the
template alike, so a history-restore request can never store a partial.
"""

import secrets

from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.shortcuts import render

from .content_version import content_version

NONCE_MARK = "cspnonce" + secrets.token_hex(8)
CSRF_MARK = "csrftoken" + secrets.token_hex(8)
# What build() gets: context entries that override the per-request values.
MARKS = {"csp_nonce": NONCE_MARK, "csrf_token": CSRF_MARK}
MAX_PAGES = 1000
_pages: dict = {}


def wants_partial(request: HttpRequest) -> bool:
    """An htmx swap gets the fragment; a history restore (cache miss) needs the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_page(request: HttpRequest, template: str, context: dict, partial: str = "", **kwargs) -> HttpResponse:
    """The one place that chooses between a template and its htmx partial."""
    partial_wanted = bool(partial) and wants_partial(request)
    context = {**context, "partial": partial_wanted}
    return render(request, f"{template}#{partial}" if partial_wanted else template, context, **kwargs)


def cached_page(request: HttpRequest, key: tuple, build) -> HttpResponse:
    """Serve the page for key from the cache if still current, else build(MARKS) and store it."""
    if request.user.is_authenticated:  # a signed-in page is personal: never served from or stored here
        return build({})
    key = (*key, wants_partial(request))
    version = content_version()
    cached = _pages.get(key)
    if cached is None or cached[0] != version:
        response = build(MARKS)
        if response.status_code != 200:
            return response
        if len(_pages) >= MAX_PAGES:
            _pages.clear()
        cached = _pages[key] = (version, response.content.decode())
    html = cached[1].replace(NONCE_MARK, str(get_nonce(request)))
    if CSRF_MARK in html:
        html = html.replace(CSRF_MARK, get_token(request))
    return HttpResponse(html)


def clear() -> None:
    _pages.clear()
