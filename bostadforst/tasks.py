from celery import shared_task
from celery.utils.log import get_task_logger

# Celery's task logger: its records pass through the root handler and its
# personnummer filter only because bostadforst.celery keeps Celery from
# installing handlers of its own (see ``configure_worker_logging``).
logger = get_task_logger(__name__)


@shared_task(name="bostadforst.ping")
def ping(message: str = "") -> str:
    """Answer "pong": proves that a worker receives and runs tasks.

    With a message (``celery -A bostadforst call bostadforst.ping --args
    '["deploy check"]'``) the worker logs it and echoes it back, so one message
    can be followed through the broker, the worker's log and the result backend.
    """
    if not message:
        return "pong"
    logger.info("ping: %s", message)
    return f"pong: {message}"


@shared_task(name="bostadforst.gallra")
def gallra() -> dict:
    """The monthly culling run (scheduled only with GALLRING_SCHEDULED). Takes
    no arguments and returns counts only: no person data in the broker."""
    from django.conf import settings

    from .gallring import run

    if not settings.GALLRING_SCHEDULED:
        return {"skipped": True}
    result, record = run()
    return {"culled": len(result.due), "rows": record.rows_deleted if record else 0}


@shared_task(name="bostadforst.prune_submit_tokens")
def prune_submit_tokens() -> int:
    """Forget submit tokens older than SUBMIT_TOKEN_DAYS (daily, from beat).
    A token names no person; only how many were removed is returned."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from .models import SubmitToken

    cutoff = timezone.now() - timedelta(days=settings.SUBMIT_TOKEN_DAYS)
    deleted, _ = SubmitToken.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@shared_task(name="bostadforst.send_password_reset", ignore_result=True)
def send_password_reset(user_id: int, domain: str, use_https: bool) -> bool:
    """Send a password-reset mail. Takes the account's id only; the link's
    token is made here, so it never passes through the broker. No result is
    kept: nothing waits for it, and keeping one makes a publish first
    subscribe to the result backend (slow with Redis down)."""
    from .password_reset import password_reset_mail_send

    return password_reset_mail_send(user_id=user_id, domain=domain, use_https=use_https)


@shared_task(name="bostadforst.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Beat sends this every WORKER_HEARTBEAT_INTERVAL seconds: the worker that
    runs it shows /healthz that workers (and beat, and the broker) are alive."""
    from .health import write_worker_heartbeat

    write_worker_heartbeat()


@shared_task(name="bostadforst.send_reminders", ignore_result=True)
def send_reminders() -> dict:
    """Send the reminders due now (every 15 minutes in the daytime, from
    beat). Takes no arguments: what is due is found here, and the mails name
    no person. Returns counts only."""
    from django.conf import settings

    from .reminders import reminders_send

    if not settings.REMINDERS_ENABLED:
        return {"skipped": True}
    return reminders_send()
