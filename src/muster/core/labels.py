"""Choice labels in every language of the interface, for reading them back from files."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Choices
from django.utils import translation


def labels_in_every_language(choices: type[Choices]) -> list[tuple[str, str]]:
    """`choices` as (value, label) pairs, each label as written in every language of the
    interface: a file naming a choice by its label ("In vetting", "На проверке") reads the
    same whatever the language of the person importing it."""
    pairs: list[tuple[str, str]] = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            pairs.extend((value, str(label)) for value, label in choices.choices)
    return list(dict.fromkeys(pairs))
