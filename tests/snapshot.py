"""Every row of Silta's own tables, to prove that a refused action changed nothing."""

from django.apps import apps


def snapshot() -> dict[str, list[dict]]:
    rows = {}
    for app_label in ("cases", "audit", "api", "transfers", "criteria", "notifications", "auth"):
        for model in apps.get_app_config(app_label).get_models():
            rows[model._meta.label] = list(model.objects.order_by("pk").values())
    return rows
