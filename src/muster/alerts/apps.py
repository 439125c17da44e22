from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "muster.alerts"
    label = "alerts"
