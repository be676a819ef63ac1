"""Instructor authoring: lessons with their tiers inline, quizzes editable as GIFT, previews, history."""

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import Resolver404, path, resolve, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import capfirst
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from .quizzes import gift
from .content_files import import_quiz, quiz_data, quiz_problems
from .history_diff import diff_records
from .models import (
    TIERS, Attempt, Choice, Diagram, Lesson, Question, Quiz, Reference, Status, Term, Tier, TierText, check_weights,
    load_render_sources, normalise_text,
)
from .quizzes.item_analysis import WHICH_ATTEMPTS
from .quizzes.stats import quiz_statistics
from .rendering import citation_problems, render_markdown, render_tier

def teaching_order(field="tier"):
    """Fundamentals, Intermediate, Academic: the tiers in the order they are taught."""
    return Case(*[When(**{field: t}, then=Value(i)) for i, t in enumerate(TIERS)], output_field=IntegerField())


TEACHING_ORDER = teaching_order()


# --- Form fields that read what a browser sends the way the models store it -------------------
# Browsers submit textarea text with CRLF line endings. Normalising in to_python() makes an
# untouched field equal its stored value, so has_changed() is false and inline formsets
# leave untouched rows alone (no save, no re-render, no history row).


class TextField(forms.CharField):
    """Multi-line text: LF line endings and no trailing whitespace, exactly as the models store it."""

    def __init__(self, **kwargs):
        kwargs["strip"] = False  # leading spaces can be markdown (an indented first line)
        super().__init__(**kwargs)

    def to_python(self, value):
        return normalise_text(super().to_python(value))


class LineField(forms.CharField):
    """One line of text (titles, summaries, tooltips): runs of whitespace, line breaks included, become one space."""

    def to_python(self, value):
        value = super().to_python(value)
        return " ".join(value.split()) if value else value


def change_reason_field():
    return forms.CharField(
        label="Change reason", required=False, max_length=100,
        help_text="Optional: why you made this change, shown in History.",
        widget=forms.TextInput(attrs={"size": 60}),
    )


