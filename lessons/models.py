"""Lessons, their three tier texts, the glossary, references, diagrams and quizzes.

Markdown is rendered when content is saved or imported (see rendering.py) and stored;
pages only read the stored HTML.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords


class Tier(models.TextChoices):
    FUNDAMENTALS = "fundamentals", "Fundamentals"
    INTERMEDIATE = "intermediate", "Intermediate"
    ACADEMIC = "academic", "Academic"


TIERS = [t.value for t in Tier]


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class LessonQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Status.PUBLISHED)


class Lesson(models.Model):
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

    @property
    def is_published(self):
        return self.status == Status.PUBLISHED


class TierText(models.Model):
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="tiers")
    tier = models.CharField(max_length=12, choices=Tier.choices)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    objectives = models.JSONField(default=list, blank=True, help_text="Learning objectives, one per line.")
    body = models.TextField(help_text="Markdown. Cite with [@key]; keep a word plain with {!word!}.")
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

    def render(self, glossary=None, references=None, diagrams=None):
        from .rendering import render_tier

        result = render_tier(self.body, self.tier, glossary=glossary, references=references, diagrams=diagrams)
        self.html = result.html
        self.toc = result.toc
        self.terms = result.terms
        self.citations = result.citations
        self.word_count = result.word_count
        self.reading_minutes = max(1, round(result.word_count / 200))
        return result

    def save(self, *args, render=True, **kwargs):
        if render:
            self.render()
        super().save(*args, **kwargs)

    @property
    def anchors(self):
        return {item["id"] for item in self.toc}


class Reference(models.Model):
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

    @property
    def link(self):
        if self.doi:
            return f"https://doi.org/{self.doi}"
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        return self.url


class Term(models.Model):
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

    def short_for(self, tier):
        return getattr(self, f"short_{tier}", "") or self.short

    def save(self, *args, **kwargs):
        from .rendering import render_markdown

        self.body_html = render_markdown(self.body)
        super().save(*args, **kwargs)


class Diagram(models.Model):
    slug = models.SlugField(unique=True)
    svg = models.TextField(help_text="An accessible SVG with <title> and <desc>; see the content README.")

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug


class Quiz(models.Model):
    tier = models.OneToOneField(TierText, on_delete=models.CASCADE, related_name="quiz")
    pass_mark = models.PositiveSmallIntegerField(default=70, help_text="Percent needed to pass.")
    shuffle = models.BooleanField(default=True, help_text="Shuffle the choices for each attempt.")

    class Meta:
        verbose_name_plural = "quizzes"

    def __str__(self):
        return f"Quiz: {self.tier}"

    def get_absolute_url(self):
        return reverse("quiz", args=[self.tier.lesson.slug, self.tier.tier])


class QuestionKind(models.TextChoices):
    SINGLE = "single", "Single choice"
    MULTIPLE = "multiple", "Multiple select"
    TRUE_FALSE = "truefalse", "True / false"


class QuestionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived=False)


class Question(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    name = models.SlugField(max_length=80, help_text="Stable identity; keep it when editing.")
    kind = models.CharField(max_length=10, choices=QuestionKind.choices, default=QuestionKind.SINGLE)
    text = models.TextField(help_text="Markdown.")
    text_html = models.TextField(blank=True, editable=False)
    explanation = models.TextField(blank=True, help_text="Markdown shown after answering.")
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

    def grade(self, choice_ids):
        """Fraction of credit, 0 to 1, for the chosen choice ids (already validated)."""
        weights = {c.pk: c.weight for c in self.choices.all()}
        total = sum(weights[pk] for pk in choice_ids)
        return min(1.0, max(0.0, total / 100))

    def save(self, *args, **kwargs):
        from .rendering import render_markdown

        self.text_html = render_markdown(self.text)
        self.explanation_html = render_markdown(self.explanation)
        super().save(*args, **kwargs)


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(max_length=500)
    # Percent of the question's credit: 100 for the single right answer; for multiple
    # select the right answers' weights add to 100 and wrong answers are negative.
    weight = models.SmallIntegerField(default=0)
    feedback = models.CharField(max_length=1000, blank=True)
    position = models.PositiveIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["question", "position", "id"]

    def __str__(self):
        return self.text

    @property
    def correct(self):
        return self.weight > 0


class Attempt(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.PROTECT, related_name="attempts")
    session_key = models.CharField(max_length=40, db_index=True)
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


class Response(models.Model):
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="responses")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="responses")
    selected = models.JSONField(default=list, help_text="Ids of the chosen choices.")
    score = models.FloatField(help_text="Fraction of the question's credit, 0 to 1.")
    answered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["answered_at", "id"]
        constraints = [models.UniqueConstraint(fields=["attempt", "question"], name="one_answer_per_question")]

    def __str__(self):
        return f"{self.question} → {self.selected}"
