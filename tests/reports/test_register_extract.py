"""Register extracts (issue 15, GDPR art. 15 and C-579/21): the extract holds
a row of every model that points at the person (walked through the same
model graph culling uses, so a new model fails here until it is covered),
the access log of the person with role and (by setting) name, within the
chosen period; only a unit manager may order, follow and download it; making
and downloading it are logged; the PDF names the person."""

import datetime
import io
import uuid
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from pypdf import PdfReader

from bostadforst import gallring
from bostadforst.mixins import TOKEN_FIELD
from bostadforst.models import AccessLogEntry
from bostadforst.roles import Role
from participants.models import (
    Answer,
    Criterion,
    EligibilityAssessment,
    ReferralEvent,
    TargetGroup,
)
from reports import extract
from reports.models import RegisterExtract
from support.models import GoalAction
from tests.factories import UserFactory
from tests.participants.factories import ParticipantFactory
from tests.test_factories import factories_by_model

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_progress_beats(monkeypatch):
    """The job's heartbeat writes through a connection of its own, which does
    not see the test's uncommitted rows: beating would find the job gone."""
    monkeypatch.setattr(extract, "PROGRESS_INTERVAL", 3600)


# --- One row of every model that points at the person -------------------------------


def _goal_action(made, **kwargs):
    from participants.models import NetworkContact
    from support.models import Goal

    kwargs.setdefault("goal", made[Goal][0])
    kwargs.setdefault("partner", made[NetworkContact][0])
    return GoalAction.objects.create(
        who=GoalAction.Who.PARTNER, what="Ringa hyresvärden varje månad", **kwargs
    )


# Models without a factory of their own: how a test makes one row pointing
# at ``parent`` through the named field. A model with a factory in
# tests/<app>/factories.py needs nothing here.
BUILDERS = {
    "participants.ReferralEvent": lambda made, **kw: ReferralEvent.objects.create(
        kind=ReferralEvent.Kind.INFORMATION,
        note="Samtal om boendet",
        created_by=made["user"],
        **kw,
    ),
    "participants.EligibilityAssessment": lambda made, **kw: EligibilityAssessment.objects.create(
        criterion=Criterion.HOMELESS, answer=Answer.MET, assessor=made["user"], **kw
    ),
    "support.GoalAction": _goal_action,
    "reports.RegisterExtract": lambda made, **kw: RegisterExtract.objects.create(
        ordered_by=made["user"], **kw
    ),
}


def _m2m_field(through):
    for model in (through._meta.auto_created,):
        for f in model._meta.many_to_many:
            if f.remote_field.through is through:
                return model, f
    raise LookupError(through)


def _add_join_row(made, through, edge, parent) -> None:
    """A row of a many-to-many join table, through its field on the owning row."""
    owner, f = _m2m_field(through)
    target = f.related_model
    owner_row = parent if edge.parent is owner else made[owner][0]
    if target in made:
        item = made[target][0]
    elif target is TargetGroup:
        item = TargetGroup.objects.order_by("pk").first()
    else:
        item = made["user"]
    getattr(owner_row, f.name).add(item)


def person_with_everything():
    """A person with one row of each model that points at them (and at their
    rows), made by walking ``gallring.graph``; the rows made, by model."""
    person_model = gallring.person_model()
    user = UserFactory(first_name="Sara", last_name="Skrivare", role=Role.SUPPORT_STAFF)
    person = ParticipantFactory(first_name="Ingrid", last_name="Utdragsson")
    made = {"user": user, person_model: [person]}
    factories = {model: next(iter(fs)) for model, fs in factories_by_model().items()}
    edges = gallring.graph(person_model)
    for edge in edges:
        if edge.model._meta.auto_created:
            continue  # join rows last: both of their sides must exist
        parent = made[edge.parent][0]
        if edge.model is edge.parent:  # a row pointing at another of its kind
            made[edge.model].append(_make(edge.model, factories, made, **{edge.field.name: parent}))
            continue
        rows = made.setdefault(edge.model, [])
        if any(getattr(r, edge.field.attname) == parent.pk for r in rows):
            continue
        rows.append(_make(edge.model, factories, made, **{edge.field.name: parent}))
    for edge in edges:
        if edge.model._meta.auto_created:
            _add_join_row(made, edge.model, edge, made[edge.parent][0])
    return person, made


def _make(model, factories, made, **kwargs):
    label = model._meta.label
    if label in BUILDERS:
        return BUILDERS[label](made, **kwargs)
    if model in factories:
        if model is not gallring.person_model():
            # A row of the person's, not of a new person the factory would make.
            for f in model._meta.concrete_fields:
                if f.is_relation and f.related_model is gallring.person_model():
                    kwargs.setdefault(f.name, made[gallring.person_model()][0])
        return factories[model](**kwargs)
    raise AssertionError(
        f"{label} points at the person: add a factory in tests/"
        f"{model._meta.app_label}/factories.py or a builder in BUILDERS, and check that "
        "the register extract shows it"
    )


