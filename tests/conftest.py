import os
import shutil
import textwrap
from pathlib import Path

import pytest
from django.conf import settings

from lessons.content_files import CONTENT_DIR, load_course, read_course

(Path(settings.BASE_DIR) / "var").mkdir(exist_ok=True)

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


@pytest.fixture
def course_dir(db, tmp_path):
    """A small course's files, with the database's course emptied so that the test starts
    from them alone even when the bundled course was loaded (rolled back with the test)."""
    from lessons.models import Diagram, Lesson, Reference, Term

    for model in (Lesson, Term, Reference, Diagram):
        model.objects.all().delete()
    return make_course(tmp_path / "content")


@pytest.fixture
def small_course(db, course_dir):
    load_course(read_course(course_dir))
    return course_dir


only_small_course = small_course


@pytest.fixture(scope="session")
def bundled_course(django_db_setup, django_db_blocker):
    """The shipped course, loaded once into the test database."""
    with django_db_blocker.unblock():
        load_course(read_course(CONTENT_DIR))
    return CONTENT_DIR


@pytest.fixture
def copy_of_bundled(tmp_path):
    target = tmp_path / "bundled"
    shutil.copytree(CONTENT_DIR, target)
    return target


@pytest.fixture(autouse=True)
def _fresh_page_cache():
    from lessons import page_cache

    page_cache.clear()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_ENABLED = False


@pytest.fixture
def instructor(db):
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group, User

    if not Group.objects.filter(name="Instructors").exists():
        # A transactional test before this one flushed the group its data migration made.
        importlib.import_module("lessons.migrations.0002_instructors_group").create_group(apps, None)
    user = User.objects.create_user("ina", password="pw-ina-123456", is_staff=True)
    user.groups.add(Group.objects.get(name="Instructors"))
    return user


def browser_required():
    return os.environ.get("REQUIRE_BROWSER") == "1"
