"""Login with the municipality's OpenID Connect provider (Entra ID, ADFS,
Keycloak …), on mozilla-django-oidc.

On when ``OIDC_RP_CLIENT_ID`` is set (``oidc_enabled``); the provider's
endpoints come from ``OIDC_OP_DISCOVERY_URL`` or the ``OIDC_OP_*`` settings
(which win). What this module adds to the library:

* the ID token is checked in full: signature (RS256 from the provider's JWKS),
  issuer, audience (this client), expiry, nonce, and the authentication
  context ``acr`` when ``OIDC_REQUIRED_ACR`` is set; the library itself skips
  the audience and does not require an expiry;
* users are matched by ``sub`` (``User.oidc_sub``), or on a first login by
  e-mail, and created otherwise; superusers (the local fallback
  administrators) never log in this way;
* the role is read from ``OIDC_ROLE_CLAIM`` through ``OIDC_ROLE_MAP``
  (``bostadforst.sso``) at every login; without a mapped value the login is
  refused with a message saying why;
* with ``OIDC_REQUIRED_ACR`` the provider's strong authentication is the
  second factor (``bostadforst.sso.mark_second_factor``);
* logging out ends the session at the provider as well (RP-initiated logout,
  ``end_session_endpoint``);
* ``LOCAL_LOGIN_FOR = "superusers"`` closes password login to everyone but
  the superusers (``LocalLoginPolicyBackend``).
"""

import logging
import time
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from .sso import mark_second_factor, roles_from_claims, sync_user_role

security_logger = logging.getLogger("bostadforst.security")

SOURCE = "oidc"
ID_TOKEN_SESSION_KEY = "oidc_id_token"
# Clock difference allowed between the provider and this server, in seconds.
LEEWAY = 60

NO_ROLE = _(
    "Your municipal account has no role in Bostad först. Ask your manager or "
    "IT support to add you to the right group."
)
FAILED = _(
    "Login with the municipal account failed. Try again, and contact IT support "
    "if it keeps happening."
)
WEAK_AUTHENTICATION = _(
    "The login at the municipal account did not use the strong authentication "
    "that is required (for example two-factor). Log in again with it."
)
LOCAL_ONLY = _("This account can only log in with its password.")
INACTIVE = _("Your account in Bostad först is turned off.")


class Refused(SuspiciousOperation):
    """The login is refused; ``message`` (Swedish when shown) says why."""

    def __init__(self, message, detail: str = "") -> None:
        super().__init__(detail or str(message))
        self.message = message


def oidc_enabled() -> bool:
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", ""))


# --- The provider's endpoints -------------------------------------------------

_discovered: dict[str, tuple[float, dict]] = {}
DISCOVERY_TTL = 3600

# Our setting name -> the discovery document's key.
DISCOVERY_KEYS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_LOGOUT_ENDPOINT": "end_session_endpoint",
    "OIDC_OP_ISSUER": "issuer",
}


def discovery(url: str) -> dict:
    """The provider's discovery document at ``url`` (kept for an hour)."""
    now = time.monotonic()
    cached = _discovered.get(url)
    if cached and now - cached[0] < DISCOVERY_TTL:
        return cached[1]
    response = requests.get(url, timeout=getattr(settings, "OIDC_TIMEOUT", None) or 10)
    response.raise_for_status()
    document = response.json()
    _discovered[url] = (now, document)
    return document


def provider_setting(name: str, *default):
    """A setting, where the provider's endpoints come from the ``OIDC_OP_*``
    settings or else from the discovery document."""
    if name in DISCOVERY_KEYS:
        value = getattr(settings, name, "") or ""
        if not value and getattr(settings, "OIDC_OP_DISCOVERY_URL", ""):
            value = discovery(settings.OIDC_OP_DISCOVERY_URL).get(DISCOVERY_KEYS[name], "")
        if value:
            return value
        if default:
            return default[0]
        raise ImproperlyConfigured(f"{name} is not set and not in the discovery document")
    return import_from_settings(name, *default)


def _claim(claims: dict, path: str):
    """``claims[path]``, where a dotted path reaches into objects
    (``realm_access.roles``)."""
    value = claims
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


# --- Authentication -----------------------------------------------------------


