from django.apps import AppConfig


class DutiesConfig(AppConfig):
    name = "muster.duties"
    label = "duties"
