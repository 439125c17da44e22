from django.db import models


class UnitKind(models.TextChoices):
    REGION = "region", "Region"
    BATTALION = "battalion", "Battalion"
    COMPANY = "company", "Company"
    PLATOON = "platoon", "Platoon"
    SECTION = "section", "Section"
    OTHER = "other", "Other"


class PersonStatus(models.TextChoices):
    APPLICANT = "applicant", "Applicant"
    VETTING = "vetting", "In vetting"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    DISCHARGED = "discharged", "Discharged"


class UnitRole(models.TextChoices):
    COMMANDER = "commander", "Commander"
    DEPUTY = "deputy", "Deputy commander"
    ARMORER = "armorer", "Armorer"
    VETTING_OFFICER = "vetting_officer", "Vetting officer"
    MEMBER = "member", "Member"
