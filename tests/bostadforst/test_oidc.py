"""OpenID Connect login against a real provider (tests/oidc_provider.py, on a
loopback port): the redirect dance through the Django test client, the ID
token's checks, users and roles from the claims, the provider's strong
authentication as the second factor, and the logout at the provider."""

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.test import Client
from django.urls import reverse

from bostadforst import oidc
from bostadforst.models import RoleGrant, User
from bostadforst.roles import Role, role_of
from tests.factories import UserFactory
from tests.oidc_provider import OpenIDProvider, follow_to_provider

CLIENT_ID = "bostadforst-test"
CALLBACK = "http://testserver/oidc/callback/"
ROLE_MAP = {"grp-sw": "social_worker", "grp-boss": "unit_manager", "grp-it": "administrator"}

NO_ROLE = "Ditt konto hos kommunen har ingen roll i Bostad först"
FAILED = "Inloggningen med kommunens konto misslyckades"
WEAK = "gjordes inte med den starka autentisering som krävs"


@pytest.fixture(scope="module")
def provider():
    op = OpenIDProvider(client_id=CLIENT_ID, client_secret="s3cret", redirect_uri=CALLBACK)
    op.start()
    yield op
    op.stop()


@pytest.fixture
def op(provider, settings):
    provider.user = None
    provider.disabled = set()
    provider.next_token = {}
    provider.sign_with_foreign_key = False
    provider.tamper = False
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = "s3cret"
    settings.OIDC_OP_DISCOVERY_URL = provider.discovery_url
    settings.OIDC_ROLE_CLAIM = "groups"
    settings.OIDC_ROLE_MAP = ROLE_MAP
    settings.OIDC_REQUIRED_ACR = ""
    return provider


def oidc_login(client: Client, next_url: str = ""):
    """Login page -> provider -> callback; the callback's response."""
    start = reverse("oidc_authentication_init") + (f"?next={next_url}" if next_url else "")
    response = client.get(start)
    assert response.status_code == 302
    return client.get(follow_to_provider(response["Location"]))


def logged_in_user(client: Client):
    response = client.get(reverse("home"))
    return response.wsgi_request.user if response.status_code == 200 else None


def refused_with(client: Client, response, text: str) -> None:
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    page = client.get(response["Location"])
    assert text in page.content.decode()
    assert not page.wsgi_request.user.is_authenticated


# --- off by default -----------------------------------------------------------


@pytest.mark.django_db
def test_off_without_settings(client):
    page = client.get(reverse("login"))
    assert "Logga in med kommunens konto" not in page.content.decode()
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    assert client.get(reverse("oidc_authentication_callback")).status_code == 404


# --- the dance ----------------------------------------------------------------


@pytest.mark.django_db
def test_first_login_creates_the_user_with_the_mapped_role(op, client):
    page = client.get(reverse("login"))
    assert "Logga in med kommunens konto" in page.content.decode()
    op.login(
        "abc-123",
        email="anna@kommun.se",
        given_name="Anna",
        family_name="Ek",
        preferred_username="anna.ek",
        groups=["grp-sw", "unrelated"],
    )
    response = oidc_login(client, next_url="/participants/")
    assert response.status_code == 302
    assert response["Location"] == "/participants/"
    user = User.objects.get(oidc_sub="abc-123")
    assert (user.username, user.email, user.first_name) == ("anna.ek", "anna@kommun.se", "Anna")
    assert not user.has_usable_password()
    assert role_of(user) == Role.SOCIAL_WORKER
    assert logged_in_user(client).pk == user.pk
    # PKCE and the requested scopes went to the provider.
    sent = op.authorize_requests[-1]
    assert sent["code_challenge_method"] == "S256" and "openid" in sent["scope"]


@pytest.mark.django_db
def test_an_offsite_next_is_not_followed(op, client):
    op.login("abc-9", email="x@kommun.se", groups=["grp-sw"])
    response = oidc_login(client, next_url="https://evil.example/")
    assert response["Location"] == reverse("home")


@pytest.mark.django_db
def test_first_login_links_a_local_account_by_email_and_then_matches_by_sub(op, client):
    local = UserFactory(email="Bo@Kommun.se", role=Role.SUPPORT_STAFF)
    op.login("sub-bo", email="bo@kommun.se", groups=["grp-sw"])
    oidc_login(client)
    local.refresh_from_db()
    assert local.oidc_sub == "sub-bo"
    # The provider is the source of the role: support staff -> social worker.
    assert role_of(local) == Role.SOCIAL_WORKER
    # A changed e-mail at the provider: still the same user (by sub).
    op.login("sub-bo", email="bo.new@kommun.se", groups=["grp-sw"])
    other = Client()
    oidc_login(other)
    assert logged_in_user(other).pk == local.pk
    local.refresh_from_db()
    assert local.email == "bo.new@kommun.se"
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_role_follows_the_group_claim_at_every_login(op):
    op.login("sub-m", email="m@kommun.se", groups=["grp-sw", "grp-boss"])
    oidc_login(Client())
    user = User.objects.get(oidc_sub="sub-m")
    assert role_of(user) == Role.UNIT_MANAGER
    # Removed from the managers' group at the provider.
    op.login("sub-m", email="m@kommun.se", groups=["grp-sw"])
    second = Client()
    oidc_login(second)
    user = User.objects.get(pk=user.pk)
    assert role_of(user) == Role.SOCIAL_WORKER
    assert RoleGrant.objects.filter(user=user, grant="unit_manager", granted=False).exists()
    # Removed from every mapped group: refused, and the role is gone, also
    # from the session still open in another browser.
    op.login("sub-m", email="m@kommun.se", groups=["unrelated"])
    third = Client()
    refused_with(third, oidc_login(third), NO_ROLE)
    user = User.objects.get(pk=user.pk)
    assert role_of(user) is None
    assert logged_in_user(second) is None


