"""Alerts: the list of whoever must act, acknowledging and resolving (included in the web namespace by web/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
