"""Redaction of free text in exports (ETHICS 13), and escaping against formula injection.

Pattern-based and best effort: e-mail addresses, URLs, NHS numbers (10 digits passing the mod-11
check), phone numbers and UK postcodes become `[email]`, `[url]`, `[nhs-number]`, `[phone]` and
`[postcode]`. Names and anything else that identifies a person in words are not caught."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# A scheme, or www., or a bare domain with a path ("example.org/x").
_URL = re.compile(
    r"(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>\"']+"
    r"|\b[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.(?:com|org|net|uk|io|info|gov|edu|nhs|co)(?:/[^\s<>\"']*)?(?![a-z0-9])"
)
# Ten digits, as written (3-3-4 with spaces or hyphens, or run together); the check digit decides.
_NHS = re.compile(r"(?<![\d+])(\d{3})[ \-]?(\d{3})[ \-]?(\d{4})(?!\d)")
# A run of digits with the usual separators, optionally international: 9 to 15 digits in all.
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d \-().]{7,20}\d(?!\w)")
_POSTCODE = re.compile(r"(?i)\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b")
# Cells that a spreadsheet would run as a formula (OWASP adds tab and carriage return).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def nhs_number_valid(digits: str) -> bool:
    """The NHS number's mod-11 check: weights 10 to 2 on the first nine digits; 11 minus the remainder
    is the tenth (11 reads as 0; 10 is never valid)."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _nhs(match: re.Match[str]) -> str:
    return "[nhs-number]" if nhs_number_valid("".join(match.groups())) else match.group(0)


def _phone(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group(0))
    return "[phone]" if 9 <= digits <= 15 else match.group(0)


def redact(text: str) -> str:
    """The text with e-mail addresses, URLs, NHS numbers, phone numbers and UK postcodes replaced."""
    text = _EMAIL.sub("[email]", text)
    text = _URL.sub("[url]", text)
    text = _NHS.sub(_nhs, text)
    text = _PHONE.sub(_phone, text)
    return _POSTCODE.sub("[postcode]", text)


def escape_cell(value: str) -> str:
    """A cell a spreadsheet will show as text: one starting with =, +, -, @ (or tab, CR) gets a
    leading apostrophe."""
    return "'" + value if value.startswith(_FORMULA_START) else value