@pytest.mark.django_db
@pytest.mark.parametrize("claims", [{}, {"groups": []}, {"groups": ["unmapped"]}])
def test_missing_or_unmapped_role_claim_is_refused_in_swedish(op, client, claims):
    op.login("sub-nr", email="nr@kommun.se", **claims)
    refused_with(client, oidc_login(client), NO_ROLE)
    assert not User.objects.filter(oidc_sub="sub-nr").exists()


@pytest.mark.django_db
def test_a_nested_role_claim(op, client, settings):
    settings.OIDC_ROLE_CLAIM = "realm_access.roles"
    op.login("sub-kc", email="kc@kommun.se", realm_access={"roles": ["grp-boss"]})
    oidc_login(client)
    assert role_of(User.objects.get(oidc_sub="sub-kc")) == Role.UNIT_MANAGER


# --- the ID token's checks ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bend",
    [
        pytest.param({"tamper": True}, id="tampered"),
        pytest.param({"sign_with_foreign_key": True}, id="foreign-key"),
        pytest.param({"next_token": {"exp": 1_700_000_000}}, id="expired"),
        pytest.param({"next_token": {"exp": None}}, id="no-expiry"),
        pytest.param({"next_token": {"aud": "another-client"}}, id="wrong-audience"),
        pytest.param({"next_token": {"aud": [CLIENT_ID, "x"], "azp": "x"}}, id="wrong-azp"),
        pytest.param({"next_token": {"iss": "https://evil.example"}}, id="wrong-issuer"),
        pytest.param({"next_token": {"nonce": "replayed"}}, id="wrong-nonce"),
    ],
)
def test_a_bad_id_token_is_refused(op, client, bend):
    op.login("sub-bad", email="bad@kommun.se", groups=["grp-it"])
    for name, value in bend.items():
        setattr(op, name, value)
    refused_with(client, oidc_login(client), FAILED)
    assert not User.objects.filter(oidc_sub__in=["sub-bad", "someone-else"]).exists()


@pytest.mark.django_db
def test_a_user_disabled_at_the_provider_cannot_log_in(op, client):
    op.login("sub-gone", email="gone@kommun.se", groups=["grp-sw"])
    op.disabled.add("sub-gone")
    refused_with(client, oidc_login(client), FAILED)


@pytest.mark.django_db
def test_a_user_turned_off_here_cannot_log_in(op, client):
    UserFactory(oidc_sub="sub-off", is_active=False, role=Role.SOCIAL_WORKER)
    op.login("sub-off", email="off@kommun.se", groups=["grp-sw"])
    refused_with(client, oidc_login(client), "Ditt konto i Bostad först är avstängt")


@pytest.mark.django_db
def test_a_replayed_or_forged_callback_is_refused_without_error(op, client):
    op.login("sub-r", email="r@kommun.se", groups=["grp-sw"])
    start = client.get(reverse("oidc_authentication_init"))
    callback = follow_to_provider(start["Location"])
    assert client.get(callback).status_code == 302
    client.logout()
    # The same code and state again (the state is used up, the code too).
    refused_with(client, client.get(callback), FAILED)
    refused_with(
        client, client.get(reverse("oidc_authentication_callback") + "?code=x&state=y"), FAILED
    )


@pytest.mark.django_db
def test_a_superuser_never_logs_in_through_the_provider(op, client):
    UserFactory(email="root@kommun.se", is_superuser=True, is_staff=True)
    op.login("sub-root", email="root@kommun.se", groups=["grp-it"])
    refused_with(client, oidc_login(client), "Det här kontot kan bara logga in med sitt lösenord")


# --- the second factor ----------------------------------------------------------


@pytest.mark.django_db
def test_without_an_acr_requirement_a_manager_still_enters_a_totp_code(op, client, settings):
    settings.OTP_REQUIRED_FOR_PRIVILEGED = True
    op.login("sub-boss", email="boss@kommun.se", groups=["grp-boss"], acr="mfa")
    oidc_login(client)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("otp-verify"))


