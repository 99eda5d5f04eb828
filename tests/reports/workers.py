"""A real Celery worker process that a test kills (the job-restart tests)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.bostadforst.redis_faults import use_celery


def forget_queue(url: str, queue: str) -> None:
    """Drop the test queue and the killed worker's unacknowledged message,
    which Redis would otherwise hand to another worker hours later."""
    import redis

    client = redis.Redis.from_url(url)
    for tag, entry in client.hgetall("unacked").items():
        if queue.encode() in entry:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    client.delete(queue)


@contextlib.contextmanager
def killable_worker(tmp_path: Path, source: str, *, name: str) -> Iterator[tuple[str, Path]]:
    """Run the worker script ``source`` (it takes its queue as ``argv[1]``)
    against the test database (PostgreSQL) and TEST_REDIS_URL, beating every
    0.2 s with a 1 s timeout, on a queue no other worker takes; this process
    publishes to that Redis meanwhile. Yields the queue and the worker's log;
    on leaving, the worker is killed and the queue forgotten."""
    url = os.environ["TEST_REDIS_URL"]
    queue = f"bf-{name}-{uuid.uuid4().hex}"
    db = connection.settings_dict
    user = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    env = {
        **os.environ,
        "REDIS_URL": url,
        "DATABASE_URL": f"postgres://{user}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "REPORT_HEARTBEAT_INTERVAL": "0.2",
        "REPORT_HEARTBEAT_TIMEOUT": "1",
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    script = tmp_path / f"{name}_worker.py"
    script.write_text(source)
    log = tmp_path / f"{name}_worker.log"
    old = use_celery(broker_url=url, result_backend=url, task_always_eager=False)
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, str(script), queue],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield queue, log, worker
        finally:
            worker.kill()
            worker.wait()
            use_celery(**old)
            forget_queue(url, queue)
