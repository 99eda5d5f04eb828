"""Every model on the admin site, walked: its list, add and change pages answer,
a valid form saves, and a stale save of a case record is refused.

The models come from ``admin.site._registry``, so a model registered later is
walked without touching this test. Each page is opened by whoever may use it:
the administrator role where its model permissions reach (users and reference
data, per ``ROLE_MODEL_PERMISSIONS``), a superuser elsewhere. A change page is
posted back exactly as the browser would post what it rendered; an add page
needs valid values, given in ``ADMIN_ADD_SAMPLES`` below, and a model the demo
world has no row of and the admin cannot add gets one from ``ADMIN_ROWS``.
"""

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.contrib.messages import get_messages
from django.db import models
from django.forms import CheckboxInput, FileInput, MultiWidget
from django.forms.widgets import ChoiceWidget
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from bostadforst.admin_base import CaseModelAdmin
from bostadforst.models import AccessLogEntry, CaseModel, GallringRun, RoleGrant, User
from bostadforst.versioning import STALE_MESSAGE
from fidelity.models import Domain
from housing.models import Landlord
from participants.models import Criterion, EligibilityAssessment, Participant, Referral

from ..factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTRY: dict[str, admin.ModelAdmin] = {
    model._meta.label: model_admin for model, model_admin in admin.site._registry.items()
}

# What the admin lets anyone do at all, asked at collection time (a superuser's
# permission checks need no database).
_ANYONE = User(username="walk-anyone", is_superuser=True, is_active=True, is_staff=True)


def _unassessed(world) -> dict[str, Any]:
    """A referral and a criterion it has no assessment of yet (one per pair)."""
    done = set(EligibilityAssessment.objects.values_list("referral_id", "criterion"))
    for referral_id in Referral.objects.order_by("pk").values_list("pk", flat=True):
        for criterion in Criterion.values:
            if (referral_id, criterion) not in done:
                return {"referral": referral_id, "criterion": criterion, "answer": "met"}
    raise LookupError("every referral of the demo world has every criterion assessed")


# What the add page of each model with an add permission needs on top of the
# values its form renders: "app_label.ModelName" -> lambda world: {field: value}.
ADMIN_ADD_SAMPLES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "auth.Group": lambda world: {"name": "Walk group"},
    "bostadforst.User": lambda world: {
        "username": "walk-new-user",
        "usable_password": "true",
        "password1": TEST_PASSWORD,
        "password2": TEST_PASSWORD,
    },
    "otp_totp.TOTPDevice": lambda world: {"user": world.administrator, "name": "Walk phone"},
    "otp_static.StaticDevice": lambda world: {"user": world.administrator, "name": "Walk codes"},
    "participants.Participant": lambda world: {
        "first_name": "Ada",
        "last_name": "Walker",
        "personnummer": "19811218-9876",
    },
    "participants.Referral": lambda world: {
        "participant": Participant.objects.order_by("pk").first(),
        "referred_by": world.social_worker,
        "referral_date": "2024-03-01",
        "housing_situation": "acute",
        "support_need": "both",
    },
    "participants.ReferralEvent": lambda world: {
        "referral": Referral.objects.order_by("pk").first(),
        "kind": "information",
        "occurred_on": "2024-03-01",
        "note": "Added in the admin",
    },
    "participants.EligibilityAssessment": _unassessed,
    "participants.NetworkContact": lambda world: {
        "participant": Participant.objects.order_by("pk").first(),
        "name": "Walk Contact",
        "relation": "family",
    },
    "housing.Landlord": lambda world: {"name": "Walk Bostäder AB"},
    "housing.Provider": lambda world: {"name": "Walk-utföraren", "kind": "iop_partner"},
    "participants.ReferringUnit": lambda world: {"name": "Walk-stadsdelen", "kind": "district"},
    "housing.Apartment": lambda world: {
        "landlord": Landlord.objects.order_by("pk").first(),
        "address": "Gångvägen 1",
    },
    "support.CrisisPlace": lambda world: {"name": "Walk jourplats", "capacity": "3"},
    "fidelity.Domain": lambda world: {"name": "Walk-område", "order": "90"},
    "fidelity.Item": lambda world: {
        "domain": Domain.objects.order_by("pk").first(),
        "text": "Walk-påstående",
        "order": "1",
        "scale_min": "1",
        "scale_max": "4",
        "is_active": "on",
    },
}


