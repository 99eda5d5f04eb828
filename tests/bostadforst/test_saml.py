"""SAML 2.0 login against a real pysaml2 IdP run inside the test
(tests/saml_idp.py): the app's signed AuthnRequest goes to the IdP, the IdP's
signed Response comes back to the ACS through Django's test client."""

import base64
import logging

import pytest
import saml2.time_util
from django.test import override_settings
from django.urls import reverse

from bostadforst.models import RoleGrant, User
from bostadforst.roles import Role, role_of

from ..saml_idp import SMARTCARD, XMLSEC, SamlWorld

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        XMLSEC is None,
        reason="xmlsec1 is not installed (apt-get install xmlsec1): the SAML tests need it",
    ),
]

NO_ROLE = "har inget konto med roll i Bostad först"


@pytest.fixture
def world(tmp_path, client):
    w = SamlWorld(tmp_path)
    with override_settings(**w.settings()):
        w.sp_metadata.write_bytes(client.get(reverse("saml2-metadata")).content)
        yield w


def start_login(client, next_path="/"):
    response = client.get(reverse("saml2-login"), {"next": next_path})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def login_as(client, world, name_id, attributes, **kwargs):
    location = start_login(client)
    data = world.idp_answer(location, name_id=name_id, attributes=attributes, **kwargs)
    return client.post(reverse("saml2-acs"), data)


def test_off_by_default(client):
    for name in ("saml2-login", "saml2-acs", "saml2-metadata"):
        assert client.get(reverse(name)).status_code == 404
    page = client.get(reverse("login")).content.decode()
    assert reverse("saml2-login") not in page


def test_metadata_and_login_button(client, world):
    metadata = client.get(reverse("saml2-metadata"))
    assert metadata.status_code == 200
    text = metadata.content.decode()
    assert 'entityID="https://bostadforst.test.example/saml2/metadata/"' in text
    assert 'AuthnRequestsSigned="true"' in text
    assert 'WantAssertionsSigned="true"' in text
    assert "http://testserver/saml2/acs/" in text
    page = client.get(reverse("login")).content.decode()
    assert reverse("saml2-login") in page
    assert "Logga in med e-legitimation (SAML)" in page


def test_full_dance_creates_user_with_role(client, world):
    location = start_login(client, "/participants/")
    assert location.startswith("https://idp.test.example/sso?")
    # The IdP checks the request's signature with the SP's certificate.
    world.read_request(location)
    data = world.idp_answer(
        location,
        name_id="anna.svensson",
        attributes={"groups": ["bf-boendestod", "other"], "mail": ["anna@kommun.example"]},
    )
    response = client.post(reverse("saml2-acs"), data)
    assert response.status_code == 302
    assert response["Location"] == "/participants/"
    user = User.objects.get(username="anna.svensson")
    assert role_of(user) == Role.SUPPORT_STAFF
    assert user.email == "anna@kommun.example"
    assert not user.has_usable_password()
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get(reverse("home")).status_code == 200
    assert RoleGrant.objects.filter(user=user, grant="support_staff", granted=True).exists()


def refused_because(caplog) -> set[str]:
    """The exception types the ACS refused with (bostadforst.saml logs them)."""
    prefix = "saml login failed: "
    return {
        r.getMessage()[len(prefix) :] for r in caplog.records if r.getMessage().startswith(prefix)
    }


def test_tampered_assertion_is_refused(client, world, caplog):
    location = start_login(client)
    data = world.idp_answer(location, name_id="eve", attributes={"groups": ["bf-boendestod"]})
    xml = base64.b64decode(data["SAMLResponse"]).decode()
    assert "bf-boendestod" in xml
    data["SAMLResponse"] = base64.b64encode(
        xml.replace("bf-boendestod", "bf-enhetschef").encode()
    ).decode()
    response = client.post(reverse("saml2-acs"), data)
    assert response.status_code == 403
    assert "e-legitimation" in response.content.decode()
    assert refused_because(caplog) == {"SignatureError"}
    assert not User.objects.filter(username="eve").exists()
    assert "_auth_user_id" not in client.session


def _sp_clock_ahead(monkeypatch, seconds):
    """The SP's clock (pysaml2's "now" when it checks NotOnOrAfter) runs
    ``seconds`` ahead: the response arrives that much later."""
    real = saml2.time_util.utc_now
    monkeypatch.setattr(saml2.time_util, "utc_now", lambda: real() + seconds)


def test_expired_assertion_is_refused(client, world, caplog, monkeypatch):
    location = start_login(client)
    data = world.idp_answer(location, name_id="old", attributes={"groups": ["bf-boendestod"]})
    # The IdP's assertion lives 5 minutes; the skew allowed is 60 seconds.
    _sp_clock_ahead(monkeypatch, 5 * 60 + 60 + 30)
    response = client.post(reverse("saml2-acs"), data)
    assert response.status_code == 403
    assert refused_because(caplog) == {"ResponseLifetimeExceed"}
    assert not User.objects.filter(username="old").exists()


def test_late_assertion_within_clock_skew_is_accepted(client, world, monkeypatch):
    location = start_login(client)
    data = world.idp_answer(location, name_id="late", attributes={"groups": ["bf-boendestod"]})
    _sp_clock_ahead(monkeypatch, 5 * 60 + 30)
    assert client.post(reverse("saml2-acs"), data).status_code == 302
    assert role_of(User.objects.get(username="late")) == Role.SUPPORT_STAFF


