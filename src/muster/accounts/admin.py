from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from muster.accounts.models import RoleGrant, User

admin.site.register(User, UserAdmin)
admin.site.register(RoleGrant)
