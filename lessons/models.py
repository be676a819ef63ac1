"""Lessons, their three tier texts, the glossary, references, diagrams and quizzes.

Markdown is rendered when content is saved or imported (rendering.py, which never
touches the database) and stored; pages only read the stored HTML. The rules that keep
content valid live here, in `clean()` and the `check_*` helpers, and are used by the
admin, the importer and GIFT alike.
"""

import html
import re
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.text import capfirst
from simple_history.models import HistoricalRecords

from . import search
from .quizzes.gift import is_moodle_grade
from .review import scheduling
from .rendering import (
    Glossary, RenderSources, check_markdown, check_svg, citation_problems, render_inline, render_markdown, render_text, render_tier,
)


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


class ContentModel(models.Model):
    """Text fields hold no control characters (a NUL is refused by PostgreSQL, others are invisible)."""

    class Meta:
        abstract = True

    def clean_fields(self, exclude=None):
        errors = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        for field in self._meta.concrete_fields:
            if exclude and field.name in exclude or not isinstance(field, (models.CharField, models.TextField, models.JSONField)):
                continue
            if any(CONTROL_CHARACTERS.search(s) for s in _strings(getattr(self, field.attname))):
                errors.setdefault(field.name, []).append(
                    ValidationError("This field contains a control character (such as NUL); remove it.", code="control")
                )
        if errors:
            raise ValidationError(errors)

    def clean(self):
        super().clean()
        self.clean_content()

    def clean_content(self):
        """The rules that need no database, shared by the admin and the importer."""


def normalise_text(value: str) -> str:
    """Line endings as LF and no trailing whitespace: browsers send CRLF from textareas."""
    return value.replace("\r\n", "\n").replace("\r", "\n").rstrip() if value else value


class Tier(models.TextChoices):
    FUNDAMENTALS = "fundamentals", "Fundamentals"
    INTERMEDIATE = "intermediate", "Intermediate"
    ACADEMIC = "academic", "Academic"


TIERS = [t.value for t in Tier]
TIER_CHOICES = [(t.value, t.label) for t in Tier]


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class LessonQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Status.PUBLISHED)

    def with_tier_texts(self):
        """Each lesson's tier texts prefetched (id and tier), each with `has_quiz`: what a reader's
        status row needs (learners.progress.tier_rows). Two queries."""
        has_quiz = models.Exists(Quiz.objects.filter(text=models.OuterRef("pk")))
        texts = TierText.objects.only("pk", "tier", "lesson_id").annotate(has_quiz=has_quiz)
        return self.prefetch_related(models.Prefetch("tiers", queryset=texts))

    def visible_to(self, user):
        """Published lessons, and drafts too for staff who may edit lessons."""
        if can_see_drafts(user):
            return self
        return self.published()


