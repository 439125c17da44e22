from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    REGION = "region", _("Region")
    BATTALION = "battalion", _("Battalion")
    COMPANY = "company", _("Company")
    PLATOON = "platoon", _("Platoon")
    SECTION = "section", _("Section")
    OTHER = "other", _("Other")


class PersonStatus(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    VETTING = "vetting", _("In vetting")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    DISCHARGED = "discharged", _("Discharged")


class UnitRole(models.TextChoices):
    COMMANDER = "commander", _("Commander")
    DEPUTY = "deputy", _("Deputy commander")
    ARMORER = "armorer", _("Armorer")
    VETTING_OFFICER = "vetting_officer", _("Vetting officer")
    MEMBER = "member", _("Member")
