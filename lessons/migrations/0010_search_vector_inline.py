"""PostgreSQL: keep each section's tsvector in its row (storage MAIN) rather than in the
TOAST table. Matching and ranking read every candidate's vector; fetched from TOAST, that
read was most of a search's time (10 ms to read the 2,000 vectors of the 10x bench course,
1 ms inline), and it made the planner's cheap-looking sequential scan slow. The body, read
only for the ten sections shown, still goes out of line. Existing vectors are rewritten so
that they move in. Nothing to do on SQLite."""

from django.db import migrations

from lessons.search import VECTOR


def vector_inline(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE lessons_searchentry ALTER COLUMN vector SET STORAGE MAIN")
    apps.get_model("lessons", "SearchEntry").objects.update(vector=VECTOR)


def vector_extended(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE lessons_searchentry ALTER COLUMN vector SET STORAGE EXTENDED")


class Migration(migrations.Migration):
    dependencies = [("lessons", "0009_learner_progress")]

    operations = [migrations.RunPython(vector_inline, vector_extended)]
