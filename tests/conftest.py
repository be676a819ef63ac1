import hashlib
import os
import pickle
import shutil
import textwrap
from pathlib import Path

import django
import pytest
from django.conf import settings

from lessons.content_files import CONTENT_DIR, load_course, read_course
from lessons.search import SECTION_FTS, TERM_FTS

(Path(settings.BASE_DIR) / "var").mkdir(exist_ok=True)


def pytest_addoption(parser):
    group = parser.getgroup("hormonebone")
    group.addoption("--system", action="store_true", help="run only the system tests: real make targets, gunicorn, load (make test-system)")
    group.addoption("--cluster", action="store_true", help="run only the cross-server tests against deploy/cluster.py (make test-cluster)")


def pytest_configure(config):
    # Each xdist worker gets a cache directory of its own: tests clear the cache and count
    # rate limits in it, and one worker must not clear the other's counters mid-test.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        location = Path(settings.BASE_DIR) / "var" / f"cache-{worker}"
        os.environ["CACHE_DIR"] = str(location)
        if "filebased" in settings.CACHES["default"]["BACKEND"]:
            settings.CACHES["default"]["LOCATION"] = str(location)


def pytest_collection_modifyitems(config, items):
    """`pytest` runs the unit, page and browser tests; `--system` and `--cluster` run only
    the tests that start real servers, which `make test-system` and `make test-cluster` do."""
    wanted = "system" if config.getoption("system") else "cluster" if config.getoption("cluster") else None
    keep, drop = [], []
    for item in items:
        kind = "system" if item.get_closest_marker("system") else "cluster" if item.get_closest_marker("cluster") else None
        (keep if kind == wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _migrations_digest():
    from django.apps import apps

    return _digest(*(Path(app.path) / "migrations" for app in apps.get_app_configs() if (Path(app.path) / "migrations").is_dir()))


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_modify_db_settings):
    """pytest-django's database setup, except that on SQLite the migrated database is kept in
    var/ (per set of migrations) and copied for the next run and every xdist worker instead
    of migrating again (3 s of CPU each)."""
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.vendor != "sqlite":
        with django_db_blocker.unblock():
            config = setup_databases(verbosity=request.config.option.verbose, interactive=False)
        yield
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=request.config.option.verbose)
        return
    kept = Path(settings.BASE_DIR) / "var" / f"migrated-{_migrations_digest()}.sqlite3"
    with django_db_blocker.unblock():
        if kept.exists():
            old_name = connection.settings_dict["NAME"]
            test_name = connection.creation._get_test_db_name()
            connection.close()
            for suffix in ("", "-wal", "-shm"):
                Path(test_name + suffix).unlink(missing_ok=True)
            shutil.copyfile(kept, test_name)
            settings.DATABASES[connection.alias]["NAME"] = connection.settings_dict["NAME"] = test_name
            connection.ensure_connection()
            config = [(connection, old_name, True)]
        else:
            config = setup_databases(verbosity=request.config.option.verbose, interactive=False)
            with connection.cursor() as cursor:
                _keep(kept, lambda path: cursor.execute("VACUUM INTO %s", [str(path)]))
    yield
    with django_db_blocker.unblock():
        teardown_databases(config, verbosity=request.config.option.verbose)


REFERENCES = """\
[[reference]]
key = "smith2020"
authors = "Smith A, Jones B"
title = "A test paper about bone"
journal = "J Test"
year = 2020
volume = "1"
pages = "1-2"
doi = "10.1000/test.1"
pmid = ""
url = ""

[[reference]]
key = "lee2019"
authors = "Lee C"
title = "Another test paper"
journal = "J Test"
year = 2019
volume = ""
pages = ""
doi = ""
pmid = "123456"
url = ""
"""

GLOSSARY = """\
[[term]]
slug = "osteoclast"
term = "osteoclast"
aliases = ["osteoclasts"]
case_sensitive = false
short = "A large cell that dissolves bone."
short_fundamentals = "A bone-removing cell."
see_also = ["osteoblast"]
body = \"\"\"
Osteoclasts resorb bone.
\"\"\"

[[term]]
slug = "osteoblast"
term = "osteoblast"
aliases = ["osteoblasts"]
case_sensitive = false
short = "A cell that builds bone."
see_also = []

[[term]]
slug = "bone-mineral-density"
term = "bone mineral density"
aliases = []
case_sensitive = false
short = "Mineral per area of bone on a scan."
see_also = []

[[term]]
slug = "pth"
term = "PTH"
aliases = ["parathyroid hormone"]
case_sensitive = true
short = "The hormone that raises blood calcium."
see_also = []
"""

TIER = """\
+++
title = "{title}"
summary = "Summary of {title}."
objectives = [
  "Know {title}",
]
+++

## Cells {{#cells}}

The osteoclast removes bone and the osteoblast builds it [@smith2020]. Osteoclasts again.

## Hormones {{#hormones}}

PTH and bone mineral density matter [@smith2020; @lee2019]. An osteoclast here is linked again.
"""

