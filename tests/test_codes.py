"""Withdrawal codes (app/sessions/codes.py): five words of the 7,776-word list, each drawn uniformly
and independently, so a code holds 64.6 bits."""

from __future__ import annotations

from collections import Counter

from app.sessions import codes


def test_a_code_is_five_words_of_the_list_and_reads_back_as_itself() -> None:
    words = set(codes.wordlist())
    for _ in range(200):
        code = codes.new_code()
        assert codes.normalise(code) == code
        assert codes.normalise(code.upper().replace("-", " ")) == code
        parts = code.split("-")
        # Four words of the list hold a hyphen themselves ("t-shirt").
        assert len(parts) >= codes.WORDS_IN_A_CODE
        assert all(part in words or any(part in w.split("-") for w in words) for part in parts)


def test_each_place_in_a_code_draws_from_the_whole_list_independently() -> None:
    drawn = [codes.normalise(codes.new_code()) for _ in range(20_000)]
    places: list[Counter[str]] = [Counter() for _ in range(codes.WORDS_IN_A_CODE)]
    same_as_first = 0
    for code in drawn:
        assert code is not None
        chosen = _words(code)
        for place, word in enumerate(chosen):
            places[place][word] += 1
        same_as_first += sum(word == chosen[0] for word in chosen[1:])
    for counts in places:
        # 20,000 uniform draws from 7,776 words show about 7,180 distinct ones, none very often.
        assert len(counts) > 6_900
        assert max(counts.values()) < 20
    # Independent places: a word repeats another place's word about 4 x 20,000 / 7,776 = 10 times.
    assert same_as_first < 40
    assert len(set(drawn)) == len(drawn)


def _words(code: str) -> list[str]:
    """The five words of a stored code (hyphens inside a word of the list kept)."""
    listed = set(codes.wordlist())
    parts = code.split("-")
    words: list[str] = []
    i = 0
    while i < len(parts):
        if i + 1 < len(parts) and f"{parts[i]}-{parts[i + 1]}" in listed:
            words.append(f"{parts[i]}-{parts[i + 1]}")
            i += 2
        else:
            words.append(parts[i])
            i += 1
    assert len(words) == codes.WORDS_IN_A_CODE
    return words
