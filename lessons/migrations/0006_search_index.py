"""The search index (lessons/search.py): SearchEntry rows, and the engine's own index
over them: on SQLite an FTS5 table kept in step by triggers, on PostgreSQL a GIN index on
the stored tsvector plus pg_trgm for typo suggestions. Existing content is indexed here."""

import django.contrib.postgres.search
import django.db.models.deletion
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from lessons.search import FTS_TABLE, VECTOR, acronym_names, section_entries, term_entry

COLUMNS = "heading, body, acronyms"
SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({COLUMNS}, content='lessons_searchentry', content_rowid='id', "
    "tokenize='porter unicode61')",
    f"""CREATE TRIGGER lessons_searchentry_ai AFTER INSERT ON lessons_searchentry BEGIN
        INSERT INTO {FTS_TABLE}(rowid, {COLUMNS}) VALUES (new.id, new.heading, new.body, new.acronyms);
    END""",
    f"""CREATE TRIGGER lessons_searchentry_ad AFTER DELETE ON lessons_searchentry BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {COLUMNS}) VALUES ('delete', old.id, old.heading, old.body, old.acronyms);
    END""",
    f"""CREATE TRIGGER lessons_searchentry_au AFTER UPDATE ON lessons_searchentry BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {COLUMNS}) VALUES ('delete', old.id, old.heading, old.body, old.acronyms);
        INSERT INTO {FTS_TABLE}(rowid, {COLUMNS}) VALUES (new.id, new.heading, new.body, new.acronyms);
    END""",
]
SQLITE_DROP = [
    *(f"DROP TRIGGER IF EXISTS lessons_searchentry_{t}" for t in ("ai", "ad", "au")),
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
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
