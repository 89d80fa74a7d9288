"""Dates and times as each language writes them (FORMAT_MODULE_PATH): Django's own locale
formats, with the display formats replaced where they differ from the city's usage.
Finnish 1.12.2026 klo 10.00, Swedish 1.12.2026 kl. 10.00, English 1 December 2026, 10:00.
Input: Swedish also accepts the dotted dates it shows (Django's fi formats already do);
ISO dates are accepted in every language (the web forms' native pickers send them)."""
