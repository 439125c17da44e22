"""What-if and allocation: a draft policy simulated, allocation plans (included in the web namespace by web/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