def section_titles_expected():
    """What the extract must show for each model of the graph: its plural
    name, or for a join table the many-to-many field's name."""
    expected = {}
    for edge in gallring.graph(gallring.person_model()):
        if edge.model._meta.auto_created:
            _owner, f = _m2m_field(edge.model)
            expected[edge.model._meta.label] = capfirst(str(f.verbose_name))
        else:
            expected[edge.model._meta.label] = capfirst(str(edge.model._meta.verbose_name_plural))
    return expected


def test_the_extract_has_a_row_of_every_model_that_points_at_the_person():
    person, made = person_with_everything()

    data = extract.extract_collect(person_id=person.pk)
    html = unescape(extract.extract_html(data))

    graph_models = {e.model for e in gallring.graph(gallring.person_model())}
    own = {m for m in graph_models if not m._meta.auto_created}
    assert own <= data.shown_models
    for section in data.sections:
        assert section.rows, section.title
    for label, title in section_titles_expected().items():
        assert title in html, (label, title)
    # Fields by their labels, choices by their labels, dates as 2026-11-23.
    assert "Ingrid Utdragsson" in html
    assert person.personnummer_display in html
    assert "Samtal om boendet" in html
    assert str(Criterion.HOMELESS.label) in html
    assert timezone.localdate().isoformat() in html
    assert "Sara Skrivare" in html  # the staff named in the person's records


def test_a_deleted_row_kept_in_history_is_in_the_extract_marked_deleted():
    from tests.participants.factories import NetworkContactFactory

    person = ParticipantFactory()
    contact = NetworkContactFactory(participant=person, name="Bengt Borttagen")
    contact.delete()

    data = extract.extract_collect(person_id=person.pk)

    (section,) = [s for s in data.sections if s.model._meta.label == "participants.NetworkContact"]
    (row,) = section.rows
    assert row.deleted
    assert ("Namn", "Bengt Borttagen") in row.fields
    assert "borttagen; finns kvar i ändringshistoriken" in extract.extract_html(data)


def test_another_persons_rows_are_not_in_the_extract():
    person = ParticipantFactory(first_name="Alma")
    ParticipantFactory(first_name="Olof", last_name="Annansson")
    from tests.participants.factories import ReferralFactory

    ReferralFactory(description="Inte Almas remiss")

    html = extract.extract_html(extract.extract_collect(person_id=person.pk))

    assert "Annansson" not in html and "Inte Almas remiss" not in html


# --- The access log ----------------------------------------------------------------


def _log(person, user, *, at, action=AccessLogEntry.Action.READ, model="participants.Participant"):
    entry = AccessLogEntry(
        at=at,
        user=user,
        username=user.username,
        role=user.role,
        action=action,
        model=model,
        object_id=str(person.pk),
        person_id=person.pk,
        view_name="participants:participant-detail",
    )
    entry.save()
    return entry


def _at(day: str, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(hour, 5))
    )


def test_the_access_log_extract_gives_time_role_name_and_what_was_read(settings):
    settings.REGISTER_EXTRACT_NAMES_STAFF = True
    person = ParticipantFactory()
    reader = UserFactory(first_name="Lena", last_name="Läsare", role=Role.SUPPORT_STAFF)
    _log(person, reader, at=_at("2026-03-04", 9))

    data = extract.extract_collect(person_id=person.pk)
    line = next(line for line in data.log if line.at == "2026-03-04 09:05")
    html = unescape(extract.extract_html(data))

    assert line.name == "Lena Läsare"
    assert line.role == str(Role.SUPPORT_STAFF.label) == "Boendestödjare"
    assert line.record == "Deltagare"
    assert line.page == "participants:participant-detail"
    assert "Lena Läsare" in html and "2026-03-04 09:05" in html


def test_without_the_name_setting_the_access_log_gives_the_role_only(settings):
    settings.REGISTER_EXTRACT_NAMES_STAFF = False
    person = ParticipantFactory()
    reader = UserFactory(first_name="Lena", last_name="Läsare", role=Role.SUPPORT_STAFF)
    _log(person, reader, at=_at("2026-03-04"))

    data = extract.extract_collect(person_id=person.pk)
    html = unescape(extract.extract_html(data))

    assert data.log and all(line.name == "" for line in data.log)
    assert "Läsare" not in html and reader.username not in html
    assert "2026-03-04 12:05" in html


def test_the_period_limits_the_access_log_both_days_included():
    person = ParticipantFactory()
    reader = UserFactory(role=Role.SUPPORT_STAFF)
    for day in ("2026-01-31", "2026-02-01", "2026-02-28", "2026-03-01"):
        _log(person, reader, at=_at(day, 23))
    _log(person, reader, at=_at("2026-02-01", 0))

    lines = extract.extract_log(
        person_id=person.pk,
        period_from=datetime.date(2026, 2, 1),
        period_to=datetime.date(2026, 2, 28),
    )

    assert [line.at for line in lines] == [
        "2026-02-01 00:05",
        "2026-02-01 23:05",
        "2026-02-28 23:05",
    ]


def test_another_persons_access_log_is_not_in_the_extract():
    person, other = ParticipantFactory(), ParticipantFactory()
    reader = UserFactory(role=Role.SUPPORT_STAFF)
    _log(other, reader, at=_at("2026-01-01"))

    assert not [
        line
        for line in extract.extract_log(person_id=person.pk)
        if line.at.startswith("2026-01-01")
    ]