def test_wrong_audience_is_refused(client, world, caplog):
    caplog.set_level(logging.DEBUG, logger="saml2.response")
    response = login_as(
        client,
        world,
        "mallory",
        {"groups": ["bf-boendestod"]},
        audience="https://other-app.example/sp",
    )
    assert response.status_code == 403
    assert refused_because(caplog) == {"Exception"}
    assert "AudienceRestriction - One condition not satisfied" in caplog.text
    assert not User.objects.filter(username="mallory").exists()


def test_missing_role_attribute_is_refused_in_swedish(client, world):
    response = login_as(client, world, "nils", {"mail": ["nils@kommun.example"]})
    assert response.status_code == 403
    assert NO_ROLE in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_removed_from_group_loses_role_at_next_login(client, world):
    assert login_as(client, world, "karin", {"groups": ["bf-enhetschef"]}).status_code == 302
    karin = User.objects.get(username="karin")
    assert role_of(karin) == Role.UNIT_MANAGER
    client.post(reverse("logout"))

    # Moved to another group: the role follows.
    assert login_as(client, world, "karin", {"groups": ["bf-boendestod"]}).status_code == 302
    karin = User.objects.get(pk=karin.pk)
    assert role_of(karin) == Role.SUPPORT_STAFF
    client.post(reverse("logout"))

    # Removed from every mapped group: refused, and the role is gone.
    response = login_as(client, world, "karin", {"groups": ["some-other-group"]})
    assert response.status_code == 403
    assert NO_ROLE in response.content.decode()
    karin = User.objects.get(pk=karin.pk)
    assert role_of(karin) is None
    assert not karin.groups.exists()


def test_disabled_account_and_local_superuser_are_refused(client, world):
    User.objects.create(username="gone", is_active=False)
    User.objects.create_superuser(username="root", password="x" * 20)
    assert login_as(client, world, "gone", {"groups": ["bf-boendestod"]}).status_code == 403
    assert login_as(client, world, "root", {"groups": ["bf-enhetschef"]}).status_code == 403
    assert not User.objects.get(username="gone").groups.exists()


def test_unsolicited_response_is_refused(client, world, caplog):
    location = start_login(client)
    data = world.idp_answer(location, name_id="lisa", attributes={"groups": ["bf-boendestod"]})
    client.cookies.clear()  # another browser: it never sent this request
    response = client.post(reverse("saml2-acs"), data)
    assert response.status_code == 403
    assert refused_because(caplog) == {"UnsolicitedResponse"}
    assert not User.objects.filter(username="lisa").exists()


@override_settings(OTP_REQUIRED_FOR_PRIVILEGED=True)
def test_without_required_context_a_manager_still_takes_the_code_step(client, world):
    assert login_as(client, world, "chef", {"groups": ["bf-enhetschef"]}).status_code == 302
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("otp-verify"))


@override_settings(OTP_REQUIRED_FOR_PRIVILEGED=True, SAML_REQUIRED_AUTHN_CONTEXT=[SMARTCARD])
def test_required_context_is_requested_and_counts_as_second_factor(client, world):
    location = start_login(client)
    _server, authn_request, _query = world.read_request(location)
    requested = authn_request.requested_authn_context
    assert [ref.text for ref in requested.authn_context_class_ref] == [SMARTCARD]
    data = world.idp_answer(location, name_id="chef", attributes={"groups": ["bf-enhetschef"]})
    assert client.post(reverse("saml2-acs"), data).status_code == 302
    assert client.get(reverse("home")).status_code == 200


@override_settings(SAML_REQUIRED_AUTHN_CONTEXT=["http://id.elegnamnden.se/loa/1.0/loa3"])
def test_weaker_context_is_refused_in_swedish(client, world):
    response = login_as(
        client,
        world,
        "svag",
        {"groups": ["bf-boendestod"]},
        authn_class="urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
    )
    assert response.status_code == 403
    assert "tillräckligt stark" in response.content.decode()
    assert not User.objects.filter(username="svag").exists()


def test_metadata_url_that_does_not_answer_is_a_swedish_503(client, world):
    with override_settings(
        SAML_IDP_METADATA_FILE="", SAML_IDP_METADATA_URL="http://127.0.0.1:9/metadata.xml"
    ):
        response = client.get(reverse("saml2-login"))
    assert response.status_code == 503
    assert "kan inte nås just nu" in response.content.decode()


def test_remote_metadata_is_fetched_once(client, world, monkeypatch):
    from bostadforst import saml

    fetched = []
    real_load = saml.SPConfig.load

    def counting_load(self, config, *args, **kwargs):
        fetched.append(config["metadata"])
        return real_load(self, {**config, "metadata": {"local": [str(world.idp_metadata)]}})

    monkeypatch.setattr(saml.SPConfig, "load", counting_load)
    monkeypatch.setattr(saml, "_cache", {})
    with override_settings(
        SAML_IDP_METADATA_FILE="", SAML_IDP_METADATA_URL="https://idp.test.example/md.xml"
    ):
        response = login_as(client, world, "anna", {"groups": ["bf-boendestod"]})
    assert response.status_code == 302
    assert fetched == [{"remote": [{"url": "https://idp.test.example/md.xml"}]}]