_AXES_REQUEST = {
    "username": "walk-user",
    "ip_address": "192.0.2.10",
    "user_agent": "Walk/1.0",
    "http_accept": "text/html",
    "path_info": "/konto/logga-in/",
}

# A row for the change page of models the demo world has none of and the admin
# cannot add (models it can add get theirs from ADMIN_ADD_SAMPLES, through the
# add page): "app_label.ModelName" -> lambda world: the new row.
ADMIN_ROWS: dict[str, Callable[[Any], models.Model]] = {
    "axes.AccessAttempt": lambda world: AccessAttempt.objects.create(
        **_AXES_REQUEST, get_data="", post_data="username=walk-user", failures_since_start=1
    ),
    "axes.AccessLog": lambda world: AccessLog.objects.create(**_AXES_REQUEST),
    "axes.AccessFailureLog": lambda world: AccessFailureLog.objects.create(**_AXES_REQUEST),
    "bostadforst.GallringRun": lambda world: GallringRun.objects.create(persons_due=2),
    "bostadforst.RoleGrant": lambda world: RoleGrant.objects.create(
        user=world.administrator,
        username=world.administrator.username,
        grant="administrator",
        granted=True,
        reason="Walk",
        by="walk",
    ),
}


@pytest.fixture
def superuser(db):
    return UserFactory(username="walk-superuser", is_superuser=True, is_staff=True)


def _may(model_admin, user, check: str, obj=None) -> bool:
    request = RequestFactory().get("/")
    request.user = user
    if check == "add":
        return model_admin.has_add_permission(request)
    if check == "change":
        return model_admin.has_change_permission(request, obj)
    return model_admin.has_view_or_change_permission(request, obj)


def _user_for(world, superuser, model_admin, check: str, obj=None):
    """The administrator where the admin lets that role in, else the superuser."""
    if _may(model_admin, world.administrator, check, obj):
        return world.administrator
    return superuser


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _row(world, superuser, label: str):
    """A row of ``label`` as the admin lists it: the demo world's first, else a
    new one from ``ADMIN_ROWS`` or, failing that, the add page's sample."""
    model_admin = REGISTRY[label]
    request = RequestFactory().get("/")
    request.user = superuser
    queryset = model_admin.get_queryset(request).order_by("pk")
    if not queryset.exists():
        if label in ADMIN_ROWS:
            ADMIN_ROWS[label](world)
        elif label in ADMIN_ADD_SAMPLES:
            response = _add(world.client(superuser), world, label)
            assert response.status_code == 302, (label, _errors(response))
        else:
            pytest.fail(
                f"The demo world has no {label} row and the admin cannot add one: give "
                f'ADMIN_ROWS["{label}"] in tests/bostadforst/test_admin_walk.py'
            )
    return queryset.first()


def _add(client, world, label: str):
    """Open the add page of ``label`` and post it with its sample values."""
    url = _url(REGISTRY[label].model, "add")
    page = client.get(url)
    assert page.status_code == 200, (label, page.status_code)
    if label not in ADMIN_ADD_SAMPLES:
        pytest.fail(
            f"{label} may be added in the admin but tests/bostadforst/test_admin_walk.py has no "
            f'ADMIN_ADD_SAMPLES["{label}"]: add a lambda world: {{field: value}} with valid values'
        )
    data = rendered_post(page)
    data.update({k: _posted(v) for k, v in ADMIN_ADD_SAMPLES[label](world).items()})
    return client.post(url, data)


# --- What a browser posts ------------------------------------------------------------


def _widget_data(widget, name: str, value) -> dict[str, Any]:
    """What ``widget`` posts when the page rendered it with ``value``."""
    while isinstance(widget, RelatedFieldWidgetWrapper):
        widget = widget.widget
    if isinstance(widget, FileInput):
        return {}
    if isinstance(widget, MultiWidget):
        parts = value if isinstance(value, (list, tuple)) else widget.decompress(value)
        data = {}
        for suffix, sub, part in zip(widget.widgets_names, widget.widgets, parts, strict=True):
            data.update(_widget_data(sub, name + suffix, part))
        return data
    if isinstance(widget, CheckboxInput):
        return {name: "on"} if widget.check_test(value) else {}
    formatted = widget.format_value(value)
    if isinstance(widget, ChoiceWidget) and isinstance(formatted, list):
        if widget.allow_multiple_selected:
            return {name: formatted}
        return {name: formatted[0] if formatted else ""}
    return {name: "" if formatted is None else formatted}


