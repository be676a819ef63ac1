from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lessons.content_files import CONTENT_DIR, ContentError, load_course, read_course


class Command(BaseCommand):
    help = "Validate the course files and load them into the database (one transaction)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(CONTENT_DIR), help="content folder (default: the bundled course)")
        parser.add_argument("--dry-run", action="store_true", help="validate and report, change nothing")

    def handle(self, path, dry_run, **options):
        try:
            summary = load_course(read_course(Path(path)), dry_run=dry_run)
        except ContentError as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(f"{len(exc.errors)} problem(s) in {path}; nothing was changed.") from None
        for line in summary.lines():
            self.stdout.write(line)
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        elif not summary.changed:
            self.stdout.write("Nothing changed: the database already matches the files.")
        else:
            self.stdout.write(self.style.SUCCESS("Import complete."))
