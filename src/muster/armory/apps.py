from django.apps import AppConfig


class ArmoryConfig(AppConfig):
    name = "muster.armory"
    label = "armory"
