"""PostgreSQL: the search GIN indexes take each new entry at once (fastupdate off) instead
of queueing it in a pending list that every search then reads row by row until a VACUUM
merges it. After an import of the 10x course the list held ~660 entries in 106 pages and
added ~4 ms to every search (serial p95 21 ms instead of 17) until autovacuum came by; the content
changes seldom and is read on every search, so inserts pay instead. Nothing to do on SQLite."""

from django.db import migrations

INDEXES = ["lessons_searchentry_vector_gin", "lessons_searchentry_term_vector_gin"]


def pending_list_off(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index in INDEXES:
            schema_editor.execute(f"ALTER INDEX {index} SET (fastupdate = off)")
            schema_editor.execute(f"SELECT gin_clean_pending_list('{index}')")  # what the list holds already


def pending_list_on(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index in INDEXES:
            schema_editor.execute(f"ALTER INDEX {index} RESET (fastupdate)")


class Migration(migrations.Migration):
    dependencies = [("lessons", "0011_search_term_vector_index")]

    operations = [migrations.RunPython(pending_list_off, pending_list_on)]
