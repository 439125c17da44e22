"""Duties: the week per unit, a volunteer's shifts, check-in (included in the web namespace by web/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
