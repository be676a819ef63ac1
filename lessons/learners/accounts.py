"""Optional learner accounts: sign up, sign in and out, change or reset the password.

Django's own auth views do the flows (the password reset tokens, the safe `next` handling,
the session rotation); this module adds a sign-up view on UserCreationForm, our templates,
and the one thing the site needs on top: what this browser did anonymously moves into the
account (merge.py) when the learner signs in or up here. Staff sign in at /admin/, which
merges nothing. Sign-in guessing is locked out by django-axes (its backend sees every
authenticate() call, this form's too); sign-ups and reset requests are limited per address.
"""

from django import forms
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from .. import throttling
from .merge import merge_into_account

TOO_FAST = "Too many tries from your network in the last hour. Wait a while, then try again."


class SignUpForm(UserCreationForm):
    email = forms.EmailField(
        label="Email (optional)", required=False,
        help_text="Used only to send you a link if you forget your password.",
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


def _anonymous_work(request: HttpRequest) -> tuple[str, dict]:
    """This browser's learner id and progress cookie, read before login() rotates the session."""
    if request.user.is_authenticated:
        return "", {}
    return request.session.get("learner", ""), dict(request.progress)


def _absorb(request: HttpRequest, user, learner: str, cookie: dict) -> None:
    """After login(): the browser's anonymous work becomes the account's and the browser forgets it,
    so that after signing out it is a fresh anonymous reader."""
    merge_into_account(user, learner, cookie)
    request.progress.clear()
    request.session.pop("learner", None)


def _next_url(request: HttpRequest) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return url if safe else reverse("course_map")


@require_http_methods(["GET", "HEAD", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("my_learning")
    form = SignUpForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "next": _next_url(request)}
    if request.method == "POST":
        if throttling.account_requests_too_fast(request, "sign-up"):
            return render(request, "learners/sign_up.html", {**context, "error": TOO_FAST}, status=429)
        if form.is_valid():
            learner, cookie = _anonymous_work(request)
            with transaction.atomic():
                user = form.save()
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                _absorb(request, user, learner, cookie)
            return redirect(context["next"])
    return render(request, "learners/sign_up.html", context, status=400 if form.errors else 200)


class SignInView(auth_views.LoginView):
    template_name = "learners/sign_in.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        learner, cookie = _anonymous_work(self.request)
        with transaction.atomic():
            response = super().form_valid(form)
            _absorb(self.request, form.get_user(), learner, cookie)
        return response


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """A reset request sends mail, so it is limited per address like sign-ups."""

    template_name = "learners/password_reset.html"
    email_template_name = "learners/password_reset_email.txt"
    subject_template_name = "learners/password_reset_subject.txt"

    def post(self, request, *args, **kwargs):
        if throttling.account_requests_too_fast(request, "password-reset"):
            return self.render_to_response(self.get_context_data(form=self.get_form(), error=TOO_FAST), status=429)
        return super().post(request, *args, **kwargs)


sign_in = SignInView.as_view()
sign_out = auth_views.LogoutView.as_view()
password_change = auth_views.PasswordChangeView.as_view(template_name="learners/password_change.html")
password_change_done = auth_views.PasswordChangeDoneView.as_view(template_name="learners/password_change_done.html")
password_reset = ThrottledPasswordResetView.as_view()
password_reset_done = auth_views.PasswordResetDoneView.as_view(template_name="learners/password_reset_done.html")
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(template_name="learners/password_reset_confirm.html")
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(template_name="learners/password_reset_complete.html")