def can_see_drafts(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm("lessons.change_lesson")


class Lesson(ContentModel):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, help_text="One line shown on the course map.")
    order = models.PositiveIntegerField(default=0, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    history = HistoricalRecords()

    objects = LessonQuerySet.as_manager()

    class Meta:
        ordering = ["order", "slug"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("lesson", args=[self.slug])

    def neighbours(self):
        """(previous, next) published lessons in course order, or None at either end. One query."""
        order = list(Lesson.objects.published().only("slug", "title", "order"))
        slugs = [lesson.slug for lesson in order]
        if self.slug not in slugs:
            return None, None
        i = slugs.index(self.slug)
        return (order[i - 1] if i > 0 else None), (order[i + 1] if i + 1 < len(order) else None)


class TierText(ContentModel):
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="tiers")
    tier = models.CharField(max_length=12, choices=Tier.choices)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    objectives = models.JSONField(default=list, blank=True, help_text="Learning objectives, one per line.")
    body = models.TextField(help_text="Markdown. Cite with [@key]; keep a word plain with {!word!}.")
    reviewed = models.DateField(null=True, blank=True, help_text="When a person last checked this text's claims.")
    # Derived on save by rendering.render_tier(); never edited by hand.
    html = models.TextField(blank=True, editable=False)
    toc = models.JSONField(default=list, blank=True, editable=False)
    terms = models.JSONField(default=dict, blank=True, editable=False)  # glossary slug → section anchor
    citations = models.JSONField(default=list, blank=True, editable=False)
    word_count = models.PositiveIntegerField(default=0, editable=False)
    reading_minutes = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    history = HistoricalRecords(excluded_fields=["html", "toc", "terms", "citations"])

    class Meta:
        ordering = ["lesson__order", "lesson__slug", "tier"]
        constraints = [models.UniqueConstraint(fields=["lesson", "tier"], name="one_text_per_tier")]

    def __str__(self):
        return f"{self.lesson.title} — {self.get_tier_display()}"

    def get_absolute_url(self):
        return reverse("tier", args=[self.lesson.slug, self.tier])

    def render(self, sources: RenderSources | None = None):
        """Render the body with the given sources (loaded from the database if None: 3 queries)."""
        result = render_tier(self.body, self.tier, sources or load_render_sources())
        self.html = result.html
        self.toc = result.toc
        self.terms = result.terms
        self.citations = result.citations
        self.word_count = result.word_count
        self.reading_minutes = max(1, round(result.word_count / 200))
        return result

    def save(self, *args, render=True, **kwargs):
        self.body = normalise_text(self.body)
        if render:
            self.render()
        with transaction.atomic():
            super().save(*args, **kwargs)
            search.index_text(self)

    @property
    def anchors(self):
        return {item["id"] for item in self.toc}


def rerender(texts, sources: RenderSources | None = None) -> list:
    """Re-render and save tier texts after a glossary term, reference or diagram changed."""
    texts = list(texts)
    if texts:
        sources = sources or load_render_sources()
        for text in texts:
            text.render(sources)
            text.save(render=False)
    return texts


def _texts_mentioning(needles) -> list:
    folded = [n.lower() for n in needles if n]
    return [t for t in TierText.objects.select_related("lesson") if any(n in t.body.lower() for n in folded)]


class EmbeddedInTexts(ContentModel):
    """A source that tier texts embed through a marker ([@key], [[diagram:slug]]): saving
    or deleting it re-renders exactly the texts that carry the marker."""

    class Meta:
        abstract = True

    def marker(self) -> str:
        raise NotImplementedError

    def save(self, *args, rerender_texts=True, **kwargs):
        super().save(*args, **kwargs)
        if rerender_texts:
            rerender(_texts_mentioning([self.marker()]))

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        rerender(_texts_mentioning([self.marker()]))
        return result


class Reference(EmbeddedInTexts):
    key = models.SlugField(unique=True, help_text="Cite it in lessons as [@key].")
    authors = models.CharField(max_length=500)
    title = models.CharField(max_length=500)
    journal = models.CharField(max_length=200, blank=True)
    year = models.PositiveIntegerField()
    volume = models.CharField(max_length=40, blank=True)
    pages = models.CharField(max_length=40, blank=True)
    doi = models.CharField("DOI", max_length=200, blank=True)
    pmid = models.CharField("PMID", max_length=20, blank=True)
    url = models.URLField(max_length=500, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["key"]

    def __str__(self):
        return f"{self.key}: {self.authors} ({self.year})"

    def clean_content(self):
        if not (self.doi or self.pmid or self.url):
            raise ValidationError("A reference needs a DOI, PMID or URL so readers can find it.")
        if self.url and urlsplit(self.url).scheme not in {"http", "https"}:
            raise ValidationError({"url": "A reference URL must start with http:// or https://."})

    def marker(self):
        return f"@{self.key}"


class Evidence(models.TextChoices):
    APPROVED = "approved", "Approved use"
    TRIAL = "trial", "Human trials"
    PRECLINICAL = "preclinical", "Animal/cell data only"


def name_key(name: str) -> str:
    return " ".join(name.lower().replace("-", " ").split())


class Term(ContentModel):
    slug = models.SlugField(unique=True)
    term = models.CharField(max_length=120)
    aliases = models.JSONField(default=list, blank=True, help_text="Plurals, abbreviations, synonyms.")
    case_sensitive = models.BooleanField(default=False, help_text="For acronyms such as PTH or OPG.")
    short = models.CharField(max_length=250, help_text="The tooltip: one or two plain sentences.")
    short_fundamentals = models.CharField(max_length=250, blank=True)
    short_intermediate = models.CharField(max_length=250, blank=True)
    short_academic = models.CharField(max_length=250, blank=True)
    body = models.TextField(blank=True, help_text="Markdown shown on the term's page.")
    body_html = models.TextField(blank=True, editable=False)
    evidence = models.CharField(
        max_length=12, choices=Evidence.choices, blank=True,
        help_text="For therapies only: the strongest evidence for any bone use.",
    )
    evidence_note = models.CharField(
        max_length=300, blank=True, help_text="For therapies: where it is approved and for what, or which trials or animal data exist.",
    )
    see_also = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="seen_from")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["body_html"])

    class Meta:
        ordering = ["term"]

    def __str__(self):
        return self.term

    def get_absolute_url(self):
        return reverse("term", args=[self.slug])

    def names(self):
        return [self.term, *self.aliases]

    @property
    def display_name(self) -> str:
        """The name as a title or list entry shows it: first letter capitalised unless the
        case is meaningful (acronyms such as PTH, or a case-sensitive name like 'mTOR')."""
        if self.case_sensitive or not self.term[:1].islower():
            return self.term
        return self.term[0].upper() + self.term[1:]

    def short_for(self, tier):
        return getattr(self, f"short_{tier}", "") or self.short

    def clean(self):
        super().clean()
        check_own_names(self.names())
        check_names(self.names(), Term.objects.exclude(pk=self.pk))

    def clean_content(self):
        refusals = check_markdown(self.body or "")
        if refusals:
            raise ValidationError({"body": refusals})
        for message, _ in citation_problems(self.body):
            raise ValidationError({"body": capfirst(message) + "."})
        if self.evidence_note and not self.evidence:
            raise ValidationError({"evidence": "Choose the level of evidence that the note describes."})

    def save(self, *args, rerender_texts=True, **kwargs):
        self.body = normalise_text(self.body)
        self.body_html = render_markdown(self.body)
        old = Term.objects.filter(pk=self.pk).only("slug", "term", "aliases").first() if self.pk else None
        with transaction.atomic():
            super().save(*args, **kwargs)
            search.index_term(self)
        if rerender_texts:
            self._rerender_texts(old)

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        self._rerender_texts(None)
        return result

    def _rerender_texts(self, old):
        """Re-render exactly the tier texts that mention or linked this term (by its old or new names)."""
        names = self.names() + (old.names() if old else [])
        slugs = {self.slug, old.slug if old else self.slug}
        folded = [n.lower() for n in names if n]
        rerender(
            t for t in TierText.objects.select_related("lesson")
            if slugs & set(t.terms) or any(n in t.body.lower() for n in folded)
        )


