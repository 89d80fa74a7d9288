from django import template

from web import labels

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters changed (filters kept when paging)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


@register.filter
def language_name(code: str | None) -> str:
    """A stored language code (ISO 639-3) named in the page's language: {{ code|language_name }}."""
    return labels.language_name(code)


@register.filter
def region_name(region) -> str:
    """A region named in the page's language: {{ region|region_name }}."""
    return labels.region_name(region)