class PreviewTextarea(forms.Textarea):
    """A markdown textarea with a live preview rendered by the real pipeline."""

    template_name = "admin/lessons/preview_textarea.html"

    def __init__(self, kind="tier", attrs=None):
        self.kind = kind
        super().__init__(attrs={"rows": 24, "class": "vLargeTextField markdown-source", **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["preview_url"] = reverse("admin:lessons_preview") + f"?kind={self.kind}"
        return context


class LinesField(forms.CharField):
    """A JSON list of strings edited as one item per line."""

    def __init__(self, **kwargs):
        super().__init__(required=False, widget=forms.Textarea(attrs={"rows": 4}), **kwargs)

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return [" ".join(line.split()) for line in (value or "").splitlines() if line.strip()]


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


class NormalisedFields:
    """Form fields for model text fields that compare equal to what is stored (see TextField)."""

    tooltip_fields = ()  # one-line CharFields long enough to deserve a small textarea

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if type(db_field) is models.TextField:
            kwargs.setdefault("form_class", TextField)
        elif type(db_field) is models.CharField and not db_field.choices:
            kwargs.setdefault("form_class", LineField)
            if db_field.name in self.tooltip_fields:
                kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField tooltip-source"}))
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class TierTextInline(NormalisedFields, admin.StackedInline):
    model = TierText
    form = TierTextForm
    extra = 0
    max_num = 3
    fields = ["tier", "title", "summary", "objectives", "body"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).order_by(TEACHING_ORDER)


def error_summary(adminform, inline_admin_formsets) -> list:
    """Every error on a change form, each with where it is and a link to its field."""
    items = []

    def add(form, where, anchor_default):
        for name, messages_ in form.errors.items():
            if name == NON_FIELD_ERRORS or name not in form.fields:
                label, anchor = where or "The form", anchor_default
            else:
                field = form[name]
                label = f"{where}: {field.label}" if where else field.label
                anchor = field.id_for_label or anchor_default
            items.extend({"label": label, "message": m, "anchor": anchor} for m in messages_)

    add(adminform.form, "", "content-main")
    for inline in inline_admin_formsets:
        formset = inline.formset
        group = f"{formset.prefix}-group"
        items += [{"label": capfirst(inline.opts.verbose_name_plural), "message": m, "anchor": group} for m in formset.non_form_errors()]
        for i, form in enumerate(formset.forms):
            if form.errors:
                where = str(form.instance) if form.instance.pk else f"New {inline.opts.verbose_name} {i + 1}"
                if isinstance(form.instance, TierText) and form.instance.tier:
                    where = f"{form.instance.get_tier_display()} tier"
                add(form, where, f"{formset.prefix}-{i}")
    return items


class AuthoringAdmin(NormalisedFields, SimpleHistoryAdmin):
    """History with a change reason and line diffs; saves only what changed; errors summarised on top."""

    object_history_template = "admin/lessons/object_history.html"
    object_history_list_template = "admin/lessons/object_history_list.html"
    object_history_form_template = "admin/lessons/object_history_form.html"
    diff_excluded = ("id", "updated_at")

    def get_form(self, request, obj=None, **kwargs):
        if "fields" not in kwargs:
            kwargs["fields"] = flatten_fieldsets(self.get_fieldsets(request, obj))
        form = super().get_form(request, obj, **kwargs)
        if "change_reason" not in form.base_fields:
            form = type(form.__name__, (form,), {"change_reason": change_reason_field()})
        return form

    def get_fieldsets(self, request, obj=None):
        # change_reason is shown by the change form template next to the Save buttons, after the inlines.
        fieldsets = super().get_fieldsets(request, obj)
        return [(t, {**o, "fields": [n for n in o["fields"] if n != "change_reason"]}) for t, o in fieldsets]

    def _reason(self, request, form):
        reason = form.cleaned_data.get("change_reason") or None
        reverting = getattr(request, "reverting_to", None)
        if reverting and not reason:
            reason = f"Reverted to the version of {date_format(reverting.history_date, 'DATETIME_FORMAT')}"
        return reason

    def save_model(self, request, obj, form, change):
        changed = [name for name in form.changed_data if name != "change_reason"]
        if change and not changed and not getattr(request, "reverting_to", None):
            return  # an untouched form writes nothing: no updated_at bump, no history row
        obj._change_reason = self._reason(request, form)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        reason = self._reason(request, form)
        for obj in formset.save(commit=False):  # only the forms whose data changed
            obj._change_reason = reason
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()

    def render_change_form(self, request, context, *args, **kwargs):
        context["error_summary"] = error_summary(context["adminform"], context.get("inline_admin_formsets", []))
        return super().render_change_form(request, context, *args, **kwargs)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        pk_name = self.model._meta.pk.attname  # on the history model, pk is history_id
        version = get_object_or_404(self.model.history, **{pk_name: unquote(object_id)}, history_id=version_id)
        if request.method == "POST":
            request.reverting_to = version
        return super().history_form_view(request, object_id, version_id, {"version": version, **(extra_context or {})})

    # --- History: what each version changed, and a line diff between any two ---

    def diff_fields(self):
        return [
            (f.attname, capfirst(f.verbose_name)) for f in self.model.history.model._meta.fields
            if not f.name.startswith("history_") and f.name not in self.diff_excluded
        ]

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # simple-history's own select_related() without fields is deprecated for models without foreign keys.
        return history_manager.filter(**{pk_name: object_id}).select_related("history_user")

    def set_history_delta_changes(self, request, page_obj, foreign_keys_are_objs=True):
        records = list(page_obj)
        fields = self.diff_fields()
        for i, record in enumerate(records):
            older = records[i + 1] if i + 1 < len(records) else record.prev_record
            record.previous_id = older.history_id if older else None
            record.changed_labels = [
                label for name, label in fields
                if older is None or getattr(record, name) != getattr(older, name)
            ] if older else []

    def history_view(self, request, object_id, extra_context=None):
        return super().history_view(request, object_id, {**self.history_extra_context(request, object_id), **(extra_context or {})})

    def history_extra_context(self, request, object_id):
        return {}

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        compare = path(
            "<path:object_id>/history/compare/", self.admin_site.admin_view(self.history_compare_view),
            name="%s_%s_history_compare" % info,
        )
        return [compare, *super().get_urls()]

    def history_compare_view(self, request, object_id):
        """A line diff of two versions: ?to=<history id> and optionally &from=<history id> (else the version before)."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_view_history_or_change_history_permission(request, obj):
            raise PermissionDenied
        try:
            ids = [int(request.GET[k]) for k in ("from", "to") if request.GET.get(k)]
        except ValueError:
            return HttpResponseBadRequest("Versions are chosen by number: ?from=12&to=15.")
        if not ids or "to" not in request.GET:
            return HttpResponseBadRequest("Choose the version to compare: ?to=<version> (and optionally &from=<version>).")
        history = self.model.history.filter(**{self.model._meta.pk.attname: obj.pk})  # its own pk is history_id
        records = {r.history_id: r for r in history.filter(history_id__in=ids)}
        if len(records) != len(set(ids)):
            raise Http404("No such version of this object.")
        new = records[int(request.GET["to"])]
        old = records[int(request.GET["from"])] if request.GET.get("from") else new.prev_record
        if old and (old.history_date, old.history_id) > (new.history_date, new.history_id):
            old, new = new, old
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": f"Changes to {obj}",
            "opts": opts,
            "object": obj,
            "old": old,
            "new": new,
            "diffs": diff_records(old, new, self.diff_fields()),
            "has_change_permission": self.has_change_permission(request, obj),
            "revert_disabled": self.revert_disabled(request, obj),
        }
        return TemplateResponse(request, "admin/lessons/history_compare.html", context)


def _set_status(request, queryset, status, done):
    # save() per lesson, not update(): it records history and bumps updated_at for the page cache.
    for lesson in queryset:
        lesson.status = status
        lesson._change_reason = f"{done.rstrip(':')} from the lesson list"
        lesson.save()
    messages.success(request, f"{done} {len(queryset)} lesson(s).")


@admin.action(description="Publish selected lessons")
def publish(modeladmin, request, queryset):
    _set_status(request, queryset, Status.PUBLISHED, "Published")


@admin.action(description="Unpublish selected lessons (back to draft)")
def unpublish(modeladmin, request, queryset):
    _set_status(request, queryset, Status.DRAFT, "Moved back to draft:")


@admin.register(Lesson)
class LessonAdmin(AuthoringAdmin):
    list_display = ["title", "order", "status", "updated_at"]
    list_editable = ["order"]
    list_filter = ["status"]
    search_fields = ["title", "summary", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [TierTextInline]
    actions = [publish, unpublish]

    def history_extra_context(self, request, object_id):
        """The lesson's history page also lists its tiers' changes, with links to their histories."""
        tiers = list(TierText.objects.filter(lesson_id=unquote(object_id)).order_by(TEACHING_ORDER))
        rows = list(
            TierText.history.filter(lesson_id=unquote(object_id)).select_related("history_user").order_by("-history_date", "-history_id")[:20]
        )
        return {"tiers": tiers, "tier_changes": rows}


@admin.register(TierText)
class TierTextAdmin(AuthoringAdmin):
    form = TierTextForm
    list_display = ["__str__", "tier", "word_count", "reading_minutes", "lesson_status", "updated_at"]
    list_filter = ["tier", "lesson__status", "lesson"]
    search_fields = ["title", "body", "lesson__title"]
    list_select_related = ["lesson"]
    ordering = ["lesson__order", "lesson__slug", TEACHING_ORDER.asc()]

    @admin.display(description="Status", ordering="lesson__status")
    def lesson_status(self, obj):
        return obj.lesson.get_status_display()

    def get_urls(self):
        preview = self.admin_site.admin_view(require_POST(self.preview_view))
        return [path("preview/", preview, name="lessons_preview"), *super().get_urls()]

    def preview_view(self, request):
        """Live preview of one markdown field through the real pipeline, with the problems it would cause.

        The page sends `field`, the name of the textarea (with its form prefix), its text, and
        the same form's tier, so each inline previews its own text at its own tier.
        """
        if not (self.has_change_permission(request) or self.has_add_permission(request)):
            raise PermissionDenied
        field = request.POST.get("field")
        if field is None:
            bodies = [k for k in request.POST if k.endswith("body")]
            if len(bodies) > 1:
                return HttpResponseBadRequest("Say which textarea to preview: field=<its name>.")
            field = bodies[0] if bodies else "body"
        if "__prefix__" in field:
            return HttpResponseBadRequest("The empty template form has nothing to preview.")
        body = normalise_text(request.POST.get(field, ""))
        tier = request.POST.get(field.removesuffix("body") + "tier") if field.endswith("body") else None
        tier = tier if tier in TIERS else Tier.FUNDAMENTALS
        if request.GET.get("kind") == "plain":
            problems = [m for m, _ in citation_problems(body)]
            context = {"html": render_markdown(body), "problems": problems, "terms": []}
        else:
            result = render_tier(body, tier, load_render_sources())
            problems = [m for m, _ in result.problems] + broken_site_links(result.html)
            context = {"html": result.html, "problems": problems, "terms": list(result.terms)}
        context["tier"] = Tier(tier).label if request.GET.get("kind") != "plain" else ""
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
class TermAdmin(AuthoringAdmin):
    form = TermForm
    list_display = ["term", "slug", "case_sensitive", "short"]
    list_filter = ["case_sensitive"]
    search_fields = ["term", "slug", "short", "aliases"]
    prepopulated_fields = {"slug": ["term"]}
    filter_horizontal = ["see_also"]
    tooltip_fields = ("short", "short_fundamentals", "short_intermediate", "short_academic", "evidence_note")


@admin.register(Reference)
class ReferenceAdmin(AuthoringAdmin):
    list_display = ["key", "authors", "year", "journal", "doi", "pmid"]
    list_filter = ["year"]
    search_fields = ["key", "authors", "title", "doi", "pmid"]


@admin.register(Diagram)
class DiagramAdmin(NormalisedFields, admin.ModelAdmin):
    search_fields = ["slug"]


class ChoiceFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        weights = [f.cleaned_data["weight"] for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        check_weights(self.instance.kind, weights)


class ChoiceInline(NormalisedFields, admin.TabularInline):
    model = Choice
    formset = ChoiceFormSet
    extra = 1
    fields = [
        "position", "text", "text_format", "match", "value", "tolerance", "minimum", "maximum", "weight", "feedback",
        "feedback_format",
    ]


class QuestionForm(forms.ModelForm):
    tags = LinesField(help_text="One Moodle tag per line; written back as [tag:…].")

    class Meta:
        model = Question
        fields = "__all__"


@admin.register(Question)
class QuestionAdmin(AuthoringAdmin):
    form = QuestionForm
    list_display = ["name", "title", "quiz", "kind", "position", "archived"]
    list_filter = ["kind", "archived", "quiz__text__tier", "quiz__text__lesson"]
    search_fields = ["name", "title", "idnumber", "text", "explanation"]
    list_select_related = ["quiz__text__lesson"]
    inlines = [ChoiceInline]
    fields = [
        "quiz", "name", "title", "idnumber", "tags", "category", "kind", "text", "text_format", "explanation",
        "explanation_format", "section", "position", "archived",
    ]


class QuizForm(forms.ModelForm):
    gift_text = forms.CharField(
        label="Questions (GIFT)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 30, "class": "vLargeTextField gift-source"}),
        help_text="Edit the whole quiz here in Moodle's GIFT format. A question keeps its identity by its "
        "'// name:' line, else its [id:…], else its ::name::, else its text; change that and it becomes a new question.",
    )
    gift_file = forms.FileField(label="Or upload a GIFT file", required=False)
    archive_left_out = forms.BooleanField(
        label="Archive the questions left out",
        required=False,
        help_text="A question now in the quiz that the new GIFT leaves out is archived: hidden from learners, "
        "kept with its past answers, and back when its Archived box is unticked. Saving asks first.",
    )

    class Meta:
        model = Quiz
        fields = ["text", "pass_mark", "shuffle"]
        labels = {"text": "Tier"}
        help_texts = {"text": "The lesson and depth this quiz follows."}

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
        if upload or (source.strip() and source.strip() != (self.initial.get("gift_text") or "").strip()):
            try:
                parsed = gift.parse(source, moodle=True)
            except gift.GiftError as exc:
                raise ValidationError(f"GIFT {exc}") from None
            text = data.get("text") or getattr(self.instance, "text", None)
            problems = quiz_problems(text, parsed) if text else []
            if problems:
                raise ValidationError([f"GIFT {p}" for p in problems])
            left_out = self.left_out(parsed)
            if left_out and not data.get("archive_left_out"):
                names = ", ".join(f"“{q.title or q.name}”" for q in left_out[:10])
                more = f" and {len(left_out) - 10} more" if len(left_out) > 10 else ""
                again = " (and choose the file again)" if upload else ""
                self.add_error(
                    "archive_left_out",
                    f"The new GIFT leaves out {len(left_out)} of the quiz's questions: {names}{more}. Tick “Archive "
                    f"the questions left out” to archive them{again}, or put them back in the GIFT.",
                )
            data["gift_source"] = source
        return data

    def left_out(self, parsed) -> list:
        """The quiz's questions that the parsed GIFT does not name: saving would archive them."""
        if not self.instance.pk:
            return []
        return list(self.instance.questions.active().exclude(name__in=[q.name for q in parsed.questions]).order_by("position"))


@admin.register(Quiz)
class QuizAdmin(NormalisedFields, admin.ModelAdmin):
    form = QuizForm
    list_display = ["__str__", "pass_mark", "shuffle", "question_count", "links"]
    list_filter = ["text__tier", "text__lesson"]
    list_select_related = ["text__lesson"]
    search_fields = ["text__lesson__title"]
    ordering = ["text__lesson__order", "text__lesson__slug", teaching_order("text__tier").asc()]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(active_questions=Count("questions", filter=Q(questions__archived=False)))

    @admin.display(description="Questions", ordering="active_questions")
    def question_count(self, obj):
        return obj.active_questions

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
            "title": f"Quiz statistics: {quiz.text}", "choices_of_attempts": WHICH_ATTEMPTS,
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

    # A learner's history is for superusers only: instructors see aggregates in a quiz's statistics.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser
