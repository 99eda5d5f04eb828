"""SAML 2.0 login (djangosaml2 on pysaml2), for SITHS eID through Inera's IdP,
Sweden Connect and other SAML identity providers.

Off unless configured (``settings.SAML_ENABLED``: the IdP's metadata, the SP's
entity id and its signing key and certificate are all set); while off, every
SAML URL answers 404 and the login page offers no SAML button.

- The SP's metadata is served at ``saml2-metadata`` (give it to the IdP).
- AuthnRequests are signed (RSA-SHA256, HTTP-Redirect binding); assertions
  must be signed, responses must answer a request this browser made
  (no unsolicited responses), and the audience must be our entity id.
  ``SAML_CLOCK_SKEW`` seconds of clock difference are accepted.
- The user is found by the NameID (or ``SAML_USERNAME_ATTRIBUTE``) as
  username, created when unknown; the role comes from ``SAML_ROLE_ATTRIBUTE``
  through the same mapping as OpenID Connect (``bostadforst.sso``;
  ``SAML_ROLE_MAP`` when set, else ``OIDC_ROLE_MAP``) and is set again at every
  login: a user removed from the group loses the role at the next login, and a
  login without a mapped role is refused with a Swedish message.
- With ``SAML_REQUIRED_AUTHN_CONTEXT`` the AuthnRequest asks for those
  AuthnContextClassRefs, an assertion with none of them is refused, and the
  login counts as the second factor; without it, a role that needs two-factor
  login still takes the TOTP step after SAML.
- Local superusers (the fallback administrators) are never matched: they log
  in with password and code only.
"""

import logging
import os
import shutil
import threading
import time

import requests
import saml2
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.decorators import login_not_required
from django.core import checks
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import decorator_from_middleware, method_decorator
from django.utils.translation import gettext as _
from djangosaml2 import views as saml_views
from djangosaml2.middleware import SamlSessionMiddleware
from saml2.config import SPConfig
from saml2.httpbase import ConnectionError as Saml2ConnectionError
from saml2.mdstore import SourceNotFound
from saml2.saml import AuthnContextClassRef
from saml2.samlp import RequestedAuthnContext
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from .models import User
from .sso import mark_second_factor, roles_from_claims, sync_user_role

logger = logging.getLogger("bostadforst.security")

SOURCE = "saml"


def saml_enabled() -> bool:
    return bool(getattr(settings, "SAML_ENABLED", False))


def xmlsec_binary() -> str | None:
    return getattr(settings, "SAML_XMLSEC_BINARY", "") or shutil.which("xmlsec1")


# The files the SAML settings name, and what each must hold (PEM markers).
SAML_FILES = {
    "SAML_SP_KEY_FILE": ("the SP's private key", "PRIVATE KEY-----"),
    "SAML_SP_CERT_FILE": ("the SP's certificate", "-----BEGIN CERTIFICATE-----"),
    "SAML_IDP_METADATA_CERT": (
        "the IdP metadata's signing certificate",
        "-----BEGIN CERTIFICATE-----",
    ),
    "SAML_IDP_METADATA_FILE": ("the IdP's metadata", "EntityDescriptor"),
}


