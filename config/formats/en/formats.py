# 1 December 2026, 1 December 2026, 10:00 (day first and a 24-hour clock, not US dates).
DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATETIME_FORMAT = "j F Y, H:i"
FIRST_DAY_OF_WEEK = 1  # Monday, as in Finland
