"""Login in two steps (password, then a TOTP code when the role requires it),
enrolment of a TOTP device, a password change that ends other sessions, and
the self-service password reset by e-mail (Django's views, when enabled)."""

import base64
import logging

import segno
from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, View
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from .access_log import client_ip, log_access
from .models import AccessLogEntry
from .password_reset import password_reset_enabled, password_reset_request
from .passwords import OwnPasswordChangeForm, ResetSetPasswordForm
from .security import otp_required, record_session, safe_next

OTP_STEP_NAMES = frozenset({"otp-verify", "otp-enrol"})

security_logger = logging.getLogger("bostadforst.security")


class LoginView(auth_views.LoginView):
    """Password step. A user whose role needs a second factor continues to the
    TOTP step (or to enrolment) with the same, already validated ``next``."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["otp_off"] = not (
            settings.OTP_REQUIRED_FOR_PRIVILEGED or settings.OTP_REQUIRED_FOR_ALL
        )
        context["password_reset_enabled"] = password_reset_enabled()
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        if otp_required(user):
            step = "otp-verify" if user_has_device(user, confirmed=True) else "otp-enrol"
            target = reverse(step)
            nxt = self.get_redirect_url()
            if nxt:
                target += "?" + f"next={_quote(nxt)}"
            return HttpResponseRedirect(target)
        return response


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="/")


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from the authenticator app"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        error_messages={"required": _("Enter the six-digit code.")},
    )

    error_messages = {"invalid": _("The code is not correct. Try the newest code in the app.")}

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split())
        if not token.isdigit():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return token


class _OTPStepMixin:
    def get_success_url(self) -> str:
        return safe_next(
            self.request,
            self.request.POST.get("next") or self.request.GET.get("next"),
            resolve_url(settings.LOGIN_REDIRECT_URL),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["next"] = safe_next(self.request, self.request.GET.get("next"), "")
        return context

    def _refuse(self, form):
        log_access(action=AccessLogEntry.Action.LOGIN_FAILED, request=self.request, model="otp")
        form.add_error("token", form.error_messages["invalid"])
        return self.form_invalid(form)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class OTPVerifyView(_OTPStepMixin, FormView):
    """Second step: a code from the user's confirmed TOTP device."""

    form_class = TokenForm
    template_name = "registration/otp_verify.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_verified():
            return HttpResponseRedirect(self.get_success_url())
        if not user_has_device(request.user, confirmed=True):
            return HttpResponseRedirect(reverse("otp-enrol"))
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        device = match_token(self.request.user, form.cleaned_data["token"])
        if device is None:
            return self._refuse(form)
        otp_login(self.request, device)
        return HttpResponseRedirect(self.get_success_url())


class OTPEnrolView(_OTPStepMixin, FormView):
    """First login of a user without a device: scan the QR code, confirm a code.

    The QR code is an inline SVG made on the server (segno), so the secret
    never leaves the site and the CSP needs no external image source.
    """

    form_class = TokenForm
    template_name = "registration/otp_enrol.html"

    def dispatch(self, request, *args, **kwargs):
        if not otp_required(request.user):
            return HttpResponseRedirect(self.get_success_url())
        if user_has_device(request.user, confirmed=True):
            return HttpResponseRedirect(reverse("otp-verify"))
        if not request.user.may_enrol_otp():
            log_access(action=AccessLogEntry.Action.DENIED, request=request, model="otp")
            return render(request, "registration/otp_enrol_closed.html", status=403)
        self.device = (
            TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("pk").first()
        )
        if self.device is None:
            self.device = TOTPDevice.objects.create(
                user=request.user, name=str(_("Authenticator app")), confirmed=False
            )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        qr = segno.make(self.device.config_url, error="m")
        context["qr_svg"] = mark_safe(qr.svg_inline(scale=5, dark="#000", light="#fff"))  # noqa: S308
        context["secret"] = base64.b32encode(self.device.bin_key).decode()
        return context

    def form_valid(self, form):
        if not self.device.verify_token(form.cleaned_data["token"]):
            return self._refuse(form)
        self.device.confirmed = True
        self.device.save()
        user = self.request.user
        if user.otp_enrolment_until is not None:
            user.otp_enrolment_until = None
            user.save(update_fields=["otp_enrolment_until"])
        otp_login(self.request, self.device)
        return HttpResponseRedirect(self.get_success_url())


class PasswordChangeView(auth_views.PasswordChangeView):
    """Changing the password ends the user's sessions elsewhere (the pre_save
    signal does that); this browser's session is re-keyed and kept. A password
    chosen here satisfies "must choose a new password" (``bostadforst.passwords``)."""

    form_class = OwnPasswordChangeForm

    def form_valid(self, form):
        response = super().form_valid(form)
        record_session(self.request, form.user, new_login=False)
        return response


# --- Password reset by e-mail -------------------------------------------------
# Django's views, each answering 404 unless the reset is enabled. Overriding
# dispatch drops the login_not_required mark Django put on its own, hence the
# decorator on each class.


class _ResetEnabledMixin:
    def dispatch(self, request, *args, **kwargs):
        if not password_reset_enabled():
            raise Http404
        return super().dispatch(request, *args, **kwargs)


@method_decorator(login_not_required, name="dispatch")
class PasswordResetView(_ResetEnabledMixin, auth_views.PasswordResetView):
    """Ask for a reset link. Every valid address gets the same page, whether an
    account has it, and whether it or this IP has asked too often (the rate
    limits in ``bostadforst.password_reset``)."""

    template_name = "registration/password_reset_form.html"

    def form_valid(self, form):
        password_reset_request(
            email=form.cleaned_data["email"],
            ip=client_ip(self.request),
            domain=self.request.get_host(),
            use_https=self.request.is_secure(),
        )
        return HttpResponseRedirect(self.get_success_url())

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


@method_decorator(login_not_required, name="dispatch")
class PasswordResetDoneView(_ResetEnabledMixin, auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


@method_decorator(login_not_required, name="dispatch")
class PasswordResetConfirmView(_ResetEnabledMixin, auth_views.PasswordResetConfirmView):
    """Choose a new password from the link. Saving it ends every session of
    the user (the pre_save signal in ``bostadforst.signals``), and it does not
    log in (``post_reset_login`` stays False): the login that follows asks
    for the second factor as always, so a mailbox alone is not enough."""

    template_name = "registration/password_reset_confirm.html"
    form_class = ResetSetPasswordForm
    post_reset_login = False

    def form_valid(self, form):
        response = super().form_valid(form)
        security_logger.info(
            "password reset done user_id=%s ip=%s", form.user.pk, client_ip(self.request)
        )
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


@method_decorator(login_not_required, name="dispatch")
class PasswordResetCompleteView(_ResetEnabledMixin, auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


@method_decorator(login_not_required, name="dispatch")
class AdminLoginRedirect(View):
    """The admin site has no login of its own: it uses the two-step login."""

    def get(self, request, *args, **kwargs):
        nxt = safe_next(request, request.GET.get("next"), reverse("admin:index"))
        return HttpResponseRedirect(f"{reverse('login')}?next={_quote(nxt)}")

    post = get
