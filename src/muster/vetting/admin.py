from django.contrib import admin

from muster.core.admin import ReadOnlyAdmin
from muster.vetting.models import Qualification, QualificationRevocation, QualificationType


@admin.register(QualificationType)
class QualificationTypeAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "classes", "default_validity_months")


@admin.register(Qualification)
class QualificationAdmin(ReadOnlyAdmin):
    list_display = (
        "person",
        "qualification_type",
        "klass",
        "obtained_on",
        "expires_on",
        "examiner",
    )
    list_filter = ("qualification_type",)
    list_select_related = ("person", "qualification_type")
    search_fields = ("person__national_id", "person__family_name")


@admin.register(QualificationRevocation)
class QualificationRevocationAdmin(ReadOnlyAdmin):
    list_display = ("qualification", "revoked_on", "reason", "actor")
