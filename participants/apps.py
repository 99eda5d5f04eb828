from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipantsConfig(AppConfig):
    name = "participants"
    verbose_name = _("Participants and referrals")

    def ready(self) -> None:
        from bostadforst import registry

        from .caseload import caseload_check
        from .timeline import referral_timeline

        registry.timeline_sources.register(referral_timeline)
        if hasattr(registry, "caseload_checks"):
            registry.caseload_checks.register(caseload_check)
