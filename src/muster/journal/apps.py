from django.apps import AppConfig


class JournalConfig(AppConfig):
    name = "muster.journal"
    label = "journal"
