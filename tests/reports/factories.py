"""Factories for the reports app's import jobs. Reports themselves are made
with ``Report.objects.create`` or the services in the tests."""

from pathlib import Path

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from reports.models import CohortImport, ImportFile

HELSINGBORG = Path(__file__).with_name("helsingborg.csv")

# The counts of a clean preview of helsingborg.csv into an empty register.
HELSINGBORG_COUNTS = {
    "rows": 20,
    "participants_created": 19,
    "participants_updated": 0,
    "landlords_created": 1,
    "apartments_created": 20,
    "tenancies_created": 20,
    "tenancies_updated": 0,
    "tenancies_unchanged": 0,
}


class ImportFileFactory(DjangoModelFactory[ImportFile]):
    class Meta:
        model = ImportFile

    filename = "kohort.csv"
    content = factory.LazyFunction(HELSINGBORG.read_bytes)
    size = factory.LazyAttribute(lambda o: len(o.content))


class CohortImportFactory(DjangoModelFactory[CohortImport]):
    """A finished preview: clean (the import can be started) or, with
    ``with_errors=True``, with two errors (one of them quoting a formula)."""

    class Meta:
        model = CohortImport

    class Params:
        with_errors = False

    file = factory.SubFactory(ImportFileFactory)
    mode = CohortImport.Mode.PREVIEW
    state = CohortImport.State.DONE
    sent_to_broker = True
    finished_at = factory.LazyFunction(timezone.now)
    stage = CohortImport.Stage.WRITE
    done = 20
    total = 20
    source = "CSV, kommaavgränsad, UTF-8"
    counts = factory.LazyFunction(lambda: dict(HELSINGBORG_COUNTS))
    row_errors = factory.LazyAttribute(
        lambda o: (
            [
                {"line": 3, "sheet": "", "message": "move_in “2010-13-17” är inte ett datum."},
                {"line": 7, "sheet": "", "message": "landlord “=HYPERLINK(1)” är för lång."},
            ]
            if o.with_errors
            else []
        )
    )
    error_count = factory.LazyAttribute(lambda o: len(o.row_errors))
