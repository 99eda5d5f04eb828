from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HousingConfig(AppConfig):
    name = "housing"
    verbose_name = _("Housing")

    def ready(self) -> None:
        from bostadforst.identity import hidden_sets
        from bostadforst.registry import participant_sections, timeline_sources

        from .participant_page import housing_timeline, tenancy_section
        from .selectors import hidden_apartments

        hidden_sets["apartment"] = hidden_apartments

        from bostadforst import scope

        from .models import Tenancy

        # Row scope: a provider's people are those with any tenancy the provider runs.
        scope.people_sets[scope.PROVIDER] = lambda provider_id: Tenancy._base_manager.filter(
            provider_id=provider_id
        ).values("participant_id")

        participant_sections.register(tenancy_section)
        timeline_sources.register(housing_timeline)

        from bostadforst.registry import start_page_queues

        from .start_page import housing_queue

        start_page_queues.register(housing_queue)

        from bostadforst.reminders import reminder_kinds

        from .reminders import TENANT_WITHOUT_SUPPORT_WORKER

        reminder_kinds.register(TENANT_WITHOUT_SUPPORT_WORKER)