def twin_names(names) -> tuple[str, str] | None:
    """(name, earlier name) for the first two names of one term that differ only by case or
    hyphen/space, else None. The linker already treats such names as one."""
    seen = {}
    for name in names:
        key = name_key(name)
        if key in seen:
            return name, seen[key]
        seen[key] = name
    return None


def check_own_names(names) -> None:
    twins = twin_names(names)
    if twins:
        raise ValidationError(f"“{twins[0]}” differs from “{twins[1]}” only by case or hyphen/space; keep one of them.")


def check_names(names, others) -> None:
    """Refuse a term name or alias that is already a name of another term (ignoring case and hyphens)."""
    mine = {name_key(n): n for n in names if n}
    for other in others:
        clash = mine.keys() & {name_key(n) for n in other.names()}
        if clash:
            raise ValidationError(f"“{mine[clash.pop()]}” is already a name of the term “{other.term}”.")


class Diagram(EmbeddedInTexts):
    slug = models.SlugField(unique=True)
    svg = models.TextField(help_text="An accessible SVG with <title> and <desc>; see the content README.")

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug

    def clean_content(self):
        try:
            check_svg(self.svg)
        except ValueError as exc:
            raise ValidationError({"svg": f"This SVG cannot be used: {exc}."}) from None

    def marker(self):
        return f"[[diagram:{self.slug}]]"

    def save(self, *args, **kwargs):
        self.svg = normalise_text(self.svg)
        super().save(*args, **kwargs)


