"""WSGI entry point (management tooling only; Spark is served by Daphne over ASGI)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spark.settings.dev")

application = get_wsgi_application()
