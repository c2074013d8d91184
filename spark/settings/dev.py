"""Development: the embedded default with DEBUG on (what `make run` uses)."""

from spark.settings.base import *  # noqa: F403
from spark.settings.components import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# Serve static files straight from the app directories (no collectstatic in development).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
