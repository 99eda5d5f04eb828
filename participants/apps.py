from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipantsConfig(AppConfig):
    name = "participants"
    verbose_name = _("Participants and referrals")

    def ready(self) -> None:
        from bostadforst import identity, registry

        from .caseload import caseload_check
        from .consent_views import CONSENT_SECTION, EXPIRING_CONSENTS_BLOCK
        from .identity import hidden_people
        from .protection import names_of, protected_among
        from .restriction import restrictions_of
        from .start_page import participants_queue
        from .timeline import referral_timeline

        registry.timeline_sources.register(referral_timeline)
        registry.participant_sections.register(CONSENT_SECTION)
        registry.start_page_blocks.register(EXPIRING_CONSENTS_BLOCK)
        registry.start_page_queues.register(participants_queue)
        identity.hidden_sets["person"] = hidden_people

        from bostadforst import scope

        from .models import MatchStatus, Referral

        # Row scope: a referring unit's people are those any referral of the
        # unit names, but a match the team has yet to confirm: filing a
        # referral with a known personnummer must not open that person's case
        # to the unit.
        scope.people_sets[scope.UNIT] = lambda unit_id: (
            Referral._base_manager.filter(referring_unit_id=unit_id)
            .exclude(match=MatchStatus.PENDING)
            .values("participant_id")
        )
        registry.processing_restriction_sources.register(restrictions_of)
        if hasattr(registry, "caseload_checks"):
            registry.caseload_checks.register(caseload_check)
        registry.protected_checks.register(protected_among)
        registry.person_namers.register(names_of)

        from bostadforst.reminders import reminder_kinds

        from .reminders import REFERRAL_DECIDED

        reminder_kinds.register(REFERRAL_DECIDED)
