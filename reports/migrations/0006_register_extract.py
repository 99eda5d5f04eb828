# Register extracts (GDPR art. 15): the job, its period and progress, and its PDF.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("participants", "0007_identity_protection_and_restriction"),
        ("reports", "0005_cohort_import_error_count"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RegisterExtract",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("ordered_at", models.DateTimeField(auto_now_add=True, verbose_name="ordered")),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("done", "Done"),
                            ("failed", "Failed"),
                        ],
                        db_index=True,
                        default="queued",
                        max_length=10,
                        verbose_name="state",
                    ),
                ),
                (
                    "sent_to_broker",
                    models.BooleanField(
                        db_index=True, default=False, verbose_name="sent to the queue"
                    ),
                ),
                ("started_at", models.DateTimeField(blank=True, null=True, verbose_name="started")),
                (
                    "run_id",
                    models.UUIDField(blank=True, editable=False, null=True, verbose_name="run"),
                ),
                (
                    "heartbeat_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="last heartbeat"),
                ),
                (
                    "finished_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="finished"),
                ),
                ("error", models.TextField(blank=True, verbose_name="reason for failure")),
                (
                    "period_from",
                    models.DateField(blank=True, null=True, verbose_name="access log from"),
                ),
                (
                    "period_to",
                    models.DateField(blank=True, null=True, verbose_name="access log until"),
                ),
                (
                    "stage",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("collect", "Collecting records"),
                            ("log", "Collecting the access log"),
                            ("render", "Writing the PDF"),
                        ],
                        max_length=10,
                        verbose_name="stage",
                    ),
                ),
                ("done", models.PositiveIntegerField(default=0, verbose_name="parts done")),
                (
                    "total",
                    models.PositiveIntegerField(blank=True, null=True, verbose_name="parts in all"),
                ),
                (
                    "pdf",
                    models.FileField(blank=True, upload_to="extracts/%Y/%m/", verbose_name="PDF"),
                ),
                (
                    "ordered_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="ordered by",
                    ),
                ),
                (
                    "participant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="register_extracts",
                        to="participants.participant",
                        verbose_name="participant",
                    ),
                ),
            ],
            options={
                "verbose_name": "register extract",
                "verbose_name_plural": "register extracts",
                "ordering": ["-ordered_at", "-pk"],
            },
        ),
    ]
