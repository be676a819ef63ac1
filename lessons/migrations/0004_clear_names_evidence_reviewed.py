"""Clearer names, keeping every row: Quiz.tier → Quiz.text (it is a TierText),
Attempt.session_key → learner (it holds the learner id), Response → Answer (no clash
with HTTP responses). New: a reviewed date per tier text and evidence data on terms."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("lessons", "0003_index_updated_at")]

    operations = [
        migrations.RenameField("quiz", "tier", "text"),
        migrations.RenameField("attempt", "session_key", "learner"),
        migrations.AlterField(
            "attempt",
            "learner",
            models.CharField(db_index=True, help_text="The learner id kept in the browser's session.", max_length=40),
        ),
        migrations.RenameModel("Response", "Answer"),
        migrations.AlterField(
            "answer",
            "attempt",
            models.ForeignKey(on_delete=models.deletion.CASCADE, related_name="answers", to="lessons.attempt"),
        ),
        migrations.AlterField(
            "answer",
            "question",
            models.ForeignKey(on_delete=models.deletion.PROTECT, related_name="answers", to="lessons.question"),
        ),
        migrations.AddField(
            "tiertext",
            "reviewed",
            models.DateField(blank=True, help_text="When a person last checked this text's claims.", null=True),
        ),
        migrations.AddField(
            "historicaltiertext",
            "reviewed",
            models.DateField(blank=True, help_text="When a person last checked this text's claims.", null=True),
        ),
        *[
            migrations.AddField(
                model,
                "evidence",
                models.CharField(
                    blank=True,
                    choices=[("approved", "Approved use"), ("trial", "Human trials"), ("preclinical", "Animal/cell data only")],
                    help_text="For therapies only: the strongest evidence for any bone use.",
                    max_length=12,
                ),
            )
            for model in ("term", "historicalterm")
        ],
        *[
            migrations.AddField(
                model,
                "evidence_note",
                models.CharField(
                    blank=True,
                    help_text="For therapies: where it is approved and for what, or which trials or animal data exist.",
                    max_length=300,
                ),
            )
            for model in ("term", "historicalterm")
        ],
    ]