# --- Ordering, the job, the download ----------------------------------------------


def order(client, person, **data):
    return client.post(
        reverse("reports:register-extract-start", kwargs={"pk": person.pk}),
        {TOKEN_FIELD: str(uuid.uuid4()), **data},
    )


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_unit_manager_orders_an_extract_and_downloads_the_pdf(
    um_client, unit_manager, django_capture_on_commit_callbacks
):
    person = ParticipantFactory(first_name="Greta", last_name="Registersson")
    start = reverse("reports:register-extract-start", kwargs={"pk": person.pk})
    assert um_client.get(start).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = order(um_client, person, period_from="2026-01-01", period_to="")
    job = RegisterExtract.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    job.refresh_from_db()
    assert job.state == RegisterExtract.State.DONE, job.error
    assert (job.participant, job.ordered_by) == (person, unit_manager)
    assert job.period_from == datetime.date(2026, 1, 1) and job.period_to is None

    made = AccessLogEntry.objects.filter(
        action=AccessLogEntry.Action.EXPORT, model="reports.RegisterExtract", person_id=person.pk
    )
    assert made.count() == 1 and made.get().user == unit_manager

    status = um_client.get(reverse("reports:register-extract-status", kwargs={"pk": job.pk}))
    assert status.json()["finished"] and status.json()["pdf_url"]
    assert "Registersson" not in status.content.decode()
    page = um_client.get(job.get_absolute_url())
    assert page.status_code == 200
    assert reverse("reports:register-extract-pdf", kwargs={"pk": job.pk}) in page.content.decode()

    download = um_client.get(reverse("reports:register-extract-pdf", kwargs={"pk": job.pk}))
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    assert data.startswith(b"%PDF")
    assert "Greta Registersson" in pdf_text(data)
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata.title.startswith("Registerutdrag: Greta Registersson")
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged, like every PDF here
    assert person.personnummer not in download["Content-Disposition"]
    assert made.count() == 2  # the download is logged as well


def test_the_start_page_is_linked_from_the_participant_page_for_the_manager_only(
    um_client, ss_client
):
    person = ParticipantFactory()
    link = reverse("reports:register-extract-start", kwargs={"pk": person.pk})
    page = reverse("participants:participant-detail", kwargs={"pk": person.pk})

    assert link in um_client.get(page).content.decode()
    assert link not in ss_client.get(page).content.decode()


@pytest.mark.parametrize("role", [Role.SUPPORT_STAFF, Role.SOCIAL_WORKER, Role.ADMINISTRATOR])
def test_only_the_unit_manager_may_order_follow_or_download(role, role_users, client_for):
    person = ParticipantFactory()
    job = RegisterExtract.objects.create(participant=person, state=RegisterExtract.State.DONE)
    client = client_for(role_users[role])

    assert (
        client.get(reverse("reports:register-extract-start", kwargs={"pk": person.pk})).status_code
        == 403
    )
    assert order(client, person).status_code == 403
    for name in ("register-extract-detail", "register-extract-status", "register-extract-pdf"):
        assert client.get(reverse(f"reports:{name}", kwargs={"pk": job.pk})).status_code == 403
    assert not RegisterExtract.objects.exclude(pk=job.pk).exists()


def test_a_period_that_ends_before_it_starts_is_refused_with_a_message(um_client):
    person = ParticipantFactory()

    response = order(um_client, person, period_from="2026-03-01", period_to="2026-02-01")

    assert response.status_code == 400
    assert "Periodens början kan inte vara efter dess slut." in unescape(response.content.decode())
    assert not RegisterExtract.objects.exists()


def test_an_unfinished_extract_has_nothing_to_download(um_client):
    job = RegisterExtract.objects.create(participant=ParticipantFactory())

    response = um_client.get(reverse("reports:register-extract-pdf", kwargs={"pk": job.pk}))

    assert response.status_code == 404
    assert not AccessLogEntry.objects.filter(model="reports.RegisterExtract").exists()


def test_the_task_is_given_the_jobs_id_only(
    unit_manager, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(extract.EXTRACT_JOBS, "send", lambda pk: sent.append(pk) or True)
    person = ParticipantFactory()

    with django_capture_on_commit_callbacks(execute=True):
        job = extract.register_extract_order(participant=person, acting_user=unit_manager)

    assert sent == [job.pk]
    assert extract.register_extract_run(extract_id=job.pk) == RegisterExtract.State.DONE
    # Run again (a redelivered message): nothing happens twice.
    assert extract.register_extract_run(extract_id=job.pk) == RegisterExtract.State.DONE
    assert AccessLogEntry.objects.filter(model="reports.RegisterExtract").count() == 1


def test_the_extract_of_a_protected_person_is_marked_at_the_top():
    person = ParticipantFactory(identity_protection="protected")

    html = unescape(extract.extract_html(extract.extract_collect(person_id=person.pk)))

    assert "Skyddad identitet" in html.split("<h1>")[0]
