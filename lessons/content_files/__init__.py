"""The course as files: read and check (read.py), load into the database (load.py), write
back (write.py). Layout and formats: lessons/content/README.md."""

from .load import ImportSummary, import_quiz, load_course, quiz_problems
from .read import CONTENT_DIR, ContentError, Course, read_course
from .write import export_course, quiz_data

__all__ = [
    "CONTENT_DIR", "ContentError", "Course", "ImportSummary", "export_course", "import_quiz", "load_course",
    "quiz_data", "quiz_problems", "read_course",
]
