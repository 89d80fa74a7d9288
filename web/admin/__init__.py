"""The admin is a surface like the web pages and the API: it reads through the same scoped
selectors, logs through the same audit helpers and acts through the same services. One
module per app whose models it shows (and `directory`: signing in with the city's account);
Django's admin autodiscovery imports this package."""

from . import (  # noqa: F401
    audit,
    axes,
    cases,
    criteria,
    directory,
    notifications,
    partners,
    transfers,
)
