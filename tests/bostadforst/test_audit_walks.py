"""Walking tests over the whole project: every page that shows a person's
record logs the read, every case model keeps history and refuses stale saves,
and no ModelForm takes fields it did not list.

Models, routes and forms are found from the app registry and the resolver, so
a model, page or form added later is covered without touching this file.
"""

import importlib
import inspect
import re

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.db.models import Model
from django.urls import reverse
from simple_history.models import HistoricalChanges

from bostadforst.models import AccessLogEntry, CaseModel, StaleObjectError
from bostadforst.permissions import ACCESS_TABLE
from bostadforst.records import RecordMixin
from bostadforst.roles import Role
from participants.models import Participant

from ..urlwalk import project_routes
from ..world import local_apps

pytestmark = pytest.mark.django_db

CASE_APPS = ("participants", "housing", "support")

# Models of the case apps that hold no case data and so need no history. Each
# entry needs a reason; anything else without history fails the walk below.
NOT_CASE_DATA = {
    "participants.TargetGroup": "six fixed reference rows created by a migration, never edited",
}


def case_app_models() -> list[type[Model]]:
    return [
        m
        for label in CASE_APPS
        if label in {a.label for a in apps.get_app_configs()}
        for m in apps.get_app_config(label).get_models()
        if not issubclass(m, HistoricalChanges)
    ]


def person_models() -> list[type[CaseModel]]:
    return [m for m in apps.get_models() if issubclass(m, CaseModel) and m.participant_path]


# --- 2. Every page that shows a person's record logs the read ------------------


def person_records_in(context) -> list[CaseModel]:
    """Case-model instances showing a person that the page's own template
    was given (the first context rendered; partials rendered inside loops show
    rows of lists, which are not reads of one record)."""
    found = []
    if context is None:
        return found
    layers = context if isinstance(context, list) else [context]
    for layer in layers[:1]:
        flat = layer.flatten() if hasattr(layer, "flatten") else layer
        for value in flat.values():
            if isinstance(value, CaseModel) and value.pk and value.person_ids():
                found.append(value)
    return found


def record_routes():
    return [
        r
        for r in project_routes()
        if r.converters and r.name in ACCESS_TABLE and not r.name.startswith("bostadforst:")
    ]


def new_reads(user, seen_before: set[int]) -> set[int]:
    return set(
        AccessLogEntry.objects.filter(user=user, action=AccessLogEntry.Action.READ)
        .exclude(pk__in=seen_before)
        .values_list("person_id", flat=True)
    )


def read_ids(user) -> set[int]:
    return set(
        AccessLogEntry.objects.filter(user=user, action=AccessLogEntry.Action.READ).values_list(
            "pk", flat=True
        )
    )


OUTSIDE_FORMS = re.compile(r"<form\b.*?</form>", re.S)


def people_named_in(html: str) -> set[int]:
    """The participants whose full name the page shows outside its forms (a
    form's pick list offers names; it does not show a person's record)."""
    text = OUTSIDE_FORMS.sub("", html)
    return {
        pk
        for pk, first, last in Participant.objects.values_list("pk", "first_name", "last_name")
        if first and last and f"{first} {last}" in text
    }


@pytest.mark.parametrize("route", record_routes(), ids=lambda r: r.name)
def test_every_page_showing_a_persons_record_logs_the_read(world, route):
    url = reverse(route.name, kwargs=world.url_kwargs(route))
    for role in sorted(ACCESS_TABLE[route.name]):
        user = world.user(role)
        client = world.client(user)
        seen_before = read_ids(user)
        response = client.get(url)
        if response.status_code != 200:
            continue
        logged = new_reads(user, seen_before)
        for record in person_records_in(response.context):
            missing = record.person_ids() - logged
            assert not missing, (
                f"{route.name} showed {record._meta.label} #{record.pk} to {role} without "
                f"logging a read of persons {missing}: fetch it with bostadforst.records"
            )
        if not response["Content-Type"].startswith("text/html"):
            continue
        named = people_named_in(response.content.decode())
        assert named <= logged, (
            f"{route.name} named persons {named - logged} to {role} without logging a read"
        )


def test_the_walk_recognises_pages_that_show_a_persons_record(world):
    """The walk above only proves something if it sees records on pages,
    also records that show several people (an apartment, an activity)."""
    seen = set()
    for route in record_routes():
        role = sorted(ACCESS_TABLE[route.name])[0]
        try:
            url = reverse(route.name, kwargs=world.url_kwargs(route))
        except LookupError:
            continue
        response = world.client(role).get(url)
        if response.status_code == 200 and person_records_in(response.context):
            seen.add(route.name)
    assert len(seen) >= 3, seen
    assert {"housing:apartment-detail", "support:activity-detail"} <= seen, seen


@pytest.mark.parametrize(
    "route",
    [r for r in project_routes() if not r.converters and r.name in ACCESS_TABLE],
    ids=lambda r: r.name,
)
def test_a_page_prefilled_for_a_person_logs_a_read_of_the_person(world, route):
    """``?participant=<id>`` on any page: when the page then preselects the
    person or names them more often than without it, it used the person's
    data and must log the read."""
    person = Participant.objects.filter(status="housed").order_by("pk").first()
    name = f"{person.first_name} {person.last_name}"
    selected = re.compile(rf'value="{person.pk}"[^>]*\bselected')
    for role in sorted(ACCESS_TABLE[route.name]):
        user = world.user(role)
        client = world.client(user)
        plain = client.get(reverse(route.name))
        seen_before = read_ids(user)
        prefilled = client.get(reverse(route.name), {"participant": person.pk})
        if prefilled.status_code != 200 or not prefilled["Content-Type"].startswith("text/html"):
            continue
        html, plain_html = prefilled.content.decode(), plain.content.decode()
        # Compared with the page without the parameter: another field may
        # preselect an option whose id happens to be the person's (the
        # referral form's default referring unit).
        uses_person = len(selected.findall(html)) > len(selected.findall(plain_html)) or (
            html.count(name) > plain_html.count(name)
        )
        if uses_person:
            assert person.pk in new_reads(user, seen_before), (
                f"{route.name}?participant= shows {role} the person without logging a read"
            )


