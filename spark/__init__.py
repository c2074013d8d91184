"""Spark: the project package (wiring and cross-cutting machinery, no domain rules)."""

from spark.celery import app as celery_app

__all__ = ["celery_app"]