class Quiz(models.Model):
    text = models.OneToOneField(TierText, on_delete=models.CASCADE, related_name="quiz")
    pass_mark = models.PositiveSmallIntegerField(default=70, help_text="Percent needed to pass.")
    shuffle = models.BooleanField(default=True, help_text="Shuffle the choices for each attempt.")

    class Meta:
        verbose_name_plural = "quizzes"

    def __str__(self):
        return f"Quiz: {self.text}"

    def get_absolute_url(self):
        return reverse("quiz", args=[self.text.lesson.slug, self.text.tier])


class QuestionKind(models.TextChoices):
    SINGLE = "single", "Single choice"
    MULTIPLE = "multiple", "Multiple select"
    TRUE_FALSE = "truefalse", "True / false"
    MATCHING = "matching", "Matching"
    NUMERICAL = "numerical", "Numerical"
    SHORT_ANSWER = "shortanswer", "Short answer"


CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.TRUE_FALSE)


class TextFormat(models.TextChoices):
    """How a quiz field is written, as Moodle's GIFT tags say: [markdown], [moodle], [html], [plain]."""

    MARKDOWN = "markdown", "Markdown"
    MOODLE = "moodle", "Moodle auto-format (shown as markdown)"
    HTML = "html", "HTML (sanitised)"
    PLAIN = "plain", "Plain text"


def format_field(help_text=""):
    return models.CharField(max_length=10, choices=TextFormat.choices, default=TextFormat.MARKDOWN, help_text=help_text)


class QuestionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived=False)


class Question(ContentModel):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    name = models.SlugField(max_length=80, help_text="Stable identity; keep it when editing.")
    title = models.CharField(
        max_length=255, blank=True, help_text="The question's name as shown (free text, Moodle's ::name::); may be empty.",
    )
    idnumber = models.CharField("ID number", max_length=100, blank=True, help_text="Moodle's [id:…]; gives the identity on import.")
    tags = models.JSONField(default=list, blank=True, help_text="Moodle's [tag:…] labels.")
    category = models.CharField(max_length=500, blank=True, help_text="Moodle's $CATEGORY path, e.g. $course$/Bone.")
    kind = models.CharField(max_length=20, choices=QuestionKind.choices, default=QuestionKind.SINGLE)
    text = models.TextField(help_text="In the format chosen below (markdown unless said otherwise).")
    text_format = format_field()
    text_html = models.TextField(blank=True, editable=False)
    explanation = models.TextField(blank=True, help_text="General feedback, shown after answering.")
    explanation_format = format_field()
    explanation_html = models.TextField(blank=True, editable=False)
    section = models.CharField(max_length=100, blank=True, help_text="Heading anchor in the tier that this tests.")
    position = models.PositiveIntegerField(default=0)
    # Questions removed from a quiz are archived, never deleted, so past answers keep their question.
    archived = models.BooleanField(default=False)
    history = HistoricalRecords(excluded_fields=["text_html", "explanation_html"])

    objects = QuestionQuerySet.as_manager()

    class Meta:
        ordering = ["quiz", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["quiz", "name"], name="question_name_per_quiz")]

    def __str__(self):
        return self.name

    @property
    def plain_text(self) -> str:
        """The question as one line of plain text (tags dropped, entities decoded), for listings
        that escape it once: the results map, the statistics page."""
        return plain_text(self.text_html)

    def grade(self, choice_ids):
        """Fraction of credit, 0 to 1, for the chosen choice ids (already validated)."""
        weights = {c.pk: c.weight for c in self.choices.all()}
        total = sum(weights[pk] for pk in choice_ids)
        return min(1.0, max(0.0, float(total) / 100))

    def save(self, *args, **kwargs):
        self.text = normalise_text(self.text)
        self.explanation = normalise_text(self.explanation)
        self.text_html = render_text(self.text, self.text_format)
        self.explanation_html = render_text(self.explanation, self.explanation_format)
        super().save(*args, **kwargs)


