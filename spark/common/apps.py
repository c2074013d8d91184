from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "spark.common"
    label = "common"
    verbose_name = "Spark common"
