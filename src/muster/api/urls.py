"""The REST API under /api/v1/ (django-ninja): see muster.api.api."""

from __future__ import annotations

from muster.api.api import api

# include("muster.api.urls") takes its namespace from app_name: ninja reverses its own
# views (the schema, the docs) as "api-v1:…".
app_name = api.urls_namespace
urlpatterns = api.urls[0]
