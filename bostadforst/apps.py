from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BostadforstConfig(AppConfig):
    name = "bostadforst"
    verbose_name = _("Bostad först")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the audit and session signals)
