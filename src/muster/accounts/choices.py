from django.db import models


class Role(models.TextChoices):
    HQ_STAFF = "hq_staff", "Central HQ staff"
    REGIONAL_ADMIN = "regional_admin", "Regional administrator"
    COMMANDER = "commander", "Unit commander"
    VETTING_OFFICER = "vetting_officer", "Vetting officer"
    ARMORER = "armorer", "Armorer / quartermaster"
    VOLUNTEER = "volunteer", "Volunteer"
    AUDITOR = "auditor", "Auditor"
