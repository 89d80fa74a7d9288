"""The admin is a surface like the web pages and the API: it reads through the same scoped
selectors, logs through the same audit helpers and acts through the same services. One
module per app whose models it shows; Django's admin autodiscovery imports this package."""

from . import audit, cases, criteria, notifications, transfers  # noqa: F401
