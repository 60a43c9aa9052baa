"""Japanese dates in the console: 2026年12月2日 15:04 (templates use the names, never a literal format)."""

DATE_FORMAT = "Y年n月j日"
DATETIME_FORMAT = "Y年n月j日 H:i:s"
SHORT_DATETIME_FORMAT = "Y年n月j日 H:i"
