"""The search index (lessons/search.py): SearchEntry rows, and the engine's own index
over them: on SQLite an FTS5 table kept in step by triggers, on PostgreSQL a GIN index on
the stored tsvector plus pg_trgm for typo suggestions. Existing content is indexed here."""

import django.contrib.postgres.search
import django.db.models.deletion
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from lessons.search import SECTION_FTS, TERM_FTS, VECTOR, acronym_names, section_entries, term_entry

COLUMNS = "heading, body, acronyms"
OLD, NEW = "old.id, old.heading, old.body, old.acronyms", "new.id, new.heading, new.body, new.acronyms"


def _fts_sql(table, kind):
    """An FTS5 table over the SearchEntry rows of one kind, and the triggers that keep it in step."""
    add = f"INSERT INTO {table}(rowid, {COLUMNS}) SELECT {NEW} WHERE new.kind = '{kind}';"
    remove = f"INSERT INTO {table}({table}, rowid, {COLUMNS}) SELECT 'delete', {OLD} WHERE old.kind = '{kind}';"
    return [
        f"CREATE VIRTUAL TABLE {table} USING fts5({COLUMNS}, content='lessons_searchentry', content_rowid='id', "
        "tokenize='porter unicode61')",
        f"CREATE TRIGGER {table}_ai AFTER INSERT ON lessons_searchentry BEGIN {add} END",
        f"CREATE TRIGGER {table}_ad AFTER DELETE ON lessons_searchentry BEGIN {remove} END",
        f"CREATE TRIGGER {table}_au AFTER UPDATE ON lessons_searchentry BEGIN {remove} {add} END",
    ]


SQLITE_CREATE = _fts_sql(SECTION_FTS, "section") + _fts_sql(TERM_FTS, "term")
SQLITE_DROP = [
    *(f"DROP TRIGGER IF EXISTS {table}_{t}" for table in (SECTION_FTS, TERM_FTS) for t in ("ai", "ad", "au")),
    *(f"DROP TABLE IF EXISTS {table}" for table in (SECTION_FTS, TERM_FTS)),
]
POSTGRES_CREATE = ["CREATE INDEX lessons_searchentry_vector_gin ON lessons_searchentry USING gin (vector)"]
POSTGRES_DROP = ["DROP INDEX IF EXISTS lessons_searchentry_vector_gin"]


def _run(schema_editor, statements):
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def create_engine_index(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE})


def drop_engine_index(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP})


def index_existing(apps, schema_editor):
    TierText, Term, SearchEntry = (apps.get_model("lessons", m) for m in ("TierText", "Term", "SearchEntry"))
    terms = list(Term.objects.all())
    acronyms = acronym_names(terms)
    entries = [SearchEntry(term_id=t.pk, **term_entry(t)) for t in terms]
    entries += [SearchEntry(text_id=t.pk, **f) for t in TierText.objects.all() for f in section_entries(t, acronyms)]
    SearchEntry.objects.bulk_create(entries, batch_size=500)
    if schema_editor.connection.vendor == "postgresql":
        SearchEntry.objects.update(vector=VECTOR)


class Migration(migrations.Migration):
    dependencies = [("lessons", "0005_exact_weights_more_kinds")]

    operations = [
        TrigramExtension(),  # no-op on SQLite
        migrations.CreateModel(
            name="SearchEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("section", "Lesson section"), ("term", "Glossary term")], max_length=8)),
                ("position", models.PositiveIntegerField(default=0)),
                ("anchor", models.CharField(blank=True, max_length=200)),
                ("key", models.CharField(blank=True, help_text="The section key shared by the three tiers.", max_length=200)),
                ("heading", models.CharField(max_length=300)),
                ("body", models.TextField()),
                ("acronyms", models.TextField(blank=True)),
                ("vector", django.contrib.postgres.search.SearchVectorField(null=True)),
                ("term", models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="search_entries", to="lessons.term")),
                ("text", models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="search_entries", to="lessons.tiertext")),
            ],
            options={"verbose_name_plural": "search entries", "ordering": ["kind", "text", "position"]},
        ),
        migrations.RunPython(create_engine_index, drop_engine_index),
        migrations.RunPython(index_existing, migrations.RunPython.noop),
    ]