@checks.register(checks.Tags.security)
def check_saml_files(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """With SAML on, every file its settings name is readable and of its kind,
    and xmlsec1 is found: a mistake then stops ``manage.py check`` and
    ``migrate`` (the compose file's migrate job, which web waits for) with
    the setting named, instead of the first e-ID login failing with a 500.

    Registered when this module is imported (bostadforst.apps does so while
    SAML is on, before the checks run)."""
    if not saml_enabled():
        return []
    errors: list[checks.CheckMessage] = []
    for number, (setting, (what, marker)) in enumerate(SAML_FILES.items(), start=1):
        path = getattr(settings, setting, "")
        if not path:
            continue
        try:
            with open(path, encoding="utf-8", errors="replace") as file:
                text = file.read(1_000_000)
        except OSError as error:
            errors.append(
                checks.Error(
                    f"{setting} names {path!r}, {what}, which cannot be read: "
                    f"{error.strerror or type(error).__name__}.",
                    hint="Mount the file into the container and check its owner and mode "
                    "(readable by the app's user).",
                    id=f"bostadforst.E1{number:02d}",
                )
            )
            continue
        if marker not in text:
            errors.append(
                checks.Error(
                    f"{setting} names {path!r}, which does not hold {what} (no {marker!r} in it).",
                    hint="Give the PEM file (or, for the metadata, the IdP's XML).",
                    id=f"bostadforst.E1{number:02d}",
                )
            )
    binary = xmlsec_binary()
    if not binary or not os.access(binary, os.X_OK):
        errors.append(
            checks.Error(
                f"xmlsec1, which signs and verifies SAML messages, is not found "
                f"({binary or 'not on PATH'}).",
                hint="apt-get install xmlsec1, or set SAML_XMLSEC_BINARY to its path.",
                id="bostadforst.E110",
            )
        )
    return errors


def sp_config_dict(base_url: str) -> dict:
    """The pysaml2 SP configuration built from the ``SAML_*`` settings;
    ``base_url`` is this site's scheme and host (``https://host``)."""
    acs = base_url + reverse("saml2-acs")
    if settings.SAML_IDP_METADATA_FILE:
        metadata = {"local": [str(settings.SAML_IDP_METADATA_FILE)]}
    else:
        remote = {"url": settings.SAML_IDP_METADATA_URL}
        if settings.SAML_IDP_METADATA_CERT:
            remote["cert"] = str(settings.SAML_IDP_METADATA_CERT)
        metadata = {"remote": [remote]}
    keypair = {
        "key_file": str(settings.SAML_SP_KEY_FILE),
        "cert_file": str(settings.SAML_SP_CERT_FILE),
    }
    return {
        "entityid": settings.SAML_SP_ENTITY_ID,
        "xmlsec_binary": xmlsec_binary(),
        "allow_unknown_attributes": True,
        "accepted_time_diff": settings.SAML_CLOCK_SKEW,
        # Seconds to wait for the IdP's metadata URL (never a hung worker).
        "http_client_timeout": 10,
        "metadata": metadata,
        "key_file": keypair["key_file"],
        "cert_file": keypair["cert_file"],
        "encryption_keypairs": [keypair],
        "service": {
            "sp": {
                "name": "Bostad först",
                "endpoints": {"assertion_consumer_service": [(acs, saml2.BINDING_HTTP_POST)]},
                "authn_requests_signed": True,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "allow_unsolicited": False,
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "force_authn": False,
            }
        },
    }


class MetadataUnavailable(Exception):
    """The IdP's metadata could not be read (its URL does not answer)."""


class SamlMisconfigured(Exception):
    """This SP's own files (key, certificate, local metadata) cannot be loaded:
    a deployment that skipped ``manage.py check`` (check_saml_files)."""


# Remote metadata is fetched once per METADATA_CACHE_SECONDS and process, not
# at every login step (pysaml2 fetches it whenever a config is loaded).
METADATA_CACHE_SECONDS = 600
_cache: dict[tuple, tuple[float, SPConfig]] = {}
_cache_lock = threading.Lock()


def sp_config(request=None) -> SPConfig:
    """djangosaml2's config loader (``SAML_CONFIG_LOADER``)."""
    if not saml_enabled():
        raise Http404
    base = settings.SAML_SP_BASE_URL.rstrip("/")
    if not base and request is not None:
        base = f"{request.scheme}://{request.get_host()}"
    config = sp_config_dict(base)
    remote = not settings.SAML_IDP_METADATA_FILE
    key = (base, repr(sorted(config.items(), key=lambda item: item[0])))
    if remote:
        with _cache_lock:
            cached = _cache.get(key)
        if cached and time.monotonic() - cached[0] < METADATA_CACHE_SECONDS:
            return cached[1]
    conf = SPConfig()
    try:
        conf.load(config)
    except (SourceNotFound, Saml2ConnectionError, requests.RequestException) as error:
        logger.error("saml: the IdP's metadata could not be read: %s", type(error).__name__)
        raise MetadataUnavailable from error
    except (OSError, ValueError) as error:  # a missing file, a file that is no PEM
        problems = " ".join(m.msg for m in check_saml_files()) or type(error).__name__
        logger.error("saml: the SAML configuration cannot be loaded: %s", problems)
        raise SamlMisconfigured from error
    if remote:
        with _cache_lock:
            _cache.clear()  # one configuration at a time
            _cache[key] = (time.monotonic(), conf)
    return conf


def _first(attributes: dict, name: str) -> str:
    values = attributes.get(name) or []
    if isinstance(values, str):
        return values
    return str(values[0]) if values else ""


class SamlBackend(ModelBackend):
    """Authenticates the subject of a verified SAML assertion (called by
    djangosaml2's ACS view with ``session_info``). Raises PermissionDenied
    with a Swedish message when the user may not log in."""

    def authenticate(self, request, session_info=None, **kwargs):
        if session_info is None or not saml_enabled():
            return None
        try:
            return self._authenticate(session_info)
        except PermissionDenied as refusal:
            # Django's authenticate() swallows the exception (the login then
            # fails with djangosaml2's English text): keep the reason for the page.
            if request is not None:
                request.saml_refusal = str(refusal.args[0]) if refusal.args else ""
            raise

    def _authenticate(self, session_info):
        attributes = session_info.get("ava") or {}
        if settings.SAML_USERNAME_ATTRIBUTE:
            username = _first(attributes, settings.SAML_USERNAME_ATTRIBUTE)
        else:
            name_id = session_info.get("name_id")
            username = getattr(name_id, "text", "") or ""
        username = username.strip()[:150]
        if not username:
            raise PermissionDenied(_("The identity provider did not say who you are."))
        required = set(settings.SAML_REQUIRED_AUTHN_CONTEXT)
        contexts = {info[0] for info in session_info.get("authn_info") or []}
        if required and not (required & contexts):
            logger.warning("saml login refused: authentication context not accepted")
            raise PermissionDenied(
                _(
                    "The login with e-ID did not use a method strong enough for Bostad först. "
                    "Log in with your e-ID card or another accepted e-ID."
                )
            )
        user = User.objects.filter(username=username).first()
        if user is not None and user.is_superuser:
            logger.warning("saml login refused: local superuser user_id=%s", user.pk)
            raise PermissionDenied(
                _("This account logs in with password and code only, not with e-ID.")
            )
        if user is not None and not user.is_active:
            raise PermissionDenied(_("Your account is disabled."))
        mapping = settings.SAML_ROLE_MAP or None
        role = roles_from_claims(attributes.get(settings.SAML_ROLE_ATTRIBUTE), mapping)
        if role is None:
            if user is not None:
                # Removed from every mapped group at the provider: the role goes now.
                sync_user_role(user, None, source=SOURCE)
            logger.warning(
                "saml login refused: no mapped role user_id=%s", getattr(user, "pk", None)
            )
            raise PermissionDenied(
                _(
                    "Your account at the identity provider has no role in Bostad först. "
                    "Ask your manager or IT support to add you to the right group."
                )
            )
        if user is None:
            user = User(username=username)
            user.set_unusable_password()
        user.email = _first(attributes, settings.SAML_EMAIL_ATTRIBUTE)[:254] or user.email
        user.first_name = _first(attributes, "givenName")[:150] or user.first_name
        user.last_name = _first(attributes, "sn")[:150] or user.last_name
        user.save()
        sync_user_role(user, role, source=SOURCE)
        return user


_saml_session = decorator_from_middleware(SamlSessionMiddleware)


class _Enabled:
    def dispatch(self, request, *args, **kwargs):
        if not saml_enabled():
            raise Http404
        try:
            return super().dispatch(request, *args, **kwargs)
        except MetadataUnavailable:
            message = _(
                "The identity provider for e-ID cannot be reached right now. Try again in a while."
            )
            return render(request, "registration/saml_error.html", {"message": message}, status=503)
        except SamlMisconfigured:
            message = _(
                "Login with e-ID is not set up correctly on this server. Contact IT support."
            )
            return render(request, "registration/saml_error.html", {"message": message}, status=503)


@method_decorator([login_not_required, _saml_session], name="dispatch")
class LoginView(_Enabled, saml_views.LoginView):
    """Sends the browser to the IdP with a signed AuthnRequest."""

    def load_sso_kwargs(self, sso_kwargs):
        required = settings.SAML_REQUIRED_AUTHN_CONTEXT
        if required:
            sso_kwargs["requested_authn_context"] = RequestedAuthnContext(
                authn_context_class_ref=[AuthnContextClassRef(text=ref) for ref in required],
                comparison="exact",
            )


@method_decorator([login_not_required, _saml_session], name="dispatch")
class AssertionConsumerServiceView(_Enabled, saml_views.AssertionConsumerServiceView):
    """Receives the IdP's signed Response (POST binding)."""

    def post_login_hook(self, request, user, session_info):
        # The backend has checked the authentication context: it is the
        # second factor (bostadforst.sso; TwoFactorMiddleware).
        if settings.SAML_REQUIRED_AUTHN_CONTEXT:
            mark_second_factor(request)

    def handle_acs_failure(self, request, exception=None, status=403, **kwargs):
        message = getattr(request, "saml_refusal", "")
        if not message:
            message = _(
                "The login with e-ID could not be completed: the answer from the identity "
                "provider was not valid or has expired. Try again."
            )
        logger.warning("saml login failed: %s", type(exception).__name__)
        return render(request, "registration/saml_error.html", {"message": message}, status=status)


@method_decorator(login_not_required, name="dispatch")
class MetadataView(_Enabled, saml_views.MetadataView):
    """This SP's metadata, for the IdP."""
