"""Admin for signing in with the city's account: which directory groups give which team
and role (or admin permissions), kept by an administrator (cases.DirectoryGroupMapping),
and the city sign-in button on the admin's sign-in page. social-auth's account links
(Python Social Auth, user social auths: a directory subject and its account) stay, for
linking a local account to its owner's city account before their first sign-in;
helusers' AD group tables and social-auth's nonce tables are not Silta's to edit."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from helusers.models import ADGroup, ADGroupMapping
from social_django.models import Association, Nonce

from cases.models import DirectoryGroupMapping

# The admin's sign-in page with "Sign in with the city's account" when the sign-in is on.
admin.site.login_template = "admin/silta/login.html"

for _model in (ADGroup, ADGroupMapping, Association, Nonce):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(DirectoryGroupMapping)
class DirectoryGroupMappingAdmin(admin.ModelAdmin):
    list_display = ["directory_group", "team", "role", "admin_group"]
    list_filter = ["role", "team"]
    search_fields = ["directory_group", "team__name", "team__code"]
    fieldsets = [
        (None, {"fields": ["directory_group"]}),
        (
            _("Gives a role in a team"),
            {
                "fields": ["team", "role"],
                "description": _(
                    "At every sign-in with the city's account the members of the group get "
                    "this role in this team, and lose it when they leave the group."
                ),
            },
        ),
        (
            _("Or gives admin permissions"),
            {
                "fields": ["admin_group"],
                "description": _(
                    "The members may use the admin with the permissions of this group, "
                    "for as long as they are in the directory group."
                ),
            },
        ),
    ]