class Choice(ContentModel):
    """One answer row of a question; which fields matter depends on the question's kind.

    single/multiple/true-false: text, weight, feedback. Matching: text (left side, empty for
    an extra wrong right side) and match (right side). Numerical: value (empty for Moodle's
    `*`, any number), tolerance, or minimum..maximum when written as a range; weight and
    feedback. Short answer: text (may use `*` wildcards), weight, feedback.
    """

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(max_length=500, blank=True)
    text_format = format_field("Matching: the left side's format; numerical and short answers are plain.")
    text_html = models.TextField(blank=True, editable=False)
    # Percent of the question's credit, exact as Moodle writes it (33.33333): 100 for the
    # single right answer; for multiple select the right answers' weights add to 100.
    weight = models.DecimalField(max_digits=8, decimal_places=5, default=0)
    feedback = models.CharField(max_length=1000, blank=True)
    feedback_format = format_field()
    feedback_html = models.TextField(blank=True, editable=False)
    match = models.CharField(max_length=500, blank=True, help_text="Matching: the right-hand side for this text.")
    value = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True, help_text="Numerical: the answer; empty means any number.")
    tolerance = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True, help_text="Numerical: accepted error either side.")
    minimum = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True, help_text="Numerical: range start (with maximum).")
    maximum = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True, help_text="Numerical: range end.")
    position = models.PositiveIntegerField(default=0)
    history = HistoricalRecords(excluded_fields=["text_html", "feedback_html"])

    class Meta:
        ordering = ["question", "position", "id"]

    def __str__(self):
        return f"{self.text} → {self.match}" if self.match else self.text

    def save(self, *args, **kwargs):
        self.render()
        super().save(*args, **kwargs)

    def render(self):
        # Typed answers (numerical, short answer) are patterns: pages show them escaped, not text_html.
        self.text_html = render_inline(self.text, self.text_format)
        self.feedback_html = render_inline(self.feedback, self.feedback_format)

    @property
    def correct(self):
        return self.weight > 0

    @property
    def label(self) -> str:
        """What a listing shows for this answer: its text as plain text, a matching pair, or a
        numerical answer's value with its tolerance or range."""
        if self.match:
            return f"{plain_text(self.text_html)} → {self.match}" if self.text else self.match
        if self.minimum is not None and self.maximum is not None:
            return f"{self.minimum.normalize():f} to {self.maximum.normalize():f}"
        if self.value is not None:
            tolerance = f" ± {self.tolerance.normalize():f}" if self.tolerance else ""
            return f"{self.value.normalize():f}{tolerance}"
        return self.text if self.question.kind in ("numerical", "shortanswer") else plain_text(self.text_html)


def plain_text(markup: str) -> str:
    return html.unescape(strip_tags(markup)).strip()


