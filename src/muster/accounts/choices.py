from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    HQ_STAFF = "hq_staff", _("Central HQ staff")
    REGIONAL_ADMIN = "regional_admin", _("Regional administrator")
    COMMANDER = "commander", _("Unit commander")
    VETTING_OFFICER = "vetting_officer", _("Vetting officer")
    ARMORER = "armorer", _("Armorer / quartermaster")
    VOLUNTEER = "volunteer", _("Volunteer")
    AUDITOR = "auditor", _("Auditor")