class OIDCBackend(OIDCAuthenticationBackend):
    """The OpenID Connect login (see the module docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        # The library reads the endpoints here, which would fetch the
        # discovery document on every password login too: they are read when
        # needed instead (the properties below).
        self.UserModel = get_user_model()

    get_settings = staticmethod(provider_setting)

    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: provider_setting("OIDC_OP_TOKEN_ENDPOINT"))
    OIDC_OP_USER_ENDPOINT = property(lambda self: provider_setting("OIDC_OP_USER_ENDPOINT"))
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: provider_setting("OIDC_OP_JWKS_ENDPOINT"))
    OIDC_RP_CLIENT_ID = property(lambda self: settings.OIDC_RP_CLIENT_ID)
    OIDC_RP_CLIENT_SECRET = property(lambda self: settings.OIDC_RP_CLIENT_SECRET)
    OIDC_RP_SIGN_ALGO = property(lambda self: settings.OIDC_RP_SIGN_ALGO)
    OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(self, request, **kwargs):
        if not oidc_enabled() or request is None or "code" not in request.GET:
            return None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token, **kwargs):
        """The library checks the signature (and expiry, when there is one)
        and the nonce; the rest of OpenID Connect Core 3.1.3.7 is here."""
        import jwt

        try:
            payload = super().verify_token(token, **kwargs)
        except jwt.ExpiredSignatureError as exc:
            raise Refused(FAILED, "ID token expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Refused(FAILED, f"ID token invalid: {exc}") from exc
        if kwargs.get("nonce") is None:
            # The userinfo answered as a JWT: signature checked, nothing else.
            return payload
        issuer = provider_setting("OIDC_OP_ISSUER", "")
        if issuer and payload.get("iss") != issuer:
            raise Refused(FAILED, "ID token from another issuer")
        audience = payload.get("aud")
        audience = [audience] if isinstance(audience, str) else list(audience or [])
        client_id = settings.OIDC_RP_CLIENT_ID
        if client_id not in audience:
            raise Refused(FAILED, "ID token for another audience")
        if len(audience) > 1 and payload.get("azp") != client_id:
            raise Refused(FAILED, "ID token authorised for another party")
        now = time.time()
        if not isinstance(payload.get("exp"), int | float) or payload["exp"] < now - LEEWAY:
            raise Refused(FAILED, "ID token without a valid expiry")
        if isinstance(payload.get("iat"), int | float) and payload["iat"] > now + LEEWAY:
            raise Refused(FAILED, "ID token issued in the future")
        if not payload.get("sub"):
            raise Refused(FAILED, "ID token without sub")
        required = required_acr()
        if required and payload.get("acr") not in required:
            raise Refused(WEAK_AUTHENTICATION, f"acr {payload.get('acr')!r} not accepted")
        self._id_claims = payload
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims with the userinfo endpoint's on top (the
        same person: the ``sub`` must match)."""
        claims = dict(payload)
        try:
            info = super().get_userinfo(access_token, id_token, payload)
        except requests.RequestException as exc:
            raise Refused(FAILED, f"userinfo: {exc}") from exc
        if info.get("sub") != payload.get("sub"):
            raise Refused(FAILED, "userinfo sub differs from the ID token's")
        claims.update(info)
        return claims

    def verify_claims(self, claims) -> bool:
        if not claims.get("sub"):
            raise Refused(FAILED, "no sub")
        if user_role(claims) is None:
            raise Refused(NO_ROLE, "no mapped role claim")
        return True

    def filter_users_by_claims(self, claims):
        users = self.UserModel.objects.filter(oidc_sub=claims["sub"])
        if users.exists():
            return users
        email = claims.get("email")
        if not email or not getattr(settings, "OIDC_LINK_BY_EMAIL", True):
            return self.UserModel.objects.none()
        # A first login links an existing local account with this e-mail.
        return self.UserModel.objects.filter(email__iexact=email, oidc_sub__isnull=True)

    def create_user(self, claims):
        user = self.UserModel(
            username=self._free_username(claims),
            email=claims.get("email") or "",
            oidc_sub=claims["sub"],
        )
        user.set_unusable_password()
        self._copy_names(user, claims)
        user.save()
        security_logger.info("oidc user created user_id=%s", user.pk)
        sync_user_role(user, user_role(claims), source=SOURCE)
        return user

    def update_user(self, user, claims):
        if user.is_superuser:
            raise Refused(LOCAL_ONLY, f"superuser user_id={user.pk}")
        if not user.is_active:
            raise Refused(INACTIVE, f"inactive user_id={user.pk}")
        fields = []
        if user.oidc_sub != claims["sub"]:
            user.oidc_sub = claims["sub"]
            fields.append("oidc_sub")
        if claims.get("email") and user.email != claims["email"]:
            user.email = claims["email"]
            fields.append("email")
        fields += self._copy_names(user, claims)
        if fields:
            user.save(update_fields=fields)
        sync_user_role(user, user_role(claims), source=SOURCE)
        return user

    def store_tokens(self, access_token, id_token) -> None:
        # Kept for the logout at the provider; stored in the session after
        # the login, which begins a new one (CallbackView.login_success).
        self.request.oidc_id_token = id_token

    def get_or_create_user(self, access_token, id_token, payload):
        # The library turns a refusal into a silent None: keep the reason.
        try:
            claims = self.get_userinfo(access_token, id_token, payload)
            self.verify_claims(claims)
            users = list(self.filter_users_by_claims(claims)[:2])
            if len(users) > 1:
                raise Refused(FAILED, "several users with this e-mail")
            if users:
                return self.update_user(users[0], claims)
            return self.create_user(claims)
        except Refused as refusal:
            self.request.oidc_refusal = refusal
            if refusal.message is NO_ROLE:
                self._withdraw_role(claims["sub"])
            return None

    def _withdraw_role(self, sub: str) -> None:
        """Removed from every mapped group at the provider: the user keeps no
        role here either, and their other sessions end."""
        from .security import end_sessions

        for user in self.UserModel.objects.filter(oidc_sub=sub, is_superuser=False):
            if sync_user_role(user, None, source=SOURCE):
                end_sessions(user)

    def _free_username(self, claims) -> str:
        import hashlib

        wanted = (claims.get("preferred_username") or claims.get("email") or "").strip()
        wanted = wanted[:150] or "oidc-" + hashlib.sha256(claims["sub"].encode()).hexdigest()[:16]
        if not self.UserModel.objects.filter(username__iexact=wanted).exists():
            return wanted
        suffix = "-" + hashlib.sha256(claims["sub"].encode()).hexdigest()[:8]
        return wanted[: 150 - len(suffix)] + suffix

    @staticmethod
    def _copy_names(user, claims) -> list[str]:
        changed = []
        for field, claim, limit in [
            ("first_name", "given_name", 150),
            ("last_name", "family_name", 150),
        ]:
            value = (claims.get(claim) or "")[:limit]
            if value and getattr(user, field) != value:
                setattr(user, field, value)
                changed.append(field)
        return changed


