from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from bostadforst.registry import start_page_queues

        from .start_page import data_quality_queue, reports_queue

        start_page_queues.register(reports_queue)
        start_page_queues.register(data_quality_queue)
