from django.apps import AppConfig


class VettingConfig(AppConfig):
    name = "muster.vetting"
    label = "vetting"
