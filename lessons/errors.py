"""Error responses in the site's style: 405 with its Allow header, and CSRF failures.

Django answers a wrong method with an empty HttpResponseNotAllowed, which browsers show
as "This page isn't working"; the middleware gives it our page and keeps the header.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render


def not_allowed_page(get_response):
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if isinstance(response, HttpResponseNotAllowed) and not response.content:
            allowed = response["Allow"]
            response = render(request, "405.html", {"allowed": allowed.split(", ")}, status=405)
            response["Allow"] = allowed
        return response

    return middleware


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: most often cookies were cleared or the page is old; reloading fixes it."""
    template = "403_csrf.html#message" if request.headers.get("HX-Request") else "403_csrf.html"
    return render(request, template, {"reason": reason}, status=403)