def _form_data(form) -> dict[str, Any]:
    data = {}
    with translation.override(settings.LANGUAGE_CODE):
        for name in form.fields:
            bound = form[name]
            if bound.field.disabled:
                continue  # not posted: the form keeps its initial value
            data.update(_widget_data(bound.field.widget, bound.html_name, bound.value()))
    return data


def rendered_post(response) -> dict[str, Any]:
    """The POST of the admin page in ``response`` submitted as rendered: the
    main form with its hidden version, and every inline formset."""
    data = _form_data(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        data.update(_form_data(inline.formset.management_form))
        for form in inline.formset.forms:
            data.update(_form_data(form))
    return data


def _posted(value):
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_posted(v) for v in value]
    return value


def _errors(response) -> str:
    if response.status_code != 200 or not response.context:
        return f"status {response.status_code}"
    adminform = response.context.get("adminform")
    errors = [adminform.form.errors.as_data()] if adminform else []
    errors += [
        form.errors
        for inline in response.context.get("inline_admin_formsets", [])
        for form in inline.formset.forms
        if form.errors
    ]
    return f"the form was refused: {errors}"


# --- The walk ------------------------------------------------------------------------


def _params(check: str | None = None, *, case_models_only: bool = False):
    """The registered models, by label; with ``check``, those the admin allows
    it for at all."""
    return [
        pytest.param(label, id=label)
        for label, model_admin in sorted(REGISTRY.items())
        if (check is None or _may(model_admin, _ANYONE, check))
        and (not case_models_only or issubclass(model_admin.model, CaseModel))
    ]


def _model(label: str):
    model_admin = REGISTRY[label]
    return model_admin.model, model_admin


def _values(obj) -> dict[str, Any]:
    """The row's stored values but the ones every save moves on, to the second
    (the admin's date and time inputs show no fractions of a second)."""
    values = {}
    for f in obj._meta.concrete_fields:
        if f.attname in {"version", "updated_at"}:
            continue
        value = getattr(obj, f.attname)
        if isinstance(value, datetime.datetime):
            value = value.replace(microsecond=0)
        values[f.attname] = value
    return values


@pytest.mark.parametrize("label", _params())
def test_the_changelist_answers(world, db, superuser, label):
    model, model_admin = _model(label)
    user = _user_for(world, superuser, model_admin, "view")
    response = world.client(user).get(_url(model, "changelist"))
    assert response.status_code == 200, (label, user.username, response.status_code)


@pytest.mark.parametrize("label", _params("add"))
def test_the_add_page_answers_and_a_valid_form_adds_one_row(world, db, superuser, label):
    model, model_admin = _model(label)
    user = _user_for(world, superuser, model_admin, "add")
    before = model._default_manager.count()

    response = _add(world.client(user), world, label)

    assert response.status_code == 302, (label, user.username, _errors(response))
    assert model._default_manager.count() == before + 1


@pytest.mark.parametrize("label", _params())
def test_the_change_page_answers_and_saves_what_it_rendered(world, db, superuser, label):
    model, model_admin = _model(label)
    obj = _row(world, superuser, label)
    editable = _may(model_admin, superuser, "change", obj)
    user = _user_for(world, superuser, model_admin, "change" if editable else "view", obj)
    client = world.client(user)
    url = _url(model, "change", obj.pk)

    page = client.get(url)
    assert page.status_code == 200, (label, user.username, page.status_code)
    if not editable:
        # Read-only in the admin: shown, never saved.
        assert client.post(url, rendered_post(page)).status_code == 403, label
        assert _values(model._base_manager.get(pk=obj.pk)) == _values(obj), label
        return

    response = client.post(url, rendered_post(page))

    assert response.status_code == 302, (label, user.username, _errors(response))
    after = model._base_manager.get(pk=obj.pk)
    assert _values(after) == _values(obj), label
    if issubclass(model, CaseModel):
        assert after.version == obj.version + 1, label


@pytest.mark.parametrize("label", _params("change", case_models_only=True))
def test_a_stale_save_is_refused_and_changes_nothing(world, db, superuser, label):
    model, model_admin = _model(label)
    obj = _row(world, superuser, label)
    user = _user_for(world, superuser, model_admin, "change", obj)
    mine, theirs = world.client(user), world.client(superuser)
    url = _url(model, "change", obj.pk)
    my_page = mine.get(url)
    their_page = theirs.get(url)
    assert theirs.post(url, rendered_post(their_page)).status_code == 302
    saved = model._base_manager.get(pk=obj.pk)
    history = model.history.filter(id=obj.pk).count()

    response = mine.post(url, rendered_post(my_page), follow=True)

    assert response.status_code == 200, (label, response.status_code)
    with translation.override(settings.LANGUAGE_CODE):
        stale_form = str(STALE_MESSAGE).split(".")[0]
        stale_redirect = str(CaseModelAdmin.stale_message)
    shown = response.content.decode() + " ".join(
        str(m) for m in get_messages(response.wsgi_request)
    )
    assert stale_form in shown or stale_redirect in shown, label
    after = model._base_manager.get(pk=obj.pk)
    assert after.version == saved.version, label
    assert model.history.filter(id=obj.pk).count() == history, label


