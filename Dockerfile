# Bostad först – production image (gunicorn; the same image runs the Celery worker and beat).
# The base image by digest: python:3.11-slim-bookworm for linux/amd64 (Python
# 3.11.16, built 2026-08-25), so a rebuild starts from the same files. Moving
# to a newer build is a reviewed change: README, "Drift", "Upgrading".
FROM python:3.11-slim-bookworm@sha256:2fc9207f64226cb05ac317cee0bab6fa55a9ea311ce5a086baddd4b4a83c2d3c

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint needs Pango; gettext compiles the catalogs if they change.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 app

WORKDIR /app
# Only the files the lock names, checked against its hashes (requirements/runtime.lock,
# `make lock`); the app runs from /app and is not installed as a package.
COPY requirements/runtime.lock requirements/
RUN pip install --no-cache-dir --upgrade "pip>=25.3" \
    && pip install --no-cache-dir --require-hashes -r requirements/runtime.lock
COPY . .
# collectstatic needs settings to load; these build-time values never reach runtime.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=build DJANGO_READ_DOT_ENV=false \
    python manage.py collectstatic --noinput -v 0

USER app
EXPOSE 8000
# The web process: healthy while it answers and its database and cache do
# (bostadforst/healthcheck.py). The worker and beat services run the same
# image with healthchecks of their own (docker-compose.yml).
HEALTHCHECK --interval=15s --timeout=6s --start-period=20s --retries=3 \
    CMD ["python", "-m", "bostadforst.healthcheck"]
# Workers, timeout and the access log format: gunicorn.conf.py.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "bostadforst.wsgi:application"]
