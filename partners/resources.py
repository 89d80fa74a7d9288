"""The handbook's import and export (django-import-export): one row per organisation,
the columns named as the fields. The admin's import shows a preview first; a file with
any bad row is refused whole, each error naming its row and column, and nothing is
written (the import runs in one transaction, rolled back on any error)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from cases.models import Region

from .models import PartnerOrganisation

COLUMNS = (
    "name",
    "region",
    "district",
    "service_kinds",
    "services",
    "languages",
    "opening_hours",
    "street_address",
    "postal_code",
    "contact_name",
    "email",
    "phone",
    "website",
    "is_active",
)


class RegionWidget(widgets.ForeignKeyWidget):
    """A region by its code (etela, ita, lansi, pohjoinen); an unknown code is an error
    of its own column, not of the whole row."""

    def __init__(self) -> None:
        super().__init__(Region, field="code")

    def clean(self, value, row=None, **kwargs):
        code = (value or "").strip().lower()
        if not code:
            raise ValueError(_("Give the region's code."))
        region = Region.objects.filter(code=code).first()
        if region is None:
            codes = ", ".join(Region.objects.order_by("code").values_list("code", flat=True))
            raise ValueError(
                _("No region with the code “%(code)s” (%(allowed)s).")
                % {"code": code, "allowed": codes}
            )
        return region


class PartnerOrganisationResource(resources.ModelResource):
    region = fields.Field(attribute="region", column_name="region", widget=RegionWidget())

    class Meta:
        model = PartnerOrganisation
        fields = COLUMNS
        export_order = COLUMNS
        import_id_fields = ("name",)
        # full_clean on every row: the model's own checks (language codes, kinds of
        # service, the district) name their column.
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def after_import(self, dataset, result, **kwargs):
        """No sequence reset: the file never carries ids (rows are matched by name, new ones
        numbered by the database), and the app's database role may not set a sequence."""

    def import_data(self, dataset, *args, **kwargs):
        """All or nothing, however it is called (the admin asks the same): a file with a
        bad row is rolled back whole."""
        kwargs["rollback_on_validation_errors"] = True
        kwargs["use_transactions"] = True
        return super().import_data(dataset, *args, **kwargs)
