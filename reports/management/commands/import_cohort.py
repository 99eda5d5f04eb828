"""python manage.py import_cohort FILE [--dry-run]: import a cohort, all or nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from reports.cohort import cohort_import


class Command(BaseCommand):
    help = (
        "Import participants and tenancies from an Excel workbook (.xlsx) or a CSV "
        "(comma or semicolon; UTF-8, UTF-8 with BOM or Windows-1252) with the columns "
        "participant_id, personnummer, move_in, move_out, exit_reason, landlord, contract_type, "
        "takeover, address, or their Swedish headers. Any bad row: nothing is imported and "
        "every bad row is reported. Shows progress on a terminal."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the .xlsx or .csv file.")
        parser.add_argument("--dry-run", action="store_true", help="Check only; write nothing.")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            # Read as the import goes, never held whole.
            file = path.open("rb")
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(reason)s") % {"path": path, "reason": exc.strerror}
            ) from None
        # A bar only for a person at a terminal: a log or a pipe gets the result alone.
        bar = _ProgressBar(self.stderr._out) if self.stderr.isatty() else None
        try:
            with file:
                result = cohort_import(
                    data=file,
                    filename=path.name,
                    acting_user=None,
                    commit=not options["dry_run"],
                    progress=bar,
                )
        finally:
            if bar is not None:
                bar.close()
        if result.source:
            self.stdout.write(_("Read as: %(source)s") % {"source": result.source})
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(
                _("%(n)s error(s) in %(name)s; nothing was imported.")
                % {"n": len(result.errors), "name": path.name}
            )
        message = (
            _(
                "Would import %(rows)s rows: %(p)s new participants, %(pu)s updated, "
                "%(t)s new tenancies, %(tu)s updated, %(tn)s unchanged, %(l)s new landlords, "
                "%(a)s new apartments."
            )
            if options["dry_run"]
            else _(
                "Imported %(rows)s rows: %(p)s new participants, %(pu)s updated, "
                "%(t)s new tenancies, %(tu)s updated, %(tn)s unchanged, %(l)s new landlords, "
                "%(a)s new apartments."
            )
        )
        self.stdout.write(
            message
            % {
                "rows": result.rows,
                "p": result.participants_created,
                "pu": result.participants_updated,
                "t": result.tenancies_created,
                "tu": result.tenancies_updated,
                "tn": result.tenancies_unchanged,
                "l": result.landlords_created,
                "a": result.apartments_created,
            }
        )


class _ProgressBar:
    """``cohort_import``'s progress callback as one tqdm bar per stage."""

    def __init__(self, out):
        self.out = out
        self.stage = None
        self.bar = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            label = _("Checking") if stage == "check" else _("Writing")
            self.bar = tqdm(total=total, desc=label, unit=_("rows"), file=self.out, leave=True)
        if total is not None and self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