def check_weights(kind: str, weights: list) -> None:
    """The credit rules for a question's answers (weights in percent), for the admin and GIFT alike.

    Weights must be Moodle's grades (its import refuses others): 100, 50, 33.33333, 25, ...
    and their negatives; matching questions carry no weights.
    """
    weights = [Decimal(w) for w in weights]
    if kind == QuestionKind.MATCHING:
        return
    odd = [w for w in weights if not is_moodle_grade(w)]
    if odd and kind != QuestionKind.TRUE_FALSE:
        raise ValidationError(
            f"Weight {format(odd[0].normalize(), 'f')}% is not one of Moodle's grades "
            "(100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20, 16.66667, 14.28571, 12.5, "
            "11.11111, 10, 5, 0 or their negatives); for a third write 33.33333."
        )
    right = [w for w in weights if w > 0]
    if kind == QuestionKind.SINGLE and (not right or max(right) != 100):
        raise ValidationError("A single-choice question needs exactly one correct choice (weight 100); give the others 0.")
    if kind == QuestionKind.SINGLE and sum(w == 100 for w in weights) != 1:
        raise ValidationError("A single-choice question needs exactly one correct choice (weight 100); give the others 0.")
    if kind == QuestionKind.TRUE_FALSE and (len(weights) != 2 or len(right) != 1):
        raise ValidationError("A true/false question needs exactly two choices, True and False, one of them correct.")
    if kind == QuestionKind.MULTIPLE:
        if not right:
            raise ValidationError("A multiple-select question needs at least one correct choice (a positive weight).")
        if abs(sum(right) - 100) > Decimal("0.001"):
            raise ValidationError(f"The correct choices' weights add up to {format(sum(right).normalize(), 'f')}%; they must add up to 100%.")
    if kind in (QuestionKind.NUMERICAL, QuestionKind.SHORT_ANSWER) and 100 not in weights:
        raise ValidationError("One of the answers needs a weight of 100%, so that full marks are possible.")


class Attempt(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.PROTECT, related_name="attempts")
    learner = models.CharField(max_length=40, db_index=True, help_text="The learner id kept in the browser's session.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True, help_text="Percent, set when finished.")
    choice_order = models.JSONField(default=dict, help_text="Question id → choice ids in shown order.")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"Attempt {self.pk} on {self.quiz}"

    @property
    def passed(self):
        return self.score is not None and self.score >= self.quiz.pass_mark


class Answer(models.Model):
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    selected = models.JSONField(default=list, help_text="Ids of the chosen choices; for typed and matching answers, the answer rows that earned credit.")
    response = models.JSONField(null=True, blank=True, help_text="Numerical or short answer: the text typed; matching: left choice id → right side chosen.")
    score = models.FloatField(help_text="Fraction of the question's credit, 0 to 1.")
    answered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["answered_at", "id"]
        constraints = [models.UniqueConstraint(fields=["attempt", "question"], name="one_answer_per_question")]

    def __str__(self):
        return f"{self.question} → {self.selected}"


class ReviewItemQuerySet(models.QuerySet):
    def of(self, learner: str):
        """This learner's items that can be reviewed: none for a browser without a learner id,
        and none whose question was archived or whose lesson is not published."""
        if not learner:
            return self.none()
        return self.filter(
            learner=learner, question__archived=False, question__quiz__text__lesson__status=Status.PUBLISHED,
        )

    def due(self, now):
        return self.filter(due__lte=now)


class ReviewItem(models.Model):
    """A question this learner got wrong, scheduled for review by FSRS (lessons/review/).

    Keyed by the learner id that Attempt.learner holds, so anonymous learners review too.
    """

    learner = models.CharField(max_length=40, db_index=True, help_text="The learner id kept in the browser's session.")
    question = models.ForeignKey(Question, null=True, on_delete=models.CASCADE, related_name="review_items")
    state = models.JSONField(help_text="The FSRS card, as fsrs.Card.to_dict() writes it.")
    due = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True, help_text="Last reviewed on the Review page.")
    review_count = models.PositiveIntegerField(default=0)

    objects = ReviewItemQuerySet.as_manager()

    class Meta:
        ordering = ["due", "id"]
        constraints = [models.UniqueConstraint(fields=["learner", "question"], name="one_review_item_per_question")]

    def __str__(self):
        return f"Review of {self.question} for {self.learner}"

    @classmethod
    def add_missed(cls, learner: str, question: Question, score: float, now) -> None:
        """A question answered less than right in a quiz becomes a review item, the quiz answer
        counting as its first review. One INSERT that does nothing when the item exists."""
        state = scheduling.first_review(scheduling.rating_for(score), now)
        item = cls(learner=learner, question=question, state=state, due=scheduling.due_of(state), created_at=now)
        cls.objects.bulk_create([item], ignore_conflicts=True)

    def review(self, score: float, selected: list, response, now) -> "ReviewLog":
        """Rate the review from its score, move the schedule on and log it (two queries)."""
        rating = scheduling.rating_for(score)
        self.state = scheduling.next_review(self.state, rating, now)
        self.due = scheduling.due_of(self.state)
        self.reviewed_at = now
        self.review_count += 1
        self.save(update_fields=["state", "due", "reviewed_at", "review_count"])
        return ReviewLog.objects.create(
            item=self, number=self.review_count, reviewed_at=now, rating=rating, score=score,
            selected=selected, response=response,
        )


