from django.apps import AppConfig, apps
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Third-party apps and models the admin lists, named in words an
# administrator knows (their own names are untranslated or English only:
# "AXES", "OTP_TOTP", "TOTP devices").
THIRD_PARTY_NAMES = {
    "axes": _("Login lockouts"),
    "otp_totp": _("Two-factor login"),
    "otp_static": _("Backup codes"),
}
THIRD_PARTY_MODEL_NAMES = {
    ("otp_totp", "totpdevice"): (_("authenticator app"), _("authenticator apps")),
    ("axes", "accesslog"): (_("login"), _("logins and logouts")),
    ("otp_static", "staticdevice"): (_("backup code list"), _("backup code lists")),
    ("otp_static", "statictoken"): (_("backup code"), _("backup codes")),
}
# django-axes' records, whose str() titles their admin pages in English
# ("Access Log for anna @ 2026-12-07 05:40:03.000186+00:00").
LOGIN_EVENT_MODELS = ["accessattempt", "accessfailurelog", "accesslog"]


def login_event_str(event) -> str:
    """A login attempt, failure or login as its admin page titles it: the
    username and the local time."""
    when = event.attempt_time and timezone.localtime(event.attempt_time)
    return f"{event.username or '–'}, {when:%Y-%m-%d %H:%M:%S}" if when else event.username or "–"


class BostadforstConfig(AppConfig):
    name = "bostadforst"
    verbose_name = _("Bostad först")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the audit and session signals)

        if settings.SAML_ENABLED:
            # Registers its system check of the SAML files before the checks
            # run (the URLconf, which imports it too, loads later).
            from . import saml  # noqa: F401
        from .registry import start_page_queues
        from .start_page import bostadforst_queue

        start_page_queues.register(bostadforst_queue)

        for label, name in THIRD_PARTY_NAMES.items():
            if label in apps.app_configs:
                apps.get_app_config(label).verbose_name = name
        for (label, model_name), (singular, plural) in THIRD_PARTY_MODEL_NAMES.items():
            if label in apps.app_configs:
                meta = apps.get_model(label, model_name)._meta
                meta.verbose_name, meta.verbose_name_plural = singular, plural
        if "axes" in apps.app_configs:
            for model_name in LOGIN_EVENT_MODELS:
                apps.get_model("axes", model_name).__str__ = login_event_str
