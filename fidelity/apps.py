from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FidelityConfig(AppConfig):
    name = "fidelity"
    verbose_name = _("Fidelity self-assessment")

    def ready(self) -> None:
        from bostadforst.registry import board_report_sources, start_page_queues

        from .board_report import fidelity_section
        from .start_page import fidelity_queue

        # The team's latest fidelity score on the unit manager's start page,
        # and beside retention in the board report.
        start_page_queues.register(fidelity_queue)
        board_report_sources.register(fidelity_section)
