from django.core.management.base import BaseCommand

from lessons.content_files import export_course


class Command(BaseCommand):
    help = "Write the course from the database to DIR in the same format import_content reads."

    def add_arguments(self, parser):
        parser.add_argument("directory")

    def handle(self, directory, **options):
        written = export_course(directory)
        self.stdout.write(f"Wrote {len(written)} files to {directory}.")
