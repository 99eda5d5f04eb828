import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bostadforst", "0011_user_previous_login"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReminderLanguage",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="reminder_language",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
                ("language", models.CharField(max_length=10, verbose_name="language")),
            ],
            options={
                "verbose_name": "reminder language",
                "verbose_name_plural": "reminder languages",
            },
        ),
        migrations.CreateModel(
            name="ReminderPreference",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(max_length=50, verbose_name="kind of reminder")),
                ("enabled", models.BooleanField(default=True, verbose_name="on")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reminder_preferences",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "reminder preference",
                "verbose_name_plural": "reminder preferences",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "kind"), name="one_preference_per_kind"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="SentReminder",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(max_length=50, verbose_name="kind of reminder")),
                ("object_id", models.PositiveBigIntegerField(verbose_name="record id")),
                ("event_key", models.CharField(max_length=64, verbose_name="event")),
                ("path", models.CharField(max_length=200, verbose_name="link")),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("pending", "Claimed, not yet sent"),
                            ("sent", "Sent"),
                            ("failed", "Failed, to be retried"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="state",
                    ),
                ),
                ("run_id", models.UUIDField(editable=False, verbose_name="run")),
                (
                    "claimed_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="claimed"
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="attempts")),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent")),
                (
                    "error",
                    models.CharField(
                        blank=True, max_length=100, verbose_name="reason for failure"
                    ),
                ),
                (
                    "recipient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recipient",
                    ),
                ),
            ],
            options={
                "verbose_name": "sent reminder",
                "verbose_name_plural": "sent reminders",
                "indexes": [models.Index(fields=["run_id"], name="sentreminder_run")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "object_id", "event_key", "recipient"),
                        name="one_reminder_per_event_and_recipient",
                    )
                ],
            },
        ),
    ]
