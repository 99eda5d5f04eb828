from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Support")

    def ready(self) -> None:
        from bostadforst.registry import participant_sections, timeline_sources

        from .participant_page import SECTION, TIMELINE_SOURCES

        participant_sections.register(SECTION)
        from .outcome_views import OUTCOME_SECTION

        participant_sections.register(OUTCOME_SECTION)
        # Planned visits today and this week, on the support worker's start page.
        from bostadforst.registry import start_page_queues

        from .planning import planned_visit_queue

        start_page_queues.register(planned_visit_queue)
        # The caseload's queues (contact, reviews, incidents, crisis places,
        # unsigned entries) and the manager's overdue reviews.
        from .start_page import support_queue

        start_page_queues.register(support_queue)
        for source in TIMELINE_SOURCES:
            timeline_sources.register(source)

        from bostadforst.reminders import reminder_kinds

        from .reminders import PLAN_REVIEW_DUE

        reminder_kinds.register(PLAN_REVIEW_DUE)