QUIZ = """\
// section: cells
::{slug}-q1:: [markdown]Which cell removes bone?{{
=Osteoclast #Right, it dissolves bone.
~Osteoblast #No, it builds bone.
~Osteocyte #No, it senses load.
####Osteoclasts remove bone.
}}

// section: hormones
::{slug}-q2:: [markdown]Which raise blood calcium? Choose all that apply.{{
~%50%PTH #Yes.
~%50%Calcitriol #Yes.
~%-100%Calcitonin #No, it lowers it briefly.
####PTH and calcitriol both raise calcium.
}}

// section: cells
::{slug}-q3:: [markdown]Bone is a living tissue.{{TRUE#It is alive: it is renewed all the time.#Right: it is renewed all the time.
####Bone is remodeled throughout life.
}}
"""


def make_course(root, lessons=("alpha", "beta")):
    """Write a small valid course to root and return root."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "references.toml").write_text(REFERENCES)
    (root / "glossary.toml").write_text(GLOSSARY)
    for order, slug in enumerate(lessons, start=101):
        folder = root / slug
        folder.mkdir()
        (folder / "lesson.toml").write_text(
            f'title = "Lesson {slug}"\nsummary = "About {slug}."\norder = {order}\nstatus = "published"\n'
        )
        for tier in ("fundamentals", "intermediate", "academic"):
            (folder / f"{tier}.md").write_text(TIER.format(title=f"{slug} {tier}"))
            (folder / f"{tier}.gift").write_text(QUIZ.format(slug=f"{slug}-{tier[0]}"))
    return root


def dedent(text):
    return textwrap.dedent(text).lstrip()


def _dependency_order(models):
    """Models sorted so that every model comes after the models its foreign keys point to."""
    ordered, pending = [], list(models)
    while pending:
        for model in pending:
            targets = {f.related_model for f in model._meta.concrete_fields if f.is_relation} & set(pending)
            if targets <= {model}:
                ordered.append(model)
                pending.remove(model)
                break
        else:
            raise RuntimeError(f"foreign-key cycle among {pending}")
    return ordered


def lessons_models():
    """Every table of the lessons app (history and many-to-many tables too), parents first."""
    from django.apps import apps

    return _dependency_order(apps.get_app_config("lessons").get_models(include_auto_created=True))


def empty_course():
    """Delete every row of the lessons app, history included (rolled back with the test)."""
    models = lessons_models()
    # Deleting a lesson writes its history, so history tables are emptied last.
    for model in sorted(reversed(models), key=lambda m: m.__name__.startswith("Historical")):
        if model._base_manager.exists():
            model._base_manager.all().delete()


FTS_SHADOW_TABLES = [f"{table}_{part}" for table in (SECTION_FTS, TERM_FTS) for part in ("data", "idx", "docsize")]


class CourseRows:
    """The rows one import of a course writes, captured once and inserted again per test.

    Importing renders every tier text (about 0.5 s of CPU for the small course, 7 s for
    the bundled one); inserting the captured rows is one executemany per table. The capture
    runs in a transaction that is rolled back, so the committed test database never holds a
    course and a transactional test's flush cannot take one away from later tests.
    """

    def __init__(self, course_dir):
        from django.db import connection, transaction

        quote = connection.ops.quote_name
        self.tables = []
        with transaction.atomic():
            empty_course()
            load_course(read_course(course_dir))
            for model in lessons_models():
                fields = model._meta.concrete_fields
                rows = [
                    tuple(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields)
                    for obj in model._base_manager.order_by("pk")
                ]
                if rows:
                    columns = ", ".join(quote(f.column) for f in fields)
                    placeholders = ", ".join(["%s"] * len(fields))
                    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
                    self.tables.append((model._meta.label, sql, rows))
            self.fts_tables = []
            if connection.vendor == "sqlite":
                cursor = connection.cursor()
                for table in FTS_SHADOW_TABLES:
                    rows = cursor.execute(f"SELECT * FROM {table}").fetchall()
                    placeholders = ", ".join(["?"] * len(cursor.description))
                    self.fts_tables.append((table, f"INSERT INTO {table} VALUES ({placeholders})", rows))
            transaction.set_rollback(True)

    def insert(self):
        from django.apps import apps
        from django.core.management.color import no_style
        from django.db import connection, transaction

        with transaction.atomic(), connection.cursor() as cursor:
            triggers = []
            if self.fts_tables:
                # SQLite: the search index's own tables are copied as captured instead of
                # being built again by the triggers (70 ms of the 130 ms the bundled course takes).
                cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'lessons_searchentry'")
                triggers = cursor.fetchall()
                for name, _ in triggers:
                    cursor.execute(f"DROP TRIGGER {name}")
            for _, sql, rows in self.tables:
                cursor.executemany(sql, rows)
            for table, sql, rows in self.fts_tables:
                cursor.execute(f"DELETE FROM {table}")
                cursor.executemany(sql, rows)
            for _, sql in triggers:
                cursor.execute(sql)
            # PostgreSQL's sequences do not move for explicit ids; SQLite needs no statements.
            models = [apps.get_model(label) for label, _, _ in self.tables]
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)


def _digest(*folders):
    """What the files under the folders (or the files) hold, with Django's version."""
    digest = hashlib.sha256(django.__version__.encode())
    for folder in map(Path, folders):
        paths = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for path in paths:
            digest.update(path.name.encode() + b"\0" + str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _keep(kept: Path, write):
    """Makes a file of var/ with write(path), atomically (xdist workers race), and removes
    its stale versions."""
    partial = kept.with_suffix(f".{os.getpid()}")
    partial.unlink(missing_ok=True)
    write(partial)
    partial.replace(kept)
    for stale in kept.parent.glob(kept.name.rsplit("-", 1)[0] + "-*" + kept.suffix):
        if stale != kept:
            stale.unlink(missing_ok=True)


def course_rows(course_dir, name):
    """CourseRows for course_dir, kept in var/ between runs (and between xdist workers) for
    as long as the course files and the lessons package, which renders them, are unchanged.
    Only on SQLite: its captured values are plain Python; PostgreSQL's are adapter objects."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return CourseRows(course_dir)
    kept = Path(settings.BASE_DIR) / "var" / f"{name}-rows-{_digest(course_dir, Path(settings.BASE_DIR) / 'lessons', __file__)}.pickle"
    if kept.exists():
        return pickle.loads(kept.read_bytes())
    rows = CourseRows(course_dir)
    _keep(kept, lambda path: path.write_bytes(pickle.dumps(rows)))
    return rows


@pytest.fixture(scope="session")
def small_course_rows(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        return course_rows(make_course(tmp_path_factory.mktemp("small") / "content"), "small-course")


@pytest.fixture(scope="session")
def bundled_course_rows(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return course_rows(CONTENT_DIR, "bundled-course")


@pytest.fixture
def course_dir(db, tmp_path):
    """A small course's files, and a database without any course, so that the test starts
    from the files alone."""
    empty_course()
    return make_course(tmp_path / "content")


@pytest.fixture
def small_course(course_dir, small_course_rows):
    """The small course in the database, as importing course_dir would leave it."""
    small_course_rows.insert()
    return course_dir


only_small_course = small_course


@pytest.fixture
def bundled_course(db, bundled_course_rows):
    """The shipped course alone in the database (the rows are imported once per session)."""
    empty_course()
    bundled_course_rows.insert()
    return CONTENT_DIR


@pytest.fixture
def copy_of_bundled(tmp_path):
    target = tmp_path / "bundled"
    shutil.copytree(CONTENT_DIR, target)
    return target


@pytest.fixture(autouse=True)
def _fresh_page_cache():
    from django.core.cache import cache

    from lessons import page_cache

    page_cache.clear()
    cache.clear()  # rate-limit counters live in the shared (file) cache


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_ENABLED = False


# --- Personas ------------------------------------------------------------------------------
# Each client is its own browser session. Passwords are PASSWORD for everyone.

PASSWORD = "pw-ina-123456"


@pytest.fixture
def instructors_group(db):
    """The Instructors group its data migration makes (made again when a transactional
    test's flush removed it)."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    group = Group.objects.filter(name="Instructors").first()
    if group is None:
        importlib.import_module("lessons.migrations.0002_instructors_group").create_group(apps, None)
        group = Group.objects.get(name="Instructors")
    return group


def _logged_in(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def learner_client(client):
    """An anonymous learner (pytest-django's `client`: the same session)."""
    return client


@pytest.fixture
def second_learner_client(db):
    """Another anonymous learner, with a session of their own."""
    from django.test import Client

    return Client()


@pytest.fixture
def instructor(instructors_group):
    from django.contrib.auth.models import User

    user = User.objects.create_user("ina", password=PASSWORD, is_staff=True)
    user.groups.add(instructors_group)
    return user


@pytest.fixture
def instructor_client(instructor):
    return _logged_in(instructor)


@pytest.fixture
def quizless_instructor(instructors_group):
    """Staff with the Instructors' rights on lessons, terms and references but none on quizzes."""
    from django.contrib.auth.models import User

    user = User.objects.create_user("noquiz", password=PASSWORD, is_staff=True)
    quiz_models = ("quiz", "question", "choice", "historicalquestion", "historicalchoice")
    user.user_permissions.set(instructors_group.permissions.exclude(content_type__model__in=quiz_models))
    return user


@pytest.fixture
def quizless_instructor_client(quizless_instructor):
    return _logged_in(quizless_instructor)


@pytest.fixture
def superuser(db):
    from django.contrib.auth.models import User

    return User.objects.create_superuser("root", "root@example.org", PASSWORD)


@pytest.fixture
def superuser_client(superuser):
    return _logged_in(superuser)


def browser_required():
    return os.environ.get("REQUIRE_BROWSER") == "1"


# --- Browser tests (Playwright + Debian's chromium), shared by the browser test modules ---

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    """One Chromium per test session, shared by every browser test module."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        if browser_required():
            pytest.fail("REQUIRE_BROWSER=1 but no chromium is installed")
        pytest.skip("no Chromium installed (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def new_page(browser):
    """Open a page in a fresh browser context (one Chromium per session, closed per test)."""
    contexts = []

    def open_page(**options):
        contexts.append(browser.new_context(**options))
        page = contexts[-1].new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()
