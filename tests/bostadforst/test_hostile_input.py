"""Hostile input: every form page of the project (found from the resolver),
posted random and hostile data by a role that may use it, answers with a form
error or a success redirect, never a 500; nothing is half-saved (row counts
change only with a success redirect); stored text comes back escaped; and
tampered extra fields (status, owner, is_staff, version, ...) change nothing.

A new form view is fuzzed without touching this file. Examples per form:
``FUZZ_EXAMPLES`` (default 12; the ci profile is derandomized).
"""

import os

import pytest
from django import forms
from django.apps import apps
from django.db import transaction
from django.urls import reverse
from django.views.generic.edit import FormMixin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bostadforst.models import User
from bostadforst.permissions import ACCESS_TABLE, PUBLIC

from ..urlwalk import project_routes

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
SCRIPT = "<script>alert('xss')</script>"
BOOKKEEPING = {
    "bostadforst.AccessLogEntry",
    "bostadforst.UserSession",
    "sessions.Session",
    "axes.AccessLog",
    "axes.AccessAttempt",
    "admin.LogEntry",
}

HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        SCRIPT,
        '"><img src=x onerror=alert(1)>',
        "'; DROP TABLE participants_participant; --",
        "' OR '1'='1",
        "%00",
        "\x00",
        "a\x00b",
        "A" * 100_000,
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🏠 \u202e\u200b",
        "\u0000\u0001\u001f",
        "{{ 7*7 }} {% debug %}",
        "../../etc/passwd",
        "19811218-9876",
    ]
)
ANY_TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), max_codepoint=0x10FFFF), max_size=300
)
HOSTILE_NUMBER = st.sampled_from(
    [
        "-1",
        "0",
        "2147483648",
        "9223372036854775808",
        "1e309",
        "NaN",
        "Infinity",
        "-0",
        "0x10",
        "99999999999999999999999999",
        "1.5",
        "١٢٣",
    ]
)
HOSTILE_DATE = st.sampled_from(
    [
        "0000-00-00",
        "9999-12-31",
        "0001-01-01",
        "2026-02-30",
        "2026-13-01",
        "1900-02-29",
        "31/12/2026",
        "2026-11-23T25:61",
        "yesterday",
        "-2026-01-01",
    ]
)


def tamper_values(world) -> dict:
    """Fields a form never offers, with values an attacker would like."""
    other = world.administrator.pk
    return {
        "status": "hacked",
        "state": "hacked",
        "is_staff": "on",
        "is_superuser": "on",
        "owner": other,
        "support_worker": other,
        "referred_by": other,
        "created_by": other,
        "author": other,
        "decided_by": other,
        "user": other,
        "id": 1,
        "pk": 1,
        "anonymised_at": "2020-01-01 00:00",
        "closed_on": "2001-01-01",
    }


def takes_form_posts(view_class) -> bool:
    """A FormView/CreateView/UpdateView, or any other view that handles POST
    with a form class of its own (e.g. a list searched by a POSTed form)."""
    if issubclass(view_class, FormMixin):
        return True
    return hasattr(view_class, "post") and any(
        name.endswith("form_class") and getattr(view_class, name, None) is not None
        for name in dir(view_class)
    )


def form_routes():
    out = []
    for route in project_routes():
        view_class = getattr(route.callback, "view_class", None)
        if view_class is None or route.name in PUBLIC or route.name not in ACCESS_TABLE:
            continue
        if takes_form_posts(view_class):
            out.append(route)
    return out


def forms_in(context) -> list[forms.BaseForm]:
    """Every form the page renders (a search page has a filter and a search form)."""
    if context is None:
        return []
    layers = context if isinstance(context, list) else [context]
    found = []
    for layer in layers:
        for value in layer.flatten().values():
            if isinstance(value, forms.BaseForm) and all(value is not f for f in found):
                found.append(value)
    return found


def row_counts() -> dict[str, int]:
    return {
        m._meta.label: m._base_manager.count()
        for m in apps.get_models()
        if m._meta.label not in BOOKKEEPING
    }