class ReviewLog(models.Model):
    """One review of one item: what was answered, the score and the FSRS rating it gave."""

    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField(help_text="1 for the item's first review on the Review page, and so on.")
    reviewed_at = models.DateTimeField()
    rating = models.PositiveSmallIntegerField(help_text="FSRS rating: 1 Again, 2 Hard, 3 Good.")
    score = models.FloatField(help_text="Fraction of the question's credit, 0 to 1.")
    selected = models.JSONField(default=list)
    response = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["reviewed_at", "id"]

    def __str__(self):
        return f"Review {self.pk} of {self.item_id}"


# --- What a signed-in learner has read (lessons/learners/progress.py) ------------------------
# An anonymous reader's progress rides in a signed cookie; an account's lives in these rows,
# so every device signed in to it sees the same course map. Keyed by lesson slug and tier, as
# the cookie is, so recording a step costs one upsert and no lookup.


class TierProgress(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tier_progress")
    lesson = models.SlugField(max_length=80)
    tier = models.CharField(max_length=20, choices=Tier.choices)
    read = models.BooleanField(default=False, help_text="The end of the tier (or its quiz) was reached.")
    place = models.CharField(max_length=100, blank=True, help_text="Id of the section reached last.")
    opened_at = models.DateTimeField(null=True, blank=True, help_text="When this became the lesson's last opened tier.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["lesson", "tier"]
        constraints = [models.UniqueConstraint(fields=["user", "lesson", "tier"], name="one_progress_row_per_tier")]

    def __str__(self):
        return f"{self.user} {self.lesson}/{self.tier}"

    @property
    def key(self) -> str:
        return f"{self.lesson}/{self.tier}"


class ReadingState(models.Model):
    """Per account: the depth they read at and the tier they read most recently ("Continue")."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="reading_state")
    depth = models.CharField(max_length=20, blank=True, choices=Tier.choices)
    recent = models.CharField(max_length=120, blank=True, help_text="'slug/tier' read most recently.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.user}: {self.depth or '-'} {self.recent or '-'}"


def load_render_sources() -> RenderSources:
    """Everything rendering needs from the database: glossary, references, diagrams (3 queries)."""
    return RenderSources(
        glossary=Glossary(
            (t.slug, t.names(), t.case_sensitive, {tier: t.short_for(tier) for tier in TIERS}, t.term, t.evidence)
            for t in Term.objects.all()
        ),
        references={r.key: r for r in Reference.objects.all()},
        diagrams=dict(Diagram.objects.values_list("slug", "svg")),
    )