def test_the_samples_name_only_models_the_walk_uses():
    addable = {p.values[0] for p in _params("add")}
    assert set(ADMIN_ADD_SAMPLES) <= addable, sorted(set(ADMIN_ADD_SAMPLES) - addable)
    not_addable = set(REGISTRY) - addable
    assert set(ADMIN_ROWS) <= not_addable, sorted(set(ADMIN_ROWS) - not_addable)


# --- Person data: break-glass only, and every page view logged --------------------------
# Decided here from the models alone, not from the admin's own rule: a case model
# that belongs to a participant, or any model with a relation of its own to one.


def _holds_person_data(model) -> bool:
    if issubclass(model, CaseModel) and model.participant_path is not None:
        return True
    return any(
        f.is_relation and not f.auto_created and f.related_model is Participant
        for f in model._meta.get_fields()
    )


PERSON_DATA = sorted(label for label, ma in REGISTRY.items() if _holds_person_data(ma.model))


def _person_params():
    return [pytest.param(label, id=label) for label in PERSON_DATA]


def test_the_person_data_models_are_the_case_records():
    """The walk below covers the case records (so it cannot pass by finding none)."""
    assert {
        "participants.Participant",
        "participants.Referral",
        "participants.ReferralEvent",
        "participants.EligibilityAssessment",
        "participants.NetworkContact",
        "housing.Tenancy",
        "housing.TenancyIncident",
        "support.SupportVisit",
        "support.ActionPlan",
        "support.CrisisPlacement",
        "support.Activity",
    } <= set(PERSON_DATA)
    # Reference data stays with the administrator.
    assert not {
        "housing.Landlord",
        "housing.Apartment",
        "housing.Provider",
        "participants.ReferringUnit",
        "support.CrisisPlace",
    } & set(PERSON_DATA)


def _person_ids(obj) -> set[int]:
    if isinstance(obj, CaseModel):
        return obj.person_ids()
    return {
        getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if f.is_relation and f.related_model is Participant and getattr(obj, f.attname)
    }


def _row_showing_a_person(world, superuser, label: str):
    """A row of ``label`` that shows at least one person (an activity someone attended)."""
    model_admin = REGISTRY[label]
    request = RequestFactory().get("/")
    request.user = superuser
    _row(world, superuser, label)
    for obj in model_admin.get_queryset(request).order_by("pk")[:50]:
        if _person_ids(obj):
            return obj
    pytest.fail(f"The demo world has no {label} row that shows a person")


def _admin_urls(model, model_admin, obj) -> list[str]:
    urls = [
        _url(model, "changelist"),
        _url(model, "add"),
        _url(model, "change", obj.pk),
        _url(model, "history", obj.pk),
        _url(model, "delete", obj.pk),
    ]
    if hasattr(model, "history") and hasattr(model_admin, "history_form_view"):
        version = model.history.filter(id=obj.pk).order_by("history_id").first()
        if version is not None:
            urls.append(_url(model, "simple_history", obj.pk, version.history_id))
    return urls


