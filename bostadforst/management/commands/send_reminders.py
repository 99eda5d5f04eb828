"""Send the reminders due now, as beat's ``bostadforst.send_reminders`` does.

For a deployment without Celery beat (the embedded default: run it from cron)
and to see the mails in development (the console backend prints them). Safe
to run at any time and beside beat: each event reaches each recipient once.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from bostadforst.reminders import reminders_send


class Command(BaseCommand):
    help = "Send the reminders by e-mail that are due now (each once)."

    def handle(self, *args, **options) -> None:
        if not settings.REMINDERS_ENABLED:
            self.stdout.write("Reminders are off (REMINDERS_ENABLED).")
            return
        result = reminders_send()
        self.stdout.write(
            "due {due}, claimed {claimed}, sent {sent} in {mails} e-mails, failed {failed}".format(
                **result
            )
        )
