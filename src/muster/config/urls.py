from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("muster.accounts.urls")),
    path("api/v1/", include("muster.api.urls")),
    path("", include("muster.web.urls")),
]
