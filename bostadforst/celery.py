"""Celery application. Tasks are autodiscovered in each app's ``tasks.py``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bostadforst.settings")

app = Celery("bostadforst")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
