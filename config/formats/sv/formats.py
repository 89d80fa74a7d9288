# Swedish in Finland: 1.12.2026, 1.12.2026 kl. 10.00 (never ISO in the UI; Django's
# sv formats are Sweden's 2026-12-01).
DATE_FORMAT = "j.n.Y"
SHORT_DATE_FORMAT = "j.n.Y"
TIME_FORMAT = "G.i"
DATETIME_FORMAT = r"j.n.Y \k\l. G.i"
SHORT_DATETIME_FORMAT = r"j.n.Y \k\l. G.i"
