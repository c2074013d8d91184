from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "spark.common"
    label = "common"
    verbose_name = "Spark common"

    def ready(self) -> None:
        from spark.common import checks  # noqa: F401 - registers the connection-budget check
