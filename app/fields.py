"""Field types the request models share, built so that what they refuse is what their JSON Schema says
(the OpenAPI at /openapi.json): a client that follows the schema is never refused for a field's form.

- `Annotated[str, not_blank(n), STRIP]`: 1 to n characters, at least one of them not a space; the
  spaces around it are removed. The schema says `maxLength` and a `pattern` that lists every space
  character Python strips, so the schema and the server agree on which strings are only spaces.
- `Annotated[int, Field(strict=True, ...), WHOLE]`: an integer; a JSON number with no fractional part
  (13.0) is read as that integer, as JSON Schema's `integer` allows, while strings, booleans and 13.5
  are refused."""

from __future__ import annotations

from typing import Any

from pydantic import AfterValidator, BeforeValidator, StringConstraints

# Every character str.strip() removes, that is every c with c.isspace() (tests/test_fields.py checks
# the list against Python's own): ASCII controls and spaces, and the Unicode spaces.
SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# A character that is not one of them. The same in JSON Schema (ECMA 262), Python and Rust regexes,
# because it lists code points instead of relying on each engine's idea of `\s`.
NOT_ONLY_SPACES = "[^" + "".join(f"\\u{ord(c):04x}" for c in SPACES) + "]"


def _strip(value: str) -> str:
    return value.strip(SPACES)


# After the checks: the stored value has no surrounding spaces.
STRIP = AfterValidator(_strip)


def not_blank(max_length: int) -> StringConstraints:
    """1 to `max_length` characters, not only spaces (use with STRIP). The length is of the string as
    sent, so the schema's maxLength is exactly what is refused."""
    return StringConstraints(min_length=1, max_length=max_length, pattern=NOT_ONLY_SPACES)


def _whole(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Use as Annotated[int, Field(strict=True, ge=..., le=...), WHOLE]: the conversion runs first, then the
# strict integer check refuses "13" and true, as the schema's "type": "integer" says. (The Field must come
# before WHOLE, or its bounds are left out of the schema.)
WHOLE = BeforeValidator(_whole)
