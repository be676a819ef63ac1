"""Request middleware of our own: reader progress in a signed cookie, staff sessions that
end when idle."""

import json
import time

from django.conf import settings
from django.core import signing

PROGRESS_COOKIE = "progress"
PROGRESS_SALT = "lessons.progress"


class ProgressMiddleware:
    """Loads `request.progress` (a dict: tiers read, last tier per lesson, preferred depth)
    from a signed cookie and writes it back only when it changed.

    Reading costs no session and no database row: the session (kept on the server) is
    created only when a learner starts a quiz or signs in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw = request.COOKIES.get(PROGRESS_COOKIE)
        try:
            progress = json.loads(signing.loads(raw, salt=PROGRESS_SALT, max_age=settings.PROGRESS_COOKIE_AGE)) if raw else {}
        except (signing.BadSignature, ValueError, TypeError):
            progress = {}
        request.progress = progress if isinstance(progress, dict) else {}
        before = json.dumps(request.progress, sort_keys=True)
        response = self.get_response(request)
        after = json.dumps(request.progress, sort_keys=True)
        if after != before:
            response.set_cookie(
                PROGRESS_COOKIE,
                signing.dumps(after, salt=PROGRESS_SALT, compress=True),
                max_age=settings.PROGRESS_COOKIE_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


class StaffIdleMiddleware:
    """Staff sessions end after STAFF_IDLE_SECONDS without a request, not after a year."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            # Saving the session moves its expiry; once a minute is enough.
            minute = int(time.time() // 60)
            if request.session.get("_staff_seen") != minute:
                request.session["_staff_seen"] = minute
                request.session.set_expiry(settings.STAFF_IDLE_SECONDS)
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Turn off browser features the site never uses (camera, microphone, location…)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
