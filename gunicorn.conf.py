"""Gunicorn's settings for the web container (Dockerfile, docker-compose.yml):
``gunicorn -c gunicorn.conf.py bostadforst.wsgi:application``.

Each value can be changed through the environment without a new image.
https://docs.gunicorn.org/en/stable/settings.html
"""

import multiprocessing
import os

from bostadforst.logging import console_logging, log_format

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")

# Sync workers, two per CPU plus one (Gunicorn's rule of thumb), at most
# GUNICORN_MAX_WORKERS: each holds a database connection (CONN_MAX_AGE), so
# replicas × workers must stay under PostgreSQL's max_connections.
# WEB_CONCURRENCY (the Heroku/Gunicorn convention) sets the number outright.
_max_workers = int(os.environ.get("GUNICORN_MAX_WORKERS", "8"))
workers = int(
    os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, _max_workers))
)

# A request taking longer is killed and logged: long work (PDFs, reports,
# imports) runs in Celery, so a page never needs this long.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle a worker now and then (a leak in a library stays bounded).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200

# The proxy in front terminates TLS; the app decides what to believe of
# X-Forwarded-* (settings BEHIND_PROXY, TRUSTED_PROXY_IPS), so Gunicorn
# passes the headers on unchanged.
forwarded_allow_ips = "*"

# Access log: method, path WITHOUT the query string (%(U)s, not %(r)s: a
# search or a filter can put a name or a personnummer in the query), status,
# bytes, seconds, and the request id that the app's log lines carry. No
# Referer (it holds the previous page's query string) and no User-Agent.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(L)s %({x-request-id}o)s'

# Gunicorn's own lines (errors and the access log) in the app's format (JSON
# lines or text, LOG_FORMAT) and through its personnummer filter.
_debug = os.environ.get("DJANGO_DEBUG", "").lower() in ("1", "true", "yes", "on")
logconfig_dict = {
    **console_logging(
        log_format(os.environ.get("LOG_FORMAT"), debug=_debug), stream="ext://sys.stdout"
    ),
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
