import getpass
import os

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse


class Command(BaseCommand):
    help = (
        "Create an instructor, or promote an existing user: staff access to the admin and membership "
        "of the Instructors group. The password is prompted for, or read from INSTRUCTOR_PASSWORD."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")

    def handle(self, username, email, **options):
        group = Group.objects.filter(name="Instructors").first()
        if group is None:
            raise CommandError("The Instructors group is missing: run `python manage.py migrate` first.")
        user = User.objects.filter(username=username).first()
        created = user is None
        if created:
            password = os.environ.get("INSTRUCTOR_PASSWORD") or self._prompt()
            user = User(username=username, email=email)
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            user.set_password(password)
        user.is_staff = True
        user.save()
        user.groups.add(group)
        verb = "Created" if created else "Promoted"
        # SITE_URL: DJANGO_SITE_URL, or http://127.0.0.1:$PORT as `make run PORT=…` serves it.
        admin_url = settings.SITE_URL + reverse("admin:index")
        self.stdout.write(self.style.SUCCESS(f"{verb} instructor '{username}'. Log in at {admin_url}"))

    def _prompt(self):
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords did not match.")
        return first
