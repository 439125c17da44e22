from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "muster.planning"
    label = "planning"
