"""Instructor authoring: lessons with their tiers inline, quizzes editable as GIFT, previews, history."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from . import gift
from .content_files import ContentError, import_quiz, quiz_data
from .models import (
    Attempt, Choice, Diagram, Lesson, Question, QuestionKind, Quiz, Reference, Status, Term, TierText,
)
from .quiz_stats import quiz_statistics
from .rendering import check_svg, render_tier


class PreviewTextarea(forms.Textarea):
    """A markdown textarea with a live preview rendered by the real pipeline."""

    template_name = "admin/lessons/preview_textarea.html"

    def __init__(self, kind="tier", attrs=None):
        self.kind = kind
        super().__init__(attrs={"rows": 24, "class": "vLargeTextField markdown-source", **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["preview_url"] = reverse("admin_preview")
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

    def clean_body(self):
        body = self.cleaned_data["body"]
        problems = render_tier(body, self.data.get("tier") or self.instance.tier or "fundamentals").problems
        if problems:
            raise ValidationError([message for message, _ in problems])
        return body


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


class TermForm(forms.ModelForm):
    aliases = LinesField(help_text="One per line: plurals, abbreviations, synonyms.")

    class Meta:
        model = Term
        fields = "__all__"
        widgets = {"body": PreviewTextarea(kind="plain")}

    def clean(self):
        data = super().clean()
        names = {n.lower() for n in [data.get("term", ""), *data.get("aliases", [])] if n}
        for other in Term.objects.exclude(pk=self.instance.pk):
            clash = names & {n.lower() for n in other.names()}
            if clash:
                raise ValidationError(f"“{clash.pop()}” is already a name of the term “{other.term}”.")
        return data


@admin.register(Term)
class TermAdmin(SimpleHistoryAdmin):
    form = TermForm
    list_display = ["term", "slug", "case_sensitive", "short"]
    list_filter = ["case_sensitive"]
    search_fields = ["term", "slug", "short", "aliases"]
    prepopulated_fields = {"slug": ["term"]}
    filter_horizontal = ["see_also"]


class ReferenceForm(forms.ModelForm):
    class Meta:
        model = Reference
        fields = "__all__"

    def clean(self):
        data = super().clean()
        if not (data.get("doi") or data.get("pmid") or data.get("url")):
            raise ValidationError("A reference needs a DOI, PMID or URL so readers can find it.")
        return data


@admin.register(Reference)
class ReferenceAdmin(SimpleHistoryAdmin):
    form = ReferenceForm
    list_display = ["key", "authors", "year", "journal", "doi", "pmid"]
    list_filter = ["year"]
    search_fields = ["key", "authors", "title", "doi", "pmid"]


class DiagramForm(forms.ModelForm):
    class Meta:
        model = Diagram
        fields = "__all__"

    def clean_svg(self):
        svg = self.cleaned_data["svg"].strip()
        try:
            check_svg(svg)
        except ValueError as exc:
            raise ValidationError(f"This SVG cannot be used: {exc}.") from None
        return svg


@admin.register(Diagram)
class DiagramAdmin(admin.ModelAdmin):
    form = DiagramForm
    search_fields = ["slug"]


class ChoiceFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        weights = [f.cleaned_data["weight"] for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        kind = self.instance.kind
        right = [w for w in weights if w > 0]
        if kind == QuestionKind.SINGLE and (len(right) != 1 or right[0] != 100):
            raise ValidationError("A single-choice question needs exactly one correct choice (weight 100); give the others 0.")
        if kind == QuestionKind.TRUE_FALSE and (len(weights) != 2 or len(right) != 1):
            raise ValidationError("A true/false question needs exactly two choices, True and False, one of them correct.")
        if kind == QuestionKind.MULTIPLE:
            if not right:
                raise ValidationError("A multiple-select question needs at least one correct choice (a positive weight).")
            if abs(sum(right) - 100) > 1:
                raise ValidationError(f"The correct choices' weights add up to {sum(right)}%; they must add up to 100%.")


class ChoiceInline(admin.TabularInline):
    model = Choice
    formset = ChoiceFormSet
    extra = 1
    fields = ["position", "text", "weight", "feedback"]


@admin.register(Question)
class QuestionAdmin(SimpleHistoryAdmin):
    list_display = ["name", "quiz", "kind", "position", "archived"]
    list_filter = ["kind", "archived", "quiz__tier__tier", "quiz__tier__lesson"]
    search_fields = ["name", "text", "explanation"]
    list_select_related = ["quiz__tier__lesson"]
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
        fields = ["tier", "pass_mark", "shuffle"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["gift_text"] = gift.write(quiz_data(self.instance)) if self.instance.questions.exists() else ""

    def clean(self):
        data = super().clean()
        upload = data.get("gift_file")
        source = upload.read().decode("utf-8", errors="replace") if upload else data.get("gift_text", "")
        data["gift_source"] = None
        if upload or (source.strip() and source != self.initial.get("gift_text")):
            try:
                gift.parse(source)
            except gift.GiftError as exc:
                raise ValidationError(f"GIFT {exc}") from None
            data["gift_source"] = source
        return data


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    form = QuizForm
    list_display = ["__str__", "pass_mark", "shuffle", "question_count", "links"]
    list_filter = ["tier__tier", "tier__lesson"]
    list_select_related = ["tier__lesson"]
    search_fields = ["tier__lesson__title"]

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
        super().save_model(request, obj, form, change)
        source = form.cleaned_data.get("gift_source")
        if source:
            try:
                summary = import_quiz(obj, source)
            except ContentError as exc:
                messages.error(request, "The questions were not changed: " + "; ".join(exc.errors))
                return
            messages.success(request, "Questions saved: " + "; ".join(summary.lines()))

    def get_urls(self):
        own = [
            path("<int:pk>/statistics/", self.admin_site.admin_view(self.statistics_view), name="lessons_quiz_statistics"),
            path("<int:pk>/gift/", self.admin_site.admin_view(self.gift_view), name="lessons_quiz_gift"),
        ]
        return own + super().get_urls()

    def statistics_view(self, request, pk):
        quiz = get_object_or_404(Quiz.objects.select_related("tier__lesson"), pk=pk)
        if not self.has_view_permission(request, quiz):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "quiz": quiz, "stats": quiz_statistics(quiz), "opts": self.model._meta, "title": f"Statistics: {quiz}"}
        return TemplateResponse(request, "admin/lessons/quiz/statistics.html", context)

    def gift_view(self, request, pk):
        quiz = get_object_or_404(Quiz.objects.select_related("tier__lesson"), pk=pk)
        response = HttpResponse(gift.write(quiz_data(quiz)), content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{quiz.tier.lesson.slug}-{quiz.tier.tier}.gift"'
        return response


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ["pk", "quiz", "session_key", "user", "started_at", "finished_at", "score"]
    list_filter = ["quiz__tier__tier"]
    readonly_fields = [f.name for f in Attempt._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