def field_strategy(field: forms.Field, world):
    options = [HOSTILE_TEXT, ANY_TEXT]
    if isinstance(field, (forms.ChoiceField, forms.ModelChoiceField)):
        choices = [str(v) for v, _label in getattr(field, "choices", []) if str(v) != ""][:50]
        if choices:
            options += [st.sampled_from(choices)] * 3
    if isinstance(field, (forms.IntegerField, forms.DecimalField, forms.FloatField)):
        options += [HOSTILE_NUMBER, st.integers(-(2**70), 2**70).map(str)]
    if isinstance(field, (forms.DateField, forms.DateTimeField, forms.TimeField)):
        options += [HOSTILE_DATE, st.dates().map(str)]
    if isinstance(field, forms.BooleanField):
        options += [st.sampled_from(["on", "", "false", "1"])]
    if isinstance(field.widget, forms.HiddenInput):
        options += [HOSTILE_NUMBER, st.sampled_from([str(u.pk) for u in world.users.values()])]
    strategy = st.one_of(*options)
    if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
        return st.lists(strategy, max_size=4)
    return strategy


def open_form(world, route):
    """(client, url, forms) for the first role the table allows that gets a form;
    the page's main form (context "form", if any) first."""
    url = reverse(route.name, kwargs=world.url_kwargs(route))
    for role in sorted(ACCESS_TABLE[route.name]):
        client = world.client(role)
        response = client.get(url)
        if response.status_code != 200:
            continue
        found = forms_in(response.context)
        main = response.context.get("form")
        if main is not None:
            found = [main, *(f for f in found if f is not main)]
        if found:
            return client, url, found
    return None, url, []


@pytest.mark.parametrize("route", form_routes(), ids=lambda r: r.name)
def test_hostile_posts_never_crash_half_save_or_apply_tampered_fields(world, route):
    client, url, page_forms = open_form(world, route)
    if not page_forms:
        pytest.skip(f"{route.name}: no role in the demo world gets the form page")
    names = {
        form.add_prefix(name): field
        for form in reversed(page_forms)
        for name, field in form.fields.items()
    }
    tamper = {k: v for k, v in tamper_values(world).items() if k not in names}
    instance = getattr(page_forms[0], "instance", None)
    strategies = {
        name: st.one_of(st.none(), field_strategy(field, world)) for name, field in names.items()
    }
    staff_before = dict(User.objects.values_list("pk", "is_staff"))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(values=st.fixed_dictionaries(strategies), with_tamper=st.booleans())
    def post_hostile(values, with_tamper):
        data = {k: v for k, v in values.items() if v is not None}
        if with_tamper:
            data.update(tamper)
        with transaction.atomic():
            before = row_counts()
            response = client.post(url, data)
            assert response.status_code < 500, (route.name, data)
            if response.status_code in (301, 302, 303):
                follow = client.get(response["Location"])
                assert follow.status_code < 500
                assert SCRIPT.encode() not in follow.content, "stored text shown unescaped"
            else:
                assert response.status_code in (200, 400, 403, 404, 409), response.status_code
                assert row_counts() == before, f"{route.name} half-saved on {response.status_code}"
            if with_tamper and instance is not None and instance.pk:
                fresh = type(instance)._base_manager.get(pk=instance.pk)
                for key in tamper:
                    if key in {f.name for f in fresh._meta.concrete_fields} and key not in ("id",):
                        value = getattr(fresh, key + "_id", getattr(fresh, key, None))
                        assert str(value) != str(tamper[key]) or str(
                            getattr(instance, key + "_id", getattr(instance, key, None))
                        ) == str(tamper[key]), f"{route.name}: tampered {key} was applied"
            assert dict(User.objects.values_list("pk", "is_staff")) == staff_before
            transaction.set_rollback(True)

    post_hostile()


def test_the_fuzzer_finds_the_projects_form_views():
    names = {r.name for r in form_routes()}
    assert len(names) >= 5, names
    # A list searched by a POSTed form (no FormMixin) is a form view too.
    assert "participants:participant-list" in names


def test_the_fuzzer_would_find_a_new_form_view_of_any_kind():
    from django.views import View
    from django.views.generic import FormView

    class NewFormPage(FormView):
        form_class = forms.Form

    class NewSearchPage(View):
        search_form_class = forms.Form

        def post(self, request):
            return None

    class NotAForm(View):
        def post(self, request):
            return None

    assert takes_form_posts(NewFormPage) and takes_form_posts(NewSearchPage)
    assert not takes_form_posts(NotAForm)
