"""The Celery application. In the embedded default, tasks run in-process (always eager)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spark.settings.dev")

app = Celery("spark")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
