"""Request guards that apply to every page."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from .access_log import log_denied
from .permissions import PUBLIC, SELF_GUARDED_NAMESPACES, allowed_roles
from .roles import role_of


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
        if roles is None or role_of(request.user) not in roles:
            log_denied(request)
            raise PermissionDenied
        return None


class SessionLimitsMiddleware:
    """End a session after ``SESSION_IDLE_TIMEOUT`` seconds without a request.

    The absolute limit (10 hours) is the session cookie's age; the idle limit
    is kept here because Django's own expiry is reset on every save.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get("last_activity", now)
            if now - last > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                return redirect(f"{settings.LOGIN_URL}" if "/" in settings.LOGIN_URL else "login")
            # The keep-alive ping only reads; it must not count as activity
            # when it comes from an idle tab's timer.
            match = getattr(request, "resolver_match", None)
            if not (match and match.view_name == "session-ping"):
                request.session["last_activity"] = now
        return self.get_response(request)


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
