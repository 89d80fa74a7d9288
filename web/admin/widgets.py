"""Django's autocomplete widget, safe with a value that is not an id.

When a form with an autocomplete field is shown again with its errors, Django's widget
looks the submitted value up to show it; a value that is not an id ("abc" where a user's
number belongs) failed that lookup with a server error (found by
tests/web/test_property_forms.py). Here such a value is shown as not chosen, and the
form's own error says why.
"""

from __future__ import annotations

from django.contrib.admin import widgets
from django.core.exceptions import ValidationError


class AutocompleteSelect(widgets.AutocompleteSelect):
    def optgroups(self, name, value, attr=None):
        try:
            return super().optgroups(name, value, attr)
        except (ValueError, ValidationError):  # the lookup of a value that is not an id
            return super().optgroups(name, [], attr)


class SafeAutocomplete:
    """For a ModelAdmin or an inline with `autocomplete_fields` (put it first)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = AutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
