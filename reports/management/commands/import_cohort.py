"""python manage.py import_cohort FILE.csv [--dry-run]: import a cohort, all or nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports.cohort import cohort_import


class Command(BaseCommand):
    help = (
        "Import participants and tenancies from a UTF-8 CSV (participant_id, personnummer, "
        "move_in, move_out, exit_reason, landlord, contract_type, takeover, address). "
        "Any bad row: nothing is imported and every bad row is reported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file.")
        parser.add_argument("--dry-run", action="store_true", help="Check only; write nothing.")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        result = cohort_import(
            data=data, filename=path.name, acting_user=None, commit=not options["dry_run"]
        )
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(
                f"{len(result.errors)} error(s) in {path.name}; nothing was imported."
            )
        verb = "Would import" if options["dry_run"] else "Imported"
        self.stdout.write(
            f"{verb} {result.rows} rows: {result.participants_created} new participants, "
            f"{result.participants_updated} updated, {result.tenancies_created} new tenancies, "
            f"{result.tenancies_updated} updated, {result.tenancies_unchanged} unchanged, "
            f"{result.landlords_created} new landlords, {result.apartments_created} new apartments."
        )
