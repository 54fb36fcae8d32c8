"""Word-cloud normalisation: what makes "Communities", "community " and "COMMUNITY" one word.

NFKC; control, zero-width and bidirectional formatting characters removed; trimmed, inner whitespace
collapsed; case folded; each word lemmatised with simplemma in the session's language; an entry that is
a single stopword dropped. The result is idempotent (normalising a key gives the key): folding and
lemmatising run to a fixed point.

This runs on the answer path, so it is cached: a room sends the same few words over and over. The
first use of a language loads simplemma's dictionary (0.2 to 1.6 s and 25 to 110 MB here): `load()`
it in a thread (`ensure_loaded`) before the event loop needs it."""

from __future__ import annotations

import asyncio
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import simplemma

from app.polls.kinds.base import AnswerRejected
from app.polls.text.stopwords import LANGUAGES, STOPWORDS

# 40 characters a word (or short phrase), once cleaned: a word, not a sentence, fits a cloud.
WORD_MAX = 40
# Longer than this before cleaning is refused unread: NFKC can make one character 18, so a bound on the
# raw text bounds the work.
RAW_MAX = 200

_LOADED: set[str] = set()
_LOADING: dict[str, asyncio.Lock] = {}


@dataclass(frozen=True, slots=True)
class Word:
    """A word as counted (`key`) and as the participant typed it (`text`, cleaned)."""

    key: str
    text: str


def clean(raw: str) -> str:
    """NFKC; whitespace made spaces; other control, zero-width and formatting characters (bidi
    controls, joiners, soft hyphens: categories Cc and Cf) removed; trimmed; runs of spaces made one."""
    text = unicodedata.normalize("NFKC", raw)
    kept = [" " if ch.isspace() else ch for ch in text if ch.isspace() or unicodedata.category(ch)[0] != "C"]
    return " ".join("".join(kept).split())


def _fold(text: str) -> str:
    """NFKC case folding (NFKC, fold, NFKC), to a fixed point."""
    for _ in range(4):
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
        if folded == text:
            break
        text = folded
    return text


def _lemma_of(token: str, language: str) -> str:
    return _fold(simplemma.lemmatize(token, lang=language))


def _is_lemma(folded: str, language: str) -> bool:
    """Whether a folded token is its own lemma, read as written or capitalised (German nouns are
    capitalised: "haus" alone reads as a form of the verb "hausen", "Haus" as the noun)."""
    return any(_lemma_of(form, language) == folded for form in (folded, folded.capitalize()))


@lru_cache(maxsize=65_536)
def lemma(token: str, language: str) -> str:
    """The token's lemma, folded. A token already its own lemma stays; otherwise simplemma reads the
    token as typed (case helps it), and if that is not a lemma either, lemmatising runs to a fixed
    point (a cycle, which a dictionary could hold, resolves to its smallest member). So the lemma of a
    lemma is itself: normalisation is idempotent."""
    folded = _fold(token)
    if _is_lemma(folded, language):
        return folded
    current = _lemma_of(token, language)
    if _is_lemma(current, language):
        return current
    seen: list[str] = []
    while current not in seen:
        seen.append(current)
        current = _lemma_of(current, language)
    return min(seen[seen.index(current) :])


def _key(cleaned: str, language: str) -> str:
    # Each token reaches simplemma as typed (case helps it). Folding can make a space (NFKC of a spacing
    # diacritic), so spaces are collapsed again; normalise() then runs this to a fixed point.
    return " ".join(" ".join(lemma(token, language) for token in cleaned.split()).split())


@lru_cache(maxsize=65_536)
def normalise(raw: str, language: str) -> Word | None:
    """The word to count, or None for a stopword; AnswerRejected with a code for what cannot be one."""
    if len(raw) > RAW_MAX:
        raise AnswerRejected(f"A word is at most {WORD_MAX} characters.", code="word_too_long")
    text = clean(raw)
    if not text:
        raise AnswerRejected(
            "A word was empty once spaces and invisible characters were taken out.", code="empty_word"
        )
    if len(text) > WORD_MAX:
        raise AnswerRejected(f"A word is at most {WORD_MAX} characters.", code="word_too_long")
    key = _key(text, language)
    for _ in range(3):  # NFKC across the joined tokens settles in one more pass, if ever needed
        again = _key(key, language)
        if again == key:
            break
        key = again
    if not key:
        raise AnswerRejected(
            "A word was empty once spaces and invisible characters were taken out.", code="empty_word"
        )
    stopwords = STOPWORDS.get(language, frozenset())
    if " " not in key and (key in stopwords or _fold(text) in stopwords):
        return None
    return Word(key=key, text=text)


def normalise_key(raw: str, language: str) -> str | None:
    """The counting key of a word (for hidden words), or None when it has none (empty, a stopword)."""
    try:
        word = normalise(raw, language)
    except AnswerRejected:
        return None
    return word.key if word is not None else None


def load(language: str) -> None:
    """Load simplemma's dictionary of a language (slow the first time: call it in a thread)."""
    simplemma.lemmatize("a", lang=language)
    _LOADED.add(language)


async def ensure_loaded(language: str) -> None:
    """Load a language's dictionary off the event loop, once per process."""
    if language in _LOADED or language not in LANGUAGES:
        return
    lock = _LOADING.setdefault(language, asyncio.Lock())
    async with lock:
        if language not in _LOADED:
            await asyncio.to_thread(load, language)
