"""Hostile input: every form page of the project (found from the resolver),
posted random and hostile data by a role that may use it, answers with a form
error or a success redirect, never a 500; nothing is half-saved (row counts
change only with a success redirect); stored text comes back escaped; and
tampered extra fields (status, owner, is_staff, version, ...) change nothing.

Every page (lists, searches, details, exports) is also sent hostile query
strings, by every role the access table lets in (public pages anonymously),
for the parameter names the project's code reads: a 4xx or a page, never a
500 or a traceback.

A new form view or page is fuzzed without touching this file. Examples per
form or page: ``FUZZ_EXAMPLES`` (default 12) and ``FUZZ_QUERY_EXAMPLES``
(default 6; the ci profile is derandomized).
"""

import functools
import itertools
import os
import re

import pytest
from django import forms
from django.apps import apps
from django.conf import settings as django_settings
from django.db import transaction
from django.urls import reverse
from django.views.generic.edit import FormMixin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bostadforst.models import User
from bostadforst.permissions import ACCESS_TABLE, PUBLIC
from bostadforst.roles import Role

from ..urlwalk import project_routes
from ..world import local_apps

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
QUERY_EXAMPLES = int(os.environ.get("FUZZ_QUERY_EXAMPLES", "6"))
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


# --- Hostile query strings ------------------------------------------------------

# Names worth trying on every page, besides those found in the code.
COMMON_QUERY_NAMES = {
    "q",
    "page",
    "status",
    "participant",
    "apartment",
    "landlord",
    "occupancy",
    "person",
    "user",
    "date_from",
    "date_to",
    "as_of",
    "months",
    "format",
    "next",
    "action",
}
# request.GET.get("x"), .getlist("x"), GET["x"], and helpers called as
# query_id(request, "x") (bostadforst.records).
QUERY_READS = re.compile(
    r"""GET(?:\.get|\.getlist|\.pop|\.setdefault)?\(\s*["']([^"']+)["']"""
    r"""|GET\[\s*["']([^"']+)["']\s*\]"""
    r"""|query_id\(\s*(?:self\.)?request\s*,\s*["']([\w-]+)["']"""
)
# Each sent for every name at once, by the allowed roles in turn.
NUL = "a\x00b"
WORST_QUERY_VALUES = [
    NUL,
    "A" * 100_000,
    str(2**70),
    "-1",
    "0000-00-00",
    "²",  # str.isdigit() says yes, int() says no
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🏠 \u202e\u200b",
]
# Percent-escapes the test client would not produce from text: invalid UTF-8,
# an overlong NUL, an encoded surrogate, empty names.
RAW_QUERY_STRING = "q=%FF%FE&page=%C0%80&status=%ED%A0%80&%00=1&=&&==&page"
QUERY_VALUE = st.one_of(
    st.sampled_from([*WORST_QUERY_VALUES, "①", "last", "", "\t"]),
    HOSTILE_TEXT,
    HOSTILE_NUMBER,
    HOSTILE_DATE,
    ANY_TEXT,
    st.integers(-(2**70), 2**70).map(str),
    st.integers(0, 60).map(str),  # ids that exist in the demo world
)
HOSTILE_QUERY_NAMES = st.sampled_from(["a\x00b", "page[]", "q ", "", "𝔮", "A" * 5000])
CALM_STATUSES = {200, 301, 302, 303, 400, 403, 404, 405}


