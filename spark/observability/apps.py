from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "spark.observability"
    label = "observability"
    verbose_name = "Spark observability"

    def ready(self) -> None:
        from spark.observability import celery_signals

        celery_signals.connect()