@pytest.mark.django_db
def test_required_acr_counts_as_the_second_factor(op, client, settings):
    settings.OTP_REQUIRED_FOR_PRIVILEGED = True
    settings.OIDC_REQUIRED_ACR = "mfa phishing-resistant"
    op.login("sub-boss2", email="boss2@kommun.se", groups=["grp-boss"], acr="mfa")
    oidc_login(client)
    assert op.authorize_requests[-1]["acr_values"] == "mfa phishing-resistant"
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("participants:participant-list")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("acr", [None, "pwd"])
def test_required_acr_missing_or_weaker_is_refused(op, client, settings, acr):
    settings.OIDC_REQUIRED_ACR = "mfa"
    claims = {"acr": acr} if acr else {}
    op.login("sub-weak", email="weak@kommun.se", groups=["grp-sw"], **claims)
    refused_with(client, oidc_login(client), WEAK)


# --- logout ---------------------------------------------------------------------


@pytest.mark.django_db
def test_logout_ends_the_session_at_the_provider_too(op, client):
    op.login("sub-out", email="out@kommun.se", groups=["grp-sw"])
    oidc_login(client)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    target = urlparse(response["Location"])
    assert f"{target.scheme}://{target.netloc}" == op.issuer
    query = parse_qs(target.query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/login/"]
    back = requests.get(response["Location"], allow_redirects=False, timeout=10)
    assert back.headers["Location"] == "http://testserver/login/"
    assert op.ended_sessions[-1]["sub"] == "sub-out"
    assert logged_in_user(client) is None


@pytest.mark.django_db
def test_a_password_session_logs_out_locally(op, social_worker):
    client = Client()
    client.force_login(social_worker)
    response = client.post(reverse("logout"))
    assert response["Location"] == reverse("login")


# --- local login ----------------------------------------------------------------


@pytest.mark.django_db
def test_local_login_for_superusers_only(settings, client):
    settings.LOCAL_LOGIN_FOR = "superusers"
    password = "correct horse battery staple 42"
    worker = UserFactory(role=Role.SOCIAL_WORKER)
    worker.set_password(password)
    worker.save()
    root = UserFactory(is_superuser=True, is_staff=True)
    root.set_password(password)
    root.save()
    refused = client.post(reverse("login"), {"username": worker.username, "password": password})
    assert refused.status_code == 200
    assert not refused.wsgi_request.user.is_authenticated
    allowed = Client().post(reverse("login"), {"username": root.username, "password": password})
    assert allowed.status_code == 302
    settings.LOCAL_LOGIN_FOR = "all"
    again = Client().post(reverse("login"), {"username": worker.username, "password": password})
    assert again.status_code == 302


@pytest.mark.django_db
def test_endpoints_from_settings_without_discovery(op, client, settings):
    settings.OIDC_OP_DISCOVERY_URL = ""
    settings.OIDC_OP_ISSUER = op.issuer
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{op.issuer}/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{op.issuer}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{op.issuer}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{op.issuer}/jwks"
    op.login("sub-s", email="s@kommun.se", groups=["grp-sw"])
    oidc_login(client)
    assert logged_in_user(client).oidc_sub == "sub-s"
    assert oidc.provider_setting("OIDC_OP_LOGOUT_ENDPOINT", "") == ""


@pytest.mark.django_db
def test_a_provider_that_does_not_answer_is_a_message_not_an_error(op, client, settings):
    settings.OIDC_OP_DISCOVERY_URL = "http://127.0.0.1:9/.well-known/openid-configuration"
    settings.OIDC_TIMEOUT = 2
    refused_with(client, client.get(reverse("oidc_authentication_init")), FAILED)


def test_settings_from_the_environment():
    """Off by default; OIDC_RP_CLIENT_ID turns it on, and with it single
    sign-on (no self-service password reset); LOCAL_LOGIN_FOR is checked."""
    from tests.bostadforst.test_settings import PRODUCTION_ENV, run_python

    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE']='bostadforst.settings';"
        "from django.conf import settings as s; "
        "print(bool(s.OIDC_RP_CLIENT_ID), s.SSO_ENABLED, s.OIDC_ROLE_MAP, s.LOCAL_LOGIN_FOR)"
    )
    base = PRODUCTION_ENV
    off = run_python(code, base)
    assert off.stdout.split()[-4:] == ["False", "False", "{}", "all"], off.stderr
    on = run_python(
        code,
        {
            **base,
            "OIDC_RP_CLIENT_ID": "x",
            "OIDC_ROLE_MAP": '{"g":"social_worker"}',
            "LOCAL_LOGIN_FOR": "superusers",
        },
    )
    assert on.stdout.split()[-5:] == ["True", "True", "{'g':", "'social_worker'}", "superusers"]
    bad = run_python(code, {**base, "LOCAL_LOGIN_FOR": "nobody"})
    assert bad.returncode != 0 and "LOCAL_LOGIN_FOR" in bad.stderr
