from celery import shared_task


@shared_task(name="bostadforst.ping")
def ping() -> str:
    """Answer "pong": proves that a worker receives and runs tasks."""
    return "pong"
