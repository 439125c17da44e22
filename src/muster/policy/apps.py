from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "muster.policy"
    label = "policy"
