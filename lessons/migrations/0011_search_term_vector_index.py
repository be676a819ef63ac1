"""PostgreSQL: a GIN index over the glossary terms' vectors alone. The glossary query
(`kind = 'term'`) otherwise tests every section's vector too, 2,000 of them at 10x, to keep
the ~150 terms. Nothing to do on SQLite, where terms have an FTS5 table of their own."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX lessons_searchentry_term_vector_gin ON lessons_searchentry USING gin (vector) WHERE kind = 'term'"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS lessons_searchentry_term_vector_gin")


class Migration(migrations.Migration):
    dependencies = [("lessons", "0010_search_vector_inline")]

    operations = [migrations.RunPython(create, drop)]
