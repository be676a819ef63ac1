"""Instructor authoring: lessons with their tiers inline, quizzes editable as GIFT, previews, history."""

import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import Resolver404, path, resolve, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from . import gift
from .content_files import import_quiz, quiz_data, quiz_problems
from .models import (
    TIERS, Attempt, Choice, Diagram, Lesson, Question, Quiz, Reference, Status, Term, Tier, TierText, check_weights,
    load_render_sources,
)
from .item_analysis import WHICH_ATTEMPTS
from .quiz_stats import quiz_statistics
from .rendering import render_markdown, render_tier


class PreviewTextarea(forms.Textarea):
    """A markdown textarea with a live preview rendered by the real pipeline."""

    template_name = "admin/lessons/preview_textarea.html"

    def __init__(self, kind="tier", attrs=None):
        self.kind = kind
        super().__init__(attrs={"rows": 24, "class": "vLargeTextField markdown-source", **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["preview_url"] = reverse("admin:lessons_preview")
        context["kind"] = self.kind
        context["tier_name"] = name[: -len("body")] + "tier" if name.endswith("body") else ""
        return context


class LinesField(forms.CharField):
    """A JSON list of strings edited as one item per line."""

    def __init__(self, **kwargs):
        super().__init__(required=False, widget=forms.Textarea(attrs={"rows": 4}), **kwargs)

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


class TierTextForm(forms.ModelForm):
    objectives = LinesField(help_text="One learning objective per line.")

    class Meta:
        model = TierText
        fields = ["lesson", "tier", "title", "summary", "objectives", "body"]
        widgets = {"body": PreviewTextarea()}

    def clean(self):
        data = super().clean()
        body = data.get("body")
        if body:
            tier = data.get("tier") or self.instance.tier or Tier.FUNDAMENTALS
            problems = render_tier(body, tier, load_render_sources()).problems
            if problems:
                self.add_error("body", [message for message, _ in problems])
        return data


class TierTextInline(admin.StackedInline):
    model = TierText
    form = TierTextForm
    extra = 0
    max_num = 3
    fields = ["tier", "title", "summary", "objectives", "body"]
    show_change_link = True


def _set_status(request, queryset, status, done):
    # save() per lesson, not update(): it records history and bumps updated_at for the page cache.
    for lesson in queryset:
        lesson.status = status
        lesson.save()
    messages.success(request, f"{done} {len(queryset)} lesson(s).")


@admin.action(description="Publish selected lessons")
def publish(modeladmin, request, queryset):
    _set_status(request, queryset, Status.PUBLISHED, "Published")


@admin.action(description="Unpublish selected lessons (back to draft)")
def unpublish(modeladmin, request, queryset):
    _set_status(request, queryset, Status.DRAFT, "Moved back to draft:")


@admin.register(Lesson)
class LessonAdmin(SimpleHistoryAdmin):
    list_display = ["title", "order", "status", "updated_at"]
    list_editable = ["order"]
    list_filter = ["status"]
    search_fields = ["title", "summary", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [TierTextInline]
    actions = [publish, unpublish]


@admin.register(TierText)
class TierTextAdmin(SimpleHistoryAdmin):
    form = TierTextForm
    list_display = ["__str__", "tier", "word_count", "reading_minutes", "lesson_status", "updated_at"]
    list_filter = ["tier", "lesson__status", "lesson"]
    search_fields = ["title", "body", "lesson__title"]
    list_select_related = ["lesson"]

    @admin.display(description="Status", ordering="lesson__status")
    def lesson_status(self, obj):
        return obj.lesson.get_status_display()

    def get_urls(self):
        preview = self.admin_site.admin_view(require_POST(self.preview_view))
        return [path("preview/", preview, name="lessons_preview"), *super().get_urls()]

    def preview_view(self, request):
        """Live preview of a markdown field through the real pipeline, with the problems it would cause."""
        if not (self.has_change_permission(request) or self.has_add_permission(request)):
            raise PermissionDenied
        body = next((v for k, v in request.POST.items() if k.endswith("body")), "")
        tier = next((v for k, v in request.POST.items() if k.endswith("tier") and v in TIERS), Tier.FUNDAMENTALS)
        if request.GET.get("kind") == "plain":
            context = {"html": render_markdown(body), "problems": [], "terms": []}
        else:
            result = render_tier(body, tier, load_render_sources())
            problems = [m for m, _ in result.problems] + broken_site_links(result.html)
            context = {"html": result.html, "problems": problems, "terms": list(result.terms)}
        return render(request, "admin/lessons/preview.html", context)


def broken_site_links(html: str) -> list:
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
        elif match.url_name in {"lesson", "tier", "quiz"} and not Lesson.objects.filter(slug=slug).exists():
            problems.append(f"link to an unknown lesson or tier: {href}")
    return problems


class TermForm(forms.ModelForm):
    aliases = LinesField(help_text="One per line: plurals, abbreviations, synonyms.")

    class Meta:
        model = Term
        fields = "__all__"
        widgets = {"body": PreviewTextarea(kind="plain")}



@admin.register(Term)
class TermAdmin(SimpleHistoryAdmin):
    form = TermForm
    list_display = ["term", "slug", "case_sensitive", "short"]
    list_filter = ["case_sensitive"]
    search_fields = ["term", "slug", "short", "aliases"]
    prepopulated_fields = {"slug": ["term"]}
    filter_horizontal = ["see_also"]


@admin.register(Reference)
class ReferenceAdmin(SimpleHistoryAdmin):
    list_display = ["key", "authors", "year", "journal", "doi", "pmid"]
    list_filter = ["year"]
    search_fields = ["key", "authors", "title", "doi", "pmid"]


@admin.register(Diagram)
class DiagramAdmin(admin.ModelAdmin):
    search_fields = ["slug"]


class ChoiceFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        weights = [f.cleaned_data["weight"] for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        check_weights(self.instance.kind, weights)


class ChoiceInline(admin.TabularInline):
    model = Choice
    formset = ChoiceFormSet
    extra = 1
    fields = ["position", "text", "match", "value", "tolerance", "minimum", "maximum", "weight", "feedback"]


@admin.register(Question)
class QuestionAdmin(SimpleHistoryAdmin):
    list_display = ["name", "quiz", "kind", "position", "archived"]
    list_filter = ["kind", "archived", "quiz__text__tier", "quiz__text__lesson"]
    search_fields = ["name", "text", "explanation"]
    list_select_related = ["quiz__text__lesson"]
    inlines = [ChoiceInline]
    fields = ["quiz", "name", "kind", "text", "explanation", "section", "position", "archived"]


class QuizForm(forms.ModelForm):
    gift_text = forms.CharField(
        label="Questions (GIFT)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 30, "class": "vLargeTextField gift-source"}),
        help_text="Edit the whole quiz here in Moodle's GIFT format; ::names:: keep each question's identity.",
    )
    gift_file = forms.FileField(label="Or upload a GIFT file", required=False)

    class Meta:
        model = Quiz
        fields = ["text", "pass_mark", "shuffle"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["gift_text"] = gift.write(quiz_data(self.instance)) if self.instance.questions.exists() else ""

    def clean(self):
        data = super().clean()
        upload = data.get("gift_file")
        data["gift_source"] = None
        if upload:
            try:
                source = gift.decode(upload.read(), upload.name).replace("\r\n", "\n")
            except gift.GiftError as exc:
                raise ValidationError(f"GIFT {exc}") from None
        else:
            source = data.get("gift_text", "").replace("\r\n", "\n")
        if upload or (source.strip() and source != self.initial.get("gift_text")):
            try:
                parsed = gift.parse(source, moodle=True)
            except gift.GiftError as exc:
                raise ValidationError(f"GIFT {exc}") from None
            text = data.get("text") or getattr(self.instance, "text", None)
            problems = quiz_problems(text, parsed) if text else []
            if problems:
                raise ValidationError([f"GIFT {p}" for p in problems])
            data["gift_source"] = source
        return data


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    form = QuizForm
    list_display = ["__str__", "pass_mark", "shuffle", "question_count", "links"]
    list_filter = ["text__tier", "text__lesson"]
    list_select_related = ["text__lesson"]
    search_fields = ["text__lesson__title"]

    @admin.display(description="Questions")
    def question_count(self, obj):
        return obj.questions.active().count()

    @admin.display(description="")
    def links(self, obj):
        return format_html(
            '<a href="{}">Statistics</a> · <a href="{}">Download GIFT</a>',
            reverse("admin:lessons_quiz_statistics", args=[obj.pk]),
            reverse("admin:lessons_quiz_gift", args=[obj.pk]),
        )

    def save_model(self, request, obj, form, change):
        # The admin wraps this in one transaction; the form has already checked the GIFT
        # against this tier, so a refusal here (a race) undoes the pass mark too.
        super().save_model(request, obj, form, change)
        source = form.cleaned_data.get("gift_source")
        if source:
            summary = import_quiz(obj, source)
            messages.success(request, "Questions saved: " + "; ".join(summary.lines()))

    def get_urls(self):
        own = [
            path("<int:pk>/statistics/", self.admin_site.admin_view(self.statistics_view), name="lessons_quiz_statistics"),
            path("<int:pk>/gift/", self.admin_site.admin_view(self.gift_view), name="lessons_quiz_gift"),
        ]
        return own + super().get_urls()

    def statistics_view(self, request, pk):
        quiz = get_object_or_404(Quiz.objects.select_related("text__lesson"), pk=pk)
        if not self.has_view_permission(request, quiz):
            raise PermissionDenied
        stats = quiz_statistics(quiz, request.GET.get("attempts", "highest"))
        context = {
            **self.admin_site.each_context(request), "quiz": quiz, "stats": stats, "opts": self.model._meta,
            "title": f"Statistics: {quiz}", "choices_of_attempts": WHICH_ATTEMPTS,
        }
        return TemplateResponse(request, "admin/lessons/quiz/statistics.html", context)

    def gift_view(self, request, pk):
        quiz = get_object_or_404(Quiz.objects.select_related("text__lesson"), pk=pk)
        if not self.has_view_permission(request, quiz):
            raise PermissionDenied
        response = HttpResponse(gift.write(quiz_data(quiz), moodle=True), content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{quiz.text.lesson.slug}-{quiz.text.tier}.gift"'
        return response


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ["pk", "quiz", "learner", "user", "started_at", "finished_at", "score"]
    list_filter = ["quiz__text__tier"]
    readonly_fields = [f.name for f in Attempt._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
