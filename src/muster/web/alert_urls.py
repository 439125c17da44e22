"""Alerts: the list of whoever must act, acknowledging and resolving (included in the web namespace by web/urls.py)."""

from django.urls import URLPattern, path

from muster.web import alert_views

urlpatterns: list[URLPattern] = [
    path("", alert_views.alerts, name="alerts"),
    path("<int:pk>/", alert_views.alert, name="alert"),
    path("<int:pk>/acknowledge", alert_views.acknowledge, name="alert-acknowledge"),
    path("<int:pk>/resolve", alert_views.resolve, name="alert-resolve"),
]
