"""A Redis that is down, for tests of what publishing to Celery does then.

``redis_refusing()`` gives the URL of a port nothing listens on (connections
are refused at once, as when the server is stopped). ``redis_frozen()`` gives
one where a socket listens but nobody ever accepts or answers (a hung or
overloaded server, or a stopped container behind a live port): the kernel
completes the connection and every read waits until the client's timeout.
``use_celery(**conf)`` points the Celery app at other URLs and drops its
cached connection pools and result backend, so the new URLs take effect.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

from bostadforst.celery import app


def use_celery(**conf) -> dict:
    """Reconfigure Celery; returns the old values, for ``use_celery(**old)``."""
    old = {key: app.conf[key] for key in conf}
    app.conf.update(conf)
    # Dropped, not closed: kombu keeps pools in a global registry keyed by
    # connection, and a closed pool would be handed out again.
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)
    return old


@contextlib.contextmanager
def redis_refusing() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Closed again: nothing listens on the port now.
    yield f"redis://127.0.0.1:{port}/0"


@contextlib.contextmanager
def redis_frozen() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


REDIS_DOWN = {"refused": redis_refusing, "frozen": redis_frozen}


@contextlib.contextmanager
def celery_on_dead_redis(kind: str) -> Iterator[str]:
    """Broker and result backend on one dead Redis (production shares one
    REDIS_URL for both), not eager."""
    with REDIS_DOWN[kind]() as url:
        old = use_celery(broker_url=url, result_backend=url, task_always_eager=False)
        try:
            yield url
        finally:
            use_celery(**old)
