# 1.12.2026, 1.12.2026 klo 10.00 (GLOSSARY.md, "Dates and times").
DATE_FORMAT = "j.n.Y"
SHORT_DATE_FORMAT = "j.n.Y"
TIME_FORMAT = "G.i"
DATETIME_FORMAT = r"j.n.Y \k\l\o G.i"
SHORT_DATETIME_FORMAT = r"j.n.Y \k\l\o G.i"
