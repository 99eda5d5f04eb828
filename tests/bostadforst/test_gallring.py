"""Culling (gallring): people whose case closed more than GALLRING_YEARS ago,
with no later entry, leave no trace in any table; a dry run changes nothing;
the research exemption keeps people born on the 5th, 15th and 25th; stored
report figures stay; each run is recorded by count only."""

import datetime
import io

import pytest
from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from bostadforst.models import AccessLogEntry, CaseModel, GallringRun
from participants.models import Participant, ReferralEvent
from tests.participants.factories import (
    NetworkContactFactory,
    ParticipantFactory,
    ReferralFactory,
    fictional_personnummer,
)

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - datetime.timedelta(days=7 * 365)


def everything_is_old():
    """Backdate every case row, so that only closing dates decide who is due."""
    for model in apps.get_models():
        if issubclass(model, CaseModel):
            model._base_manager.update(created_at=LONG_AGO, updated_at=LONG_AGO)


def close(person, *, years_ago: float = 6):
    person.closed_on = timezone.localdate() - datetime.timedelta(days=int(365.25 * years_ago))
    person.save()


def all_rows_as_text():
    """Every row of every table in the database (history tables and join
    tables included, also tables of apps added later), one string a row."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                yield table, " | ".join("" if v is None else str(v) for v in row)


def traces_of(person_texts: dict) -> list[tuple[str, str]]:
    pnr = person_texts["personnummer"]
    needles = [pnr, pnr[2:], f"{pnr[:8]}-{pnr[8:]}", f"{pnr[2:8]}-{pnr[8:]}"]
    needles += person_texts["free_texts"]
    found = []
    for table, text in all_rows_as_text():
        if any(n in text for n in needles) or (
            person_texts["first_name"] in text and person_texts["last_name"] in text
        ):
            found.append((table, text[:120]))
    return found


def make_person(day=None, **names):
    import random

    person = ParticipantFactory(
        personnummer=fictional_personnummer(random.Random(names.get("first_name", "x")), day=day),
        **names,
    )
    referral = ReferralFactory(
        participant=person, description=f"Fritext om {person.last_name}s liv"
    )
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.INFORMATION,
        note=f"Samtal med {person.first_name} om missbruket",
        created_by=referral.referred_by,
    )
    contact = NetworkContactFactory(participant=person, note=f"Bror till {person.last_name}")
    contact.phone = "070-999 99 99"
    contact.save()
    person.phone = "073-111 11 11"  # one more history row holding the name
    person.save()
    LogEntry.objects.create(
        user_id=referral.referred_by_id,
        content_type=ContentType.objects.get_for_model(Participant),
        object_id=str(person.pk),
        object_repr=str(person),
        action_flag=CHANGE,
    )
    return person, {
        "personnummer": person.personnummer,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "free_texts": [
            referral.description,
            f"Samtal med {person.first_name} om missbruket",
            f"Bror till {person.last_name}",
        ],
    }


def test_a_real_run_leaves_no_trace_of_a_due_person_in_any_table(settings):
    settings.GALLRING_RESEARCH_EXEMPTION = False
    person, texts = make_person(first_name="Zebulon", last_name="Qvarnströmsson")
    close(person)
    pk = person.pk
    everything_is_old()
    assert traces_of(texts)  # the scan finds the person before the run
    log_rows = AccessLogEntry.objects.filter(person_id=pk).count()

    out = io.StringIO()
    call_command("gallra", stdout=out)

    assert traces_of(texts) == []
    assert not Participant.objects.filter(pk=pk).exists()
    assert not Participant.history.filter(id=pk).exists()
    # The access log keeps its rows: they name the person by id only.
    assert AccessLogEntry.objects.filter(person_id=pk).count() == log_rows
    run = GallringRun.objects.get()
    assert (run.dry_run, run.persons_due, run.persons_culled) == (False, 1, 1)
    assert run.rows_deleted > 5
    assert "Zebulon" not in out.getvalue() and texts["personnummer"] not in out.getvalue()


def orphans_of_history_rows() -> dict[str, int]:
    """Rows that point at a history row that no longer exists (the snapshot
    tables of many-to-many history have no database constraint to refuse them)."""
    found = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            target = getattr(field, "related_model", None)
            if target is None or not target.__name__.startswith("Historical"):
                continue
            if model.__name__.startswith("Historical") and field.name == "history_relation":
                continue
            count = (
                model._base_manager.exclude(**{f"{field.attname}__isnull": True})
                .exclude(**{f"{field.attname}__in": target._base_manager.values("pk")})
                .count()
            )
            if count:
                found[f"{model._meta.label}.{field.name}"] = count
    return found


def test_everything_seeded_for_a_demo_person_is_culled(db, settings):
    """The demo data reaches every app (tenancies, visits, plans, ...), so
    culling one demo person proves the model graph finds all of their rows.

    The demo world is built here, not by the module-scoped ``world`` fixture:
    its imported cohort holds cases closed years ago, which would otherwise
    be due in every later test of this module."""
    from tests.world import build_world

    build_world()
    settings.GALLRING_RESEARCH_EXEMPTION = False
    assert orphans_of_history_rows() == {}
    person = Participant.objects.order_by("pk").first()
    assert person is not None, "seed_demo made no participants"
    person.first_name, person.last_name = "Ottiliana", "Zwartberg-Demo"
    person.save()
    close(person)
    everything_is_old()
    texts = {
        "personnummer": person.personnummer or "no-pnr-000",
        "first_name": "Ottiliana",
        "last_name": "Zwartberg-Demo",
        "free_texts": [],
    }
    # Mark every free text stored anywhere for this person (notes, descriptions,
    # journal) with a unique trace; saving also puts it in the history tables.
    from bostadforst.gallring import collect, graph

    ids = collect(Participant, {person.pk}, graph(Participant))
    for model, pks in ids.items():
        text_fields = [
            f.attname
            for f in model._meta.concrete_fields
            if f.get_internal_type() == "TextField" and f.editable
        ]
        if not text_fields:
            continue
        for row in model._base_manager.filter(pk__in=pks):
            markers = []
            for name in text_fields:
                markers.append(f"spår-{model._meta.model_name}-{row.pk}-{name}")
                setattr(row, name, f"{getattr(row, name)} {markers[-1]}")
            try:
                with transaction.atomic():
                    row.save()
            except Exception:  # e.g. a signed journal note refuses edits: fine
                continue
            texts["free_texts"].extend(markers)
    everything_is_old()
    assert len(texts["free_texts"]) >= 2
    assert traces_of(texts)
    # Backdated, the demo cohort's cases closed years ago are due as well.
    from bostadforst.gallring import plan

    due = plan().due
    assert person.pk in due
    ids = collect(Participant, set(due), graph(Participant))
    other_rows = {
        m._meta.label: m._base_manager.exclude(pk__in=ids.get(m, set())).count()
        for m in apps.get_models()
        if not m._meta.label.startswith(("bostadforst.", "sessions.", "axes."))
        and not m._meta.label.split(".")[1].startswith("Historical")
        and m not in {LogEntry}
    }

    call_command("gallra", stdout=io.StringIO())

    assert traces_of(texts) == []
    assert orphans_of_history_rows() == {}
    assert {
        m._meta.label: m._base_manager.exclude(pk__in=ids.get(m, set())).count()
        for m in apps.get_models()
        if m._meta.label in other_rows
    } == other_rows, "rows of people not due changed"


def test_a_dry_run_lists_who_is_due_and_changes_nothing(settings):
    settings.GALLRING_RESEARCH_EXEMPTION = False
    person, _texts = make_person(first_name="Ysolde", last_name="Dryrunsdotter")
    close(person)
    everything_is_old()
    before = {m._meta.label: m._base_manager.count() for m in apps.get_models()}
    out = io.StringIO()
    call_command("gallra", "--dry-run", stdout=out)
    after = {m._meta.label: m._base_manager.count() for m in apps.get_models()}
    assert after == before
    assert f"Due: 1 person(s) [{person.pk}]" in out.getvalue()
    assert "Dry run" in out.getvalue()
    assert "Ysolde" not in out.getvalue()


def test_an_imported_case_that_closed_long_ago_is_due(settings, unit_manager):
    """A case closed by the cohort import carries its closing day like any
    other: the dry run lists it and a real run culls it."""
    from reports.cohort import cohort_import

    settings.GALLRING_RESEARCH_EXEMPTION = False
    closed = timezone.localdate() - relativedelta(years=settings.GALLRING_YEARS, months=1)
    text = (
        "participant_id,move_in,move_out,exit_reason,landlord,contract_type,address\n"
        f"IMP-1,2009-03-01,{closed:%Y-%m-%d},evicted,Gavlegårdarna,social,Storgatan 1\n"
        "IMP-2,2009-03-01,,,Gavlegårdarna,social,Storgatan 2\n"
    )
    assert cohort_import(data=text.encode(), filename="c.csv", acting_user=unit_manager).committed
    person = Participant.objects.get(external_ref="IMP-1")
    everything_is_old()

    out = io.StringIO()
    call_command("gallra", "--dry-run", stdout=out)
    assert f"Due: 1 person(s) [{person.pk}]" in out.getvalue()
    assert not GallringRun.objects.exists()

    call_command("gallra", stdout=io.StringIO())
    assert not Participant.objects.filter(pk=person.pk).exists()
    assert Participant.objects.filter(external_ref="IMP-2").exists()
    run = GallringRun.objects.get()
    assert (run.persons_due, run.persons_culled) == (1, 1)


def test_a_case_closed_recently_or_with_a_later_entry_is_not_due(settings):
    settings.GALLRING_RESEARCH_EXEMPTION = False
    recent, _ = make_person(first_name="Recens", last_name="Nyligen")
    close(recent, years_ago=4)
    later, _ = make_person(first_name="Sentida", last_name="Anteckning")
    close(later)
    everything_is_old()
    ReferralFactory(participant=later)  # a new entry after the case was closed
    call_command("gallra", stdout=io.StringIO())
    assert Participant.objects.filter(pk__in=[recent.pk, later.pk]).count() == 2
    run = GallringRun.objects.get()
    assert run.persons_culled == 0


@pytest.mark.parametrize("day", [5, 15, 25])
def test_people_born_on_the_5th_15th_or_25th_are_kept_for_research(settings, day):
    settings.GALLRING_RESEARCH_EXEMPTION = True
    kept, _ = make_person(day=day, first_name="Forskning", last_name=f"Dag{day}")
    culled, _ = make_person(day=12, first_name="Vanlig", last_name="Dagtolv")
    close(kept)
    close(culled)
    everything_is_old()
    call_command("gallra", stdout=io.StringIO())
    assert Participant.objects.filter(pk=kept.pk).exists()
    assert not Participant.objects.filter(pk=culled.pk).exists()
    run = GallringRun.objects.get()
    assert (run.persons_exempted, run.persons_culled) == (1, 1)


def test_without_the_exemption_setting_research_days_are_culled(settings):
    settings.GALLRING_RESEARCH_EXEMPTION = False
    person, _ = make_person(day=15, first_name="Utan", last_name="Undantag")
    close(person)
    everything_is_old()
    call_command("gallra", stdout=io.StringIO())
    assert not Participant.objects.filter(pk=person.pk).exists()


def test_stored_report_figures_stay_intact(settings):
    settings.GALLRING_RESEARCH_EXEMPTION = False
    Report = apps.get_model("reports", "Report")
    figures = {"cohort": 19, "housed": 15, "deceased": 1, "lost": 3, "rate": 0.833}
    report = Report.objects.create(as_of=datetime.date(2013, 12, 31), figures=figures)
    person, _ = make_person(first_name="Rapport", last_name="Kohortsson")
    close(person)
    everything_is_old()
    call_command("gallra", stdout=io.StringIO())
    report.refresh_from_db()
    assert report.figures == figures


def test_the_monthly_schedule_is_off_by_default(settings):
    from bostadforst.tasks import gallra

    assert "gallring-monthly" not in settings.CELERY_BEAT_SCHEDULE
    assert gallra.run() == {"skipped": True}