@functools.cache
def query_names_in_code() -> frozenset[str]:
    """Query parameter names read anywhere in the project's apps."""
    names = set()
    for app in local_apps():
        for path in (django_settings.BASE_DIR / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for match in QUERY_READS.finditer(path.read_text(encoding="utf-8")):
                names.update(group for group in match.groups() if group)
    return frozenset(names)


def query_routes():
    """Every route a role may open (the URL matrix fails for one missing from
    the table), and the public pages."""
    return [r for r in project_routes() if r.name in PUBLIC or r.name in ACCESS_TABLE]


def roles_for(route) -> list:
    """The roles the table lets in; None (anonymous) for a public page."""
    return [None] if route.name in PUBLIC else sorted(ACCESS_TABLE[route.name])


def shorten(params) -> str:
    """The request's parameters, readable in a failure message."""
    text = repr(params)
    return re.sub(r"(.)\1{40,}", lambda m: f"{m.group(1)}×{len(m.group(0))}", text)[:2000]


def get_calmly(client, url: str, params) -> int:
    """GET ``url`` with ``params`` (a dict, or a raw query string) and check the
    answer is a 4xx or a page, without a traceback; nothing it wrote is kept."""
    with transaction.atomic():
        try:
            if isinstance(params, str):
                response = client.get(f"{url}?{params}")
            else:
                response = client.get(url, params)
        except Exception as exc:
            # Re-raised as it is, so that an xfail can name the exception.
            exc.add_note(f"GET {url} {shorten(params)}")
            raise
        # Reading a streamed body to the end closes it (the test client already
        # closed any other); closing again would fire request_finished, which
        # drops the PostgreSQL connection inside this transaction.
        body = b"".join(response.streaming_content) if response.streaming else response.content
        status = response.status_code
        assert status in CALM_STATUSES, (url, status, shorten(params))
        assert b"Traceback" not in body, (url, shorten(params))
        transaction.set_rollback(True)
    return status


def query_params():
    return [pytest.param(route, id=route.name) for route in query_routes()]


@pytest.mark.parametrize("route", query_params())
def test_hostile_query_strings_never_crash_a_page(world, route):
    """The worst values for every name the code reads, the page's forms have,
    or pages commonly take, sent by the roles the table lets in in turn (a
    repeated key: ``GET.get`` answers the last value, ``getlist`` both), and a
    NUL for each name alone; then hypothesis mixes names, values, repeats and
    roles."""
    url = reverse(route.name, kwargs=world.url_kwargs(route))
    clients = {role: world.client(role) for role in roles_for(route)}
    names = query_names_in_code() | COMMON_QUERY_NAMES
    for client in clients.values():
        plain = client.get(url)
        assert plain.status_code < 500, (route.name, plain.status_code)
        names |= {form.add_prefix(name) for form in forms_in(plain.context) for name in form.fields}
    names = sorted(names)
    # In turn rather than every role every value: a PDF page costs half a
    # second a request, and the file must stay fast.
    turns = itertools.cycle(clients.values())
    # A NUL for each name alone: with all names at once a bad ?page= can
    # answer 404 before the list's filter ever reads ?q=.
    for name in names:
        get_calmly(next(turns), url, {name: NUL})
    for value in WORST_QUERY_VALUES:
        get_calmly(next(turns), url, dict.fromkeys(names, ["1", value]))
    get_calmly(next(turns), url, RAW_QUERY_STRING)

    @settings(
        max_examples=QUERY_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(
        role=st.sampled_from(list(clients)),
        params=st.dictionaries(
            st.one_of(st.sampled_from(names), HOSTILE_QUERY_NAMES),
            st.lists(QUERY_VALUE, min_size=1, max_size=3),
            min_size=1,
            max_size=3,
        ),
    )
    def get_hostile(role, params):
        get_calmly(clients[role], url, params)

    get_hostile()


def test_the_query_fuzzer_finds_the_names_the_views_read():
    names = query_names_in_code()
    # housing reads q and occupancy itself, landlord through a helper;
    # support reads participant; the participant page reads page.
    assert {"q", "occupancy", "landlord", "participant", "page"} <= names, names


def test_the_query_fuzzer_walks_every_page_of_the_access_table_and_the_public_ones():
    walked = {route.name for route in query_routes()}
    assert set(ACCESS_TABLE) <= walked
    assert walked >= PUBLIC


def test_a_nul_in_a_search_answers_the_swedish_bad_request_page(world):
    """``?q=a%00b`` on the apartment list was a 500 on PostgreSQL."""
    response = world.client(Role.SUPPORT_STAFF).get(
        reverse("housing:apartment-list"), {"q": "a\x00b"}
    )
    assert response.status_code == 400
    assert [t.name for t in response.templates][:2] == ["400.html", "base.html"]
    assert "innehöll tecken som inte kan sparas" in response.content.decode()
    # The layout names the user: the page must not be cached either.
    assert response["Cache-Control"] == "no-store, private"


@pytest.mark.parametrize(
    "query",
    [
        {"q": "a\x01b"},
        {"q": "a\x7fb"},
        {"q": "a\x85b"},
        {"q\x00": "x"},
        {"q": "A" * 2001},
        {"A" * 2001: "x"},
        {"page": ["1"] * 1001},  # over DATA_UPLOAD_MAX_NUMBER_FIELDS: Django's own 400
    ],
    ids=[
        "control",
        "del",
        "c1-control",
        "nul-in-name",
        "overlong",
        "overlong-name",
        "too-many-fields",
    ],
)
def test_control_characters_and_overlong_values_in_a_query_are_refused(world, query):
    response = world.client(Role.SUPPORT_STAFF).get(reverse("housing:apartment-list"), query)
    assert response.status_code == 400


def test_tabs_line_breaks_and_long_searches_within_the_limit_pass(world):
    client = world.client(Role.SUPPORT_STAFF)
    url = reverse("housing:apartment-list")
    assert client.get(url, {"q": "Storgatan\t1\r\n"}).status_code == 200
    assert client.get(url, {"q": "A" * 2000}).status_code == 200


def test_a_nul_in_a_posted_form_answers_400_before_any_view(world):
    """Also on the public login page, which the form fuzz above does not post to."""
    response = world.client(None).post(reverse("login"), {"username": "a\x00b", "password": "x"})
    assert response.status_code == 400
    assert "innehöll tecken som inte kan sparas" in response.content.decode()


def test_a_form_feed_in_a_posted_note_reaches_the_form(world):
    """A pasted note may carry one; PostgreSQL stores it, so the form decides."""
    response = world.client(None).post(reverse("login"), {"username": "a\x0cb", "password": "x"})
    assert response.status_code == 200
