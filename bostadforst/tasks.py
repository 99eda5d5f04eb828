from celery import shared_task


@shared_task(name="bostadforst.ping")
def ping() -> str:
    """Answer "pong": proves that a worker receives and runs tasks."""
    return "pong"


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
