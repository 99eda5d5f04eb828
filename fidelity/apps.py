from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FidelityConfig(AppConfig):
    name = "fidelity"
    verbose_name = _("Fidelity self-assessment")

    def ready(self) -> None:
        from bostadforst.registry import start_page_queues

        from .start_page import fidelity_queue

        # The team's latest fidelity score on the unit manager's start page.
        start_page_queues.register(fidelity_queue)