@pytest.mark.parametrize("label", _person_params())
@pytest.mark.parametrize("granted", [False, True], ids=["role", "with-model-permissions"])
def test_the_administrator_role_reaches_no_person_data_in_the_admin(
    world, db, superuser, label, granted
):
    """Refused by the admin itself, not only for want of a model permission: a
    permission given directly (or a role group edited by hand) changes nothing."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    model, model_admin = _model(label)
    obj = _row_showing_a_person(world, superuser, label)
    administrator = User.objects.get(pk=world.administrator.pk)
    if granted:
        administrator.user_permissions.add(
            *Permission.objects.filter(content_type=ContentType.objects.get_for_model(model))
        )
    client = world.client(administrator)

    for url in _admin_urls(model, model_admin, obj):
        response = client.get(url)
        assert response.status_code in (403, 404), (label, url, response.status_code)
        post = client.post(url, {})
        assert post.status_code in (403, 404), (label, url, post.status_code)


def test_the_administrators_admin_index_lists_reference_data_and_no_case_data(world, db):
    response = world.client(world.administrator).get(reverse("admin:index"))

    assert response.status_code == 200
    listed = {
        f"{app['app_label']}.{m['object_name']}"
        for app in response.context["app_list"]
        for m in app["models"]
    }
    assert not listed & set(PERSON_DATA), sorted(listed & set(PERSON_DATA))
    assert {
        "bostadforst.User",
        "housing.Landlord",
        "housing.Apartment",
        "housing.Provider",
        "participants.ReferringUnit",
        "support.CrisisPlace",
    } <= listed


def test_no_role_group_holds_a_permission_on_person_data():
    """The role groups' model permissions (roles.py) name no case record."""
    from bostadforst.roles import ROLE_MODEL_PERMISSIONS

    person_apps = {label.split(".")[0] for label in PERSON_DATA}
    person_models = {label.lower() for label in PERSON_DATA}
    for role, patterns in ROLE_MODEL_PERMISSIONS.items():
        for pattern in patterns:
            app_label, codename = pattern.split(".", 1)
            if codename == "*":
                assert app_label not in person_apps, (role, pattern)
            else:
                model_name = codename.split("_", 1)[1]
                assert f"{app_label}.{model_name}" not in person_models, (role, pattern)


def test_no_admin_autocompletes_a_person_record():
    """The admin's autocomplete answers outside the change pages (unlogged)."""
    for label, model_admin in REGISTRY.items():
        for name in model_admin.autocomplete_fields:
            related = model_admin.model._meta.get_field(name).related_model
            assert not _holds_person_data(related), (label, name)


def _reads(person_ids, since_pk: int):
    return AccessLogEntry.objects.filter(
        pk__gt=since_pk, action=AccessLogEntry.Action.READ, person_id__in=person_ids
    )


def _last_log_pk() -> int:
    return AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.parametrize("label", _person_params())
def test_a_superusers_change_and_history_pages_are_logged_as_reads(world, db, superuser, label):
    model, model_admin = _model(label)
    obj = _row_showing_a_person(world, superuser, label)
    persons = _person_ids(obj)
    client = world.client(superuser)
    # The change page, the history list and (simple-history) one old version.
    pages = [_url(model, "change", obj.pk), _url(model, "history", obj.pk)]
    pages += _admin_urls(model, model_admin, obj)[5:]

    for url in pages:
        since = _last_log_pk()
        response = client.get(url)
        assert response.status_code == 200, (label, url, response.status_code)
        logged = _reads(persons, since)
        assert set(logged.values_list("person_id", flat=True)) == persons, (label, url)
        assert set(logged.values_list("user_id", flat=True)) == {superuser.pk}, (label, url)
        assert set(logged.values_list("object_id", flat=True)) == {str(obj.pk)}, (label, url)


@pytest.mark.parametrize("label", _person_params())
def test_a_superusers_changelist_logs_every_person_shown_in_one_insert(world, db, superuser, label):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    model, _model_admin = _model(label)
    _row_showing_a_person(world, superuser, label)
    client = world.client(superuser)
    since = _last_log_pk()

    with CaptureQueriesContext(connection) as queries:
        response = client.get(_url(model, "changelist"))

    assert response.status_code == 200, label
    shown = set().union(*(_person_ids(o) for o in response.context["cl"].result_list))
    assert shown, label
    logged = _reads(shown, since)
    assert set(logged.values_list("person_id", flat=True)) == shown, label
    inserts = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(f'INSERT INTO "{AccessLogEntry._meta.db_table}"')
    ]
    # One INSERT (SQLite splits it at its limit of parameters per statement).
    rows = logged.count()
    fields = [f for f in AccessLogEntry._meta.concrete_fields if not f.primary_key]
    batch = connection.ops.bulk_batch_size(fields, [None] * rows) or rows
    assert len(inserts) == -(-rows // batch), (label, rows, len(inserts))


def test_the_apartment_admin_shows_no_tenant(world, db):
    from housing.models import Tenancy

    tenancy = Tenancy.objects.select_related("participant", "apartment").order_by("pk").first()
    client = world.client(world.administrator)
    apartment = tenancy.apartment

    pages = [
        _url(type(apartment), "changelist"),
        _url(type(apartment), "change", apartment.pk),
        _url(type(apartment), "history", apartment.pk),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert tenancy.participant.last_name not in html, url