def test_views_of_one_record_go_through_the_read_path():
    """A static backstop for views the demo data does not reach: every view
    of a route with an id in its URL fetches through bostadforst.records."""
    offenders = []
    for route in record_routes():
        view_class = getattr(route.callback, "view_class", None)
        if view_class is None or route.name.split(":")[0] not in CASE_APPS:
            continue
        sources = [
            inspect.getsource(k)
            for k in view_class.__mro__
            if k.__module__.split(".")[0] in CASE_APPS
        ]
        if issubclass(view_class, RecordMixin) or any("record_get(" in s for s in sources):
            continue
        offenders.append(route.name)
    assert not offenders, f"Views of one record outside the read path: {offenders}"


def test_no_view_logs_or_fetches_case_records_by_hand():
    """Views never call the access log, get_object_or_404 or save() on a case
    record themselves (STYLE.md, "One read path, one write path")."""
    forbidden = re.compile(r"\b(log_access|log_read|get_object_or_404)\(|\.save\(\)")
    offenders = []
    for app in CASE_APPS:
        path = settings.BASE_DIR / app / "views.py"
        if path.exists() and forbidden.search(path.read_text()):
            offenders.append(str(path.relative_to(settings.BASE_DIR)))
    assert not offenders, offenders


# --- 3. Change history on every case model --------------------------------------


def test_every_model_of_the_case_apps_keeps_change_history():
    missing = [
        m._meta.label
        for m in case_app_models()
        if m._meta.label not in NOT_CASE_DATA and not hasattr(m, "history")
    ]
    assert not missing, f"Case models without django-simple-history: {missing}"


def test_every_model_of_the_case_apps_is_a_case_model():
    outside = [
        m._meta.label
        for m in case_app_models()
        if m._meta.label not in NOT_CASE_DATA
        and not m._meta.auto_created
        and not issubclass(m, CaseModel)
    ]
    assert not outside, f"Models that do not subclass bostadforst.models.CaseModel: {outside}"


def test_every_case_model_names_its_person_or_declares_it_has_none():
    for model in [m for m in apps.get_models() if issubclass(m, CaseModel)]:
        path = model.participant_path
        if path in (None, "self"):
            continue
        model._meta.get_field(path.split("__")[0])  # raises for a wrong path


# --- 4. No lost updates on every case model ---------------------------------------


def test_every_case_model_has_the_version_field():
    for model in [m for m in apps.get_models() if issubclass(m, CaseModel)]:
        field = model._meta.get_field("version")
        assert not field.editable, model._meta.label
        assert model.save is CaseModel.save or "super().save" in inspect.getsource(model.save), (
            f"{model._meta.label}.save does not go through CaseModel.save"
        )


def test_every_case_model_with_demo_rows_refuses_a_stale_save(world):
    checked = []
    for model in [m for m in apps.get_models() if issubclass(m, CaseModel)]:
        row = model._base_manager.order_by("pk").first()
        if row is None:
            continue
        mine = model._base_manager.get(pk=row.pk)
        theirs = model._base_manager.get(pk=row.pk)
        theirs.save()
        with pytest.raises(StaleObjectError):
            mine.save()
        mine.refresh_from_db()
        assert mine.version == theirs.version
        checked.append(model._meta.label)
    assert checked, "seed_demo made no case rows at all"


# --- 6. No ModelForm takes fields it did not list ----------------------------------


def project_forms() -> set[type[forms.BaseForm]]:
    found: set[type] = set()
    for app in local_apps():
        for module_name in (f"{app}.forms", f"{app}.views", f"{app}.admin"):
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            for _name, value in vars(module).items():
                if (
                    inspect.isclass(value)
                    and issubclass(value, forms.BaseForm)
                    and value.__module__.split(".")[0] in local_apps()
                ):
                    found.add(value)
    for route in project_routes():
        view_class = getattr(route.callback, "view_class", None)
        form_class = getattr(view_class, "form_class", None)
        if form_class is not None:
            found.add(form_class)
    return found


def test_no_model_form_uses_all_fields_or_exclude():
    offenders = []
    for form_class in project_forms():
        meta = getattr(form_class, "Meta", None)
        if meta is None or not issubclass(form_class, forms.BaseModelForm):
            continue
        if getattr(meta, "fields", None) == "__all__" or getattr(meta, "exclude", None):
            offenders.append(f"{form_class.__module__}.{form_class.__qualname__}")
    assert not offenders, f"ModelForms with fields='__all__' or exclude: {offenders}"


def test_the_form_walk_finds_the_projects_forms():
    names = {f.__name__ for f in project_forms()}
    assert "AccessLogFilterForm" in names
    assert len(names) > 1


def test_settings_list_every_local_app():
    assert set(local_apps()) >= {"bostadforst"} and all(
        app in settings.INSTALLED_APPS for app in local_apps()
    )


@pytest.mark.parametrize("role", list(Role))
def test_world_has_a_demo_user_per_role(world, role):
    assert world.user(role).role == role