def required_acr() -> list[str]:
    value = getattr(settings, "OIDC_REQUIRED_ACR", "") or ""
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    return list(value)


def user_role(claims):
    return roles_from_claims(_claim(claims, settings.OIDC_ROLE_CLAIM))


class LocalLoginPolicyBackend:
    """Listed before ``ModelBackend``: with ``LOCAL_LOGIN_FOR = "superusers"``
    a password login of anyone else is refused before the password is checked
    (raising ``PermissionDenied`` stops Django's authentication there). The
    answer is the same as for a wrong password. It has no ``get_user`` (it
    never logs anyone in), so Django never picks it for a session."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        if getattr(settings, "LOCAL_LOGIN_FOR", "all") != "superusers":
            return None
        model = get_user_model()
        user = model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()
        if user is None or not user.is_superuser:
            raise PermissionDenied
        return None


# --- Views --------------------------------------------------------------------


@method_decorator(login_not_required, name="dispatch")
class LoginStartView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider (404 when OIDC is off)."""

    get_settings = staticmethod(provider_setting)

    def __init__(self, *args, **kwargs) -> None:
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def dispatch(self, request, *args, **kwargs):
        if not oidc_enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except (requests.RequestException, ValueError) as exc:
            # The provider's discovery document could not be read.
            security_logger.warning("oidc discovery failed: %s", exc.__class__.__name__)
            messages.error(request, FAILED)
            return HttpResponseRedirect(reverse("login"))
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().dispatch(request, *args, **kwargs)

    def get_extra_params(self, request) -> dict:
        params = dict(getattr(settings, "OIDC_AUTH_REQUEST_EXTRA_PARAMS", {}) or {})
        if required_acr():
            params.setdefault("acr_values", " ".join(required_acr()))
        return params


@method_decorator(login_not_required, name="dispatch")
class CallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer: a session, or the login page with the reason."""

    get_settings = staticmethod(provider_setting)

    def dispatch(self, request, *args, **kwargs):
        if not oidc_enabled():
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        try:
            return super().get(request)
        except Refused as refusal:
            request.oidc_refusal = refusal
        except (SuspiciousOperation, requests.RequestException, ValueError) as exc:
            security_logger.warning("oidc callback failed: %s", exc.__class__.__name__)
        return self.login_failure()

    def login_success(self):
        response = super().login_success()
        request = self.request
        id_token = getattr(request, "oidc_id_token", None)
        if id_token:
            request.session[ID_TOKEN_SESSION_KEY] = id_token
        if required_acr():
            # verify_token refused any other acr.
            mark_second_factor(request)
        return response

    def login_failure(self):
        refusal = getattr(self.request, "oidc_refusal", None)
        if refusal is not None:
            security_logger.warning("oidc login refused: %s", refusal)
        messages.error(self.request, refusal.message if refusal is not None else FAILED)
        return HttpResponseRedirect(reverse("login"))

    @property
    def success_url(self):
        from .security import safe_next

        return safe_next(
            self.request,
            self.request.session.get("oidc_login_next"),
            reverse(settings.LOGIN_REDIRECT_URL),
        )


class LogoutView(auth_views.LogoutView):
    """Django's logout; a session that began at the OpenID provider is also
    ended there (RP-initiated logout), which sends the browser back to the
    login page."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get(ID_TOKEN_SESSION_KEY)
        response = super().post(request, *args, **kwargs)
        if not (id_token and oidc_enabled()):
            return response
        try:
            endpoint = provider_setting("OIDC_OP_LOGOUT_ENDPOINT", "")
        except (requests.RequestException, ValueError):
            endpoint = ""
        if not endpoint:
            return response
        query = urlencode(
            {
                "id_token_hint": id_token,
                "client_id": settings.OIDC_RP_CLIENT_ID,
                "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
            }
        )
        return HttpResponseRedirect(f"{endpoint}?{query}")
