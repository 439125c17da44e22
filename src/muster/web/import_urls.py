"""Bulk imports through the browser; included at /imports/ (namespace "imports")."""

from django.urls import path

from muster.web import import_views

app_name = "imports"

urlpatterns = [
    path("", import_views.index, name="index"),
    path("<slug:kind_name>/check", import_views.check, name="check"),
    path("<slug:kind_name>/confirm", import_views.confirm, name="confirm"),
    path("problems/<str:token>.csv", import_views.problems, name="problems"),
]
