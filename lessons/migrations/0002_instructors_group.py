"""The Instructors group: edit course content, nothing else (no users, groups or attempts)."""

from django.db import migrations

CONTENT_MODELS = ["lesson", "tiertext", "term", "reference", "diagram", "quiz", "question", "choice"]
HISTORY_MODELS = [f"historical{m}" for m in ["lesson", "tiertext", "term", "reference", "question", "choice"]]


def create_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Instructors")
    codenames = [f"{action}_{model}" for model in CONTENT_MODELS for action in ("add", "change", "delete", "view")]
    codenames += [f"view_{model}" for model in HISTORY_MODELS]
    group.permissions.set(Permission.objects.filter(content_type__app_label="lessons", codename__in=codenames))


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Instructors").delete()


class Migration(migrations.Migration):
    dependencies = [("lessons", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length"), ("contenttypes", "0002_remove_content_type_name")]

    operations = [migrations.RunPython(create_group, remove_group)]
