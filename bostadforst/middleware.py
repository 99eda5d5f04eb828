"""Request guards that apply to every page."""

import re
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .access_log import log_denied
from .identity import streamed_as, viewing_as
from .models import UserSession
from .permissions import PUBLIC, SELF_GUARDED_NAMESPACES, allowed_roles, scope_refuses
from .roles import role_of
from .security import otp_required
from .sso import apply_second_factor


class IdentityViewerMiddleware:
    """Read every row of the request, and of a streamed response's body, on
    the user's behalf (``bostadforst.identity``: protected identities)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with viewing_as(request.user) as viewer:
            response = self.get_response(request)
        if response.streaming:
            response.streaming_content = streamed_as(viewer, response.streaming_content)
        return response


class PermissionTableMiddleware:
    """Refuse any page the user's role is not granted in ``ACCESS_TABLE``.

    Runs after ``LoginRequiredMiddleware``, so anonymous users have already
    been sent to the login page; a URL missing from the table is refused for
    every role (closed by default).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or match.view_name in PUBLIC:
            return None
        if SELF_GUARDED_NAMESPACES.intersection(match.namespaces):
            return None
        if not request.user.is_authenticated:
            return None
        roles = allowed_roles(match.view_name)
        refused = roles is None or role_of(request.user) not in roles
        if refused or scope_refuses(request.user, match.view_name):
            log_denied(request)
            raise PermissionDenied
        return None


class SessionLimitsMiddleware:
    """End a session after ``SESSION_IDLE_TIMEOUT`` seconds without activity,
    and ``SESSION_ABSOLUTE_TIMEOUT`` seconds after login whatever the activity.

    Django's own expiry is reset on every save, so neither limit can be left to
    the cookie. A GET of the keep-alive URL only asks how long is left (the
    idle warning's timer in another tab): it must not count as activity, or an
    idle tab would keep the session alive forever. A POST to it is the user
    pressing "continue" (or typing in a form) and does count.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._ping_path = None

    def _is_status_check(self, request) -> bool:
        if self._ping_path is None:
            self._ping_path = reverse("session-ping")
        return request.path_info == self._ping_path and request.method in ("GET", "HEAD")

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get("last_activity", now)
            login_at = request.session.get("login_at", now)
            # ">=": when the keep-alive URL says 0 seconds are left, the
            # session has ended (the idle warning's script relies on it).
            idle = now - last >= settings.SESSION_IDLE_TIMEOUT
            too_old = now - login_at >= settings.SESSION_ABSOLUTE_TIMEOUT
            if idle or too_old:
                # Only this session ends: an idle tab on one device must not log
                # the user out of a phone in use elsewhere (an explicit logout does).
                UserSession.objects.filter(session_key=request.session.session_key).delete()
                request.session.flush()
                request.user = AnonymousUser()
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if "login_at" not in request.session:
                request.session["login_at"] = now
            if not self._is_status_check(request):
                request.session["last_activity"] = now
        return self.get_response(request)


class LoginStepMiddleware:
    """A step a logged-in user must take before anything else: while
    ``pending(user)``, every page but ``ALLOWED`` (and the public ones) sends
    them to ``detour(request)``."""

    ALLOWED: frozenset[str] = frozenset()

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def pending(self, user) -> bool:
        raise NotImplementedError

    def detour(self, request):
        raise NotImplementedError

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or not self.pending(user):
            return None
        match = request.resolver_match
        if match is not None and (match.view_name in self.ALLOWED or match.view_name in PUBLIC):
            return None
        return self.detour(request)


class TwoFactorMiddleware(LoginStepMiddleware):
    """Until a user whose role needs two-factor login has entered a TOTP code,
    every page but the code step itself (and logout) sends them to it.

    Runs after django-otp's ``OTPMiddleware`` (which sets ``is_verified``) and
    before the permission table, so the admin site is covered as well. A
    single sign-on whose provider vouched for the required strong
    authentication counts as the second factor (``bostadforst.sso``).
    """

    ALLOWED = frozenset({"otp-verify", "otp-enrol", "logout", "session-ping", "set_language"})

    def __call__(self, request):
        apply_second_factor(request)
        return self.get_response(request)

    def pending(self, user) -> bool:
        return otp_required(user) and not user.is_verified()

    def detour(self, request):
        target = reverse("otp-verify")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)


class PasswordChangeRequiredMiddleware(LoginStepMiddleware):
    """A user whose password someone else set (``User.must_change_password``,
    see ``bostadforst.passwords``) reaches nothing but the password page (and
    logout, the session's keep-alive and the language switch) until they have
    chosen their own, so a password an administrator knows is good for one
    login only.

    Runs after ``TwoFactorMiddleware``: the code step comes first, since the
    password alone does not prove who is at the keyboard. Static files never
    reach it (WhiteNoise answers them first).
    """

    ALLOWED = frozenset({"password_change", *TwoFactorMiddleware.ALLOWED})
    message = _(
        "A password that an administrator has set is for the first login only. "
        "Choose your own password to continue."
    )

    def pending(self, user) -> bool:
        return getattr(user, "must_change_password", False)

    def detour(self, request):
        messages.warning(request, self.message)
        return HttpResponseRedirect(reverse("password_change"))


class NoStoreMiddleware:
    """Tell browsers and proxies never to store a page with personal data."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
            response["Cache-Control"] = "no-store, private"
            response["Pragma"] = "no-cache"
        return response


class SwedishFirstLocaleMiddleware:
    """Swedish unless the user chose another language (the language cookie).

    Django's LocaleMiddleware follows the browser's Accept-Language, which
    would show English to anyone whose browser happens to be English; the
    municipality's interface is Swedish by default and English on request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        available = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class UnstorableInputMiddleware:
    """Answer 400 for a request whose path or query string holds control
    characters or an overlong value, or whose POSTed form holds a NUL.

    PostgreSQL cannot store NUL in text, so a NUL that reaches a filter or a
    save is a 500 (``?q=a%00b`` on the apartment list was one); checking here
    covers every view, present and future, before any of them or the access
    log sees the input. No link or GET form of the project produces control
    characters other than tab and line breaks (pasted into a search box), nor
    a value longer than ``MAX_QUERY_VALUE_LENGTH``, so those are refused in the
    path and the query string. POSTed values are refused for NUL only: a note
    pasted into a form may carry a form feed or a vertical tab, which the
    database stores, and a 400 would throw the note away; length is the
    form's concern, reported next to the field. Uploaded files are not read.

    Listed after ``CSPMiddleware``, so the page has its nonce and the security
    headers of the middleware above, and before any view hook runs.
    """

    MAX_QUERY_VALUE_LENGTH = 2000
    # C0 and C1 controls and DEL, except tab, line feed and carriage return.
    CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
    message = _(
        "The address or the form contained characters that cannot be saved, "
        "or a value that is too long."
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._query_unstorable(request) or self._form_unstorable(request):
            return render(request, "400.html", {"reason": self.message}, status=400)
        return self.get_response(request)

    def _query_unstorable(self, request) -> bool:
        if self.CONTROL.search(request.path_info):
            return True
        return any(
            len(text) > self.MAX_QUERY_VALUE_LENGTH or self.CONTROL.search(text)
            for key, values in request.GET.lists()
            for text in (key, *values)
        )

    def _form_unstorable(self, request) -> bool:
        if request.method != "POST":
            return False
        return any(
            "\x00" in text for key, values in request.POST.lists() for text in (key, *values)
        )
