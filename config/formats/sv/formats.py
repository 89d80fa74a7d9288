# Swedish in Finland: 1.12.2026, 1.12.2026 kl. 10.00 (never ISO in the UI; Django's
# sv formats are Sweden's 2026-12-01).
DATE_FORMAT = "j.n.Y"
SHORT_DATE_FORMAT = "j.n.Y"
TIME_FORMAT = "G.i"
DATETIME_FORMAT = r"j.n.Y \k\l. G.i"
SHORT_DATETIME_FORMAT = r"j.n.Y \k\l. G.i"
# What the Swedish pages show is accepted as input too (Django's sv input formats are
# Sweden's ISO and US ones; ISO stays accepted, as in every language).
DATE_INPUT_FORMATS = ["%d.%m.%Y", "%d.%m.%y"]
DATETIME_INPUT_FORMATS = [
    "%d.%m.%Y %H.%M",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y kl. %H.%M",
    "%d.%m.%Y %H.%M.%S",
]
TIME_INPUT_FORMATS = ["%H.%M", "%H:%M", "%H.%M.%S"]
