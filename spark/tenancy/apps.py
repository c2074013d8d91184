from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "spark.tenancy"
    label = "tenancy"
    verbose_name = "Spark tenancy"

    def ready(self) -> None:
        from spark.tenancy import checks  # noqa: F401 - registers the system check
