"""python manage.py gallra [--dry-run]: cull closed cases (see bostadforst/gallring.py)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from bostadforst.gallring import run


class Command(BaseCommand):
    help = (
        "Delete every record of people whose case closed more than GALLRING_YEARS years "
        "ago with no later entry. --dry-run lists what is due and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List what is due; change nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        result, record = run(dry_run=dry_run)
        # Ids and counts only: this output may end up in a job log.
        self.stdout.write(
            f"Cut-off: closed before {result.cutoff:%Y-%m-%d} "
            f"({settings.GALLRING_YEARS} years), no later entry."
        )
        self.stdout.write(f"Due: {len(result.due)} person(s) {sorted(result.due)}")
        if result.exempted:
            self.stdout.write(f"Kept for research: {len(result.exempted)} person(s)")
        if result.later_entry:
            self.stdout.write(f"Not due (later entry): {len(result.later_entry)} person(s)")
        for model, pks in sorted(result.rows.items(), key=lambda kv: kv[0]._meta.label):
            self.stdout.write(f"  {model._meta.label}: {len(pks)} row(s)")
        for model, pks in sorted(result.history_rows.items(), key=lambda kv: kv[0]._meta.label):
            self.stdout.write(f"  {model._meta.label}: {len(pks)} history row(s)")
        if dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was changed."))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Culled {record.persons_culled} person(s), {record.rows_deleted} row(s)."
                )
            )
