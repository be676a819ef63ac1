"""The content version: one query whose answer changes whenever a lesson, a tier text, a
glossary term or the set of quizzes changes. The page cache checks it on every request, and
search checks its per-process copies of the glossary and of the sections' depths against it.
Models are looked up when first needed: the models module imports search, which imports this."""

import functools

from django.apps import apps
from django.db import connection


@functools.cache
def _version_sql() -> str:
    parts = []
    for name in ("TierText", "Lesson", "Term"):
        table = apps.get_model("lessons", name)._meta.db_table
        parts += [f"(SELECT MAX(updated_at) FROM {table})", f"(SELECT COUNT(*) FROM {table})"]
    parts.append(f"(SELECT COUNT(*) FROM {apps.get_model('lessons', 'Quiz')._meta.db_table})")
    return "SELECT " + ", ".join(parts)


def content_version() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(_version_sql())
        return tuple(str(v) for v in cursor.fetchone())
