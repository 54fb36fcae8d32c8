"""Word clouds: up to `max_entries` words per participant (a new answer replaces the earlier words).
Words are normalised (app.polls.text.words) and counted per participant; a word enters the cloud only
once k different participants used it (ETHICS 10), and never while the facilitator hides it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.polls import aggregation
from app.polls.kinds.base import Accepted, AnswerRejected, Counted
from app.polls.text import words as wordtext

NAME = "wordcloud"
ENTRIES = False
# At most this many words are shown: past it a cloud is unreadable from the back of a room.
SHOWN_MAX = 100
# k is never below 3 (ETHICS 8): a word used by fewer can never be shown, so it is not stored.
K_FLOOR = 3


def config_from_create(request: Any) -> dict[str, Any]:
    return {"max_entries": int(request.max_entries), "hidden_words": [], "hidden_keys": []}


def duplicate_config(config: dict[str, Any]) -> dict[str, Any]:
    return dict(config)


def public_fields(config: dict[str, Any], *, facilitator: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {"max_entries": config["max_entries"]}
    if facilitator:
        # Phones never see the hidden words: they may hold abuse.
        fields["hidden_words"] = config["hidden_words"]
    return fields


def with_hidden_words(config: dict[str, Any], hidden: list[str], *, language: str) -> dict[str, Any]:
    """The config with a new list of hidden words (each matched by its normalised key); AnswerRejected
    names the first word that has no key (empty once normalised, or a stopword)."""
    shown: list[str] = []
    keys: list[str] = []
    for i, text in enumerate(hidden):
        key = wordtext.normalise_key(text, language)
        if key is None:
            raise AnswerRejected(f"hidden_words.{i}", code="no_key")
        if key not in keys:
            keys.append(key)
            shown.append(wordtext.clean(text))
    return {**config, "hidden_words": shown, "hidden_keys": keys}


def accept(config: dict[str, Any], value: Any, *, language: str) -> Accepted:
    """1 to max_entries words; each normalised; stopwords dropped (not all of them); a word given
    twice counts once. The stored value is the cleaned words as typed, so a different spelling is a
    change (the cloud shows the most common spelling)."""
    if not isinstance(value, dict) or set(value) != {"words"} or not isinstance(value["words"], list):
        raise AnswerRejected('A word-cloud answer is {"words": [words]}, or null to prefer not to answer.')
    entries = value["words"]
    if not entries or not all(isinstance(entry, str) for entry in entries):
        raise AnswerRejected("Send at least one word.")
    if len(entries) > config["max_entries"]:
        raise AnswerRejected(f"At most {config['max_entries']} words, please.", code="too_many_words")
    counted: dict[str, str] = {}
    typed: list[str] = []
    for entry in entries:
        word = wordtext.normalise(entry, language)  # refuses what cannot be a word, raw length first
        typed.append(wordtext.clean(entry))
        if word is not None:
            counted[word.key] = min(word.text, counted.get(word.key, word.text))
    # Sorted, so the same words in another order are the same stored value; a word typed twice in two
    # spellings counts once, under the same spelling whatever the order.
    typed.sort()
    if not counted:
        raise AnswerRejected(
            "Those words are too common for a cloud (like “the” or “and”); try a more telling word.",
            code="no_words",
        )
    return Accepted(value={"words": typed}, words=tuple(sorted(counted.items())))


async def count(db: AsyncSession, *, question_id: str, config: dict[str, Any]) -> Counted:
    """Participants per word (GROUP BY word), with each word's most common spelling; words fewer than
    3 used are left out, since no k can show them."""
    answered = await aggregation.answered(db, question_id=question_id)
    rows = await aggregation.word_counts(db, question_id=question_id, at_least=K_FLOOR)
    words = [{"key": key, "text": text, "count": n} for key, text, n in rows]
    return Counted(n=answered.n, summary={"words": words, "declined": answered.declined})


def summarise(config: dict[str, Any], summary: dict[str, Any], *, k: int) -> dict[str, Any]:
    """Words used by at least k participants and not hidden, most used first, at most SHOWN_MAX."""
    hidden = set(config.get("hidden_keys", ()))
    shown = [
        {"text": w["text"], "count": w["count"]}
        for w in summary["words"]
        if w["count"] >= k and w["key"] not in hidden
    ]
    return {"words": shown[:SHOWN_MAX], "declined": summary["declined"]}


def own_k(summary: dict[str, Any]) -> dict[str, int]:
    """Each stored word (by its key), with how many participants used it."""
    return {w["key"]: w["count"] for w in summary["words"]}


def withhold(summary: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    """Withheld words are left out, as a word used by fewer than k is."""
    return {**summary, "words": [w for w in summary["words"] if w["key"] not in keys]}
