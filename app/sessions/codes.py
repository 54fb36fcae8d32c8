"""Withdrawal codes (ETHICS 5): five words from the EFF's 7,776-word list, 64.6 bits, easy to copy
by hand. Only the SHA-256 of the normalised code is stored; the code is shown once."""

from __future__ import annotations

import hashlib
import re
import secrets
from functools import lru_cache
from pathlib import Path

WORDS_IN_A_CODE = 5
_WORDLIST = Path(__file__).parent / "wordlist" / "eff_large_wordlist.txt"
# What separates the words as a person may type them: spaces, hyphens, dots, commas, underscores.
_SEPARATORS = re.compile(r"[\s\-_.,;:/]+")


@lru_cache(maxsize=1)
def wordlist() -> tuple[str, ...]:
    """The 7,776 words (each line of the EFF's file is dice digits, a tab, the word)."""
    words = tuple(line.split()[-1] for line in _WORDLIST.read_text().splitlines() if line.strip())
    if len(words) != 7776 or len(set(words)) != 7776:
        raise RuntimeError("the withdrawal-code word list must hold 7,776 distinct words")
    return words


def new_code() -> str:
    """A fresh code: five words chosen by `secrets`, joined by hyphens."""
    words = wordlist()
    # One draw below 7776^5 read as five base-7776 digits: as uniform as five choices, one syscall.
    number = secrets.randbelow(len(words) ** WORDS_IN_A_CODE)
    chosen = []
    for _ in range(WORDS_IN_A_CODE):
        number, index = divmod(number, len(words))
        chosen.append(words[index])
    return "-".join(chosen)


def normalise(code: str) -> str | None:
    """The code as stored: lower case, words joined by hyphens; None if it cannot be one (five words
    of the list). Four words of the list hold a hyphen themselves ("t-shirt"), so the parts typed are
    read as five words where two parts may make one such word."""
    parts = [p for p in _SEPARATORS.split(code.strip().lower()) if p]
    if not _five_words(parts, WORDS_IN_A_CODE):
        return None
    return "-".join(parts)


def _five_words(parts: list[str], words_left: int) -> bool:
    if not parts:
        return words_left == 0
    if words_left == 0:
        return False
    known = _word_set()
    if parts[0] in known and _five_words(parts[1:], words_left - 1):
        return True
    return len(parts) > 1 and f"{parts[0]}-{parts[1]}" in known and _five_words(parts[2:], words_left - 1)


@lru_cache(maxsize=1)
def _word_set() -> frozenset[str]:
    return frozenset(wordlist())


def hash_code(normalised: str) -> str:
    """The SHA-256 of a normalised code (a lookup key: 64 bits of randomness behind it)."""
    return hashlib.sha256(b"thirdspace-withdrawal:" + normalised.encode()).hexdigest()
