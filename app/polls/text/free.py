"""Free text (open entries, Q&A questions, comments): kept as written, with what would garble a wall of
cards taken out, and a short abuse word list that sends likely abuse to the facilitator first."""

from __future__ import annotations

import re
import unicodedata

from app.polls.kinds.base import AnswerRejected

# Bidirectional embeddings, overrides and isolates reorder the text around them on screen (and can
# make one entry look like another); zero-width characters hide inside words. All are category Cf.
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(raw: str, *, limit: int) -> str:
    """The text trimmed, line breaks kept (three or more made two), other control and formatting
    characters removed; AnswerRejected when nothing is left or it is over `limit` characters."""
    if len(raw) > 4 * limit:
        raise AnswerRejected(f"That is too long: at most {limit} characters.", code="text_too_long")
    text = _NEWLINES.sub("\n", unicodedata.normalize("NFC", raw))
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = _BLANK_LINES.sub("\n\n", "\n".join(line.rstrip() for line in text.replace("\t", " ").split("\n")))
    text = text.strip()
    if not text:
        raise AnswerRejected("Write something first: the text is empty.", code="empty_text")
    if len(text) > limit:
        raise AnswerRejected(f"That is too long: at most {limit} characters.", code="text_too_long")
    return text


# Whole words, case-folded, after undoing common look-alike digits. Short and best effort (English):
# it puts likely abuse in front of the facilitator before a screen shows it; it is not a filter.
_ABUSE = frozenset(
    """
arse arsehole asshole bastard bitch bollocks bullshit cock cocksucker crap cunt dick dickhead dyke
fag faggot fuck fucked fucker fucking fuckwit kike motherfucker nigga nigger paki piss pissed prick
pussy retard retarded shit shite shitty slag slut spastic spaz tosser twat wank wanker whore
""".split()
)
_LOOKALIKE = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_WORD = re.compile(r"[^\W\d_]+")


def flagged(text: str) -> bool:
    """Whether the abuse word list matches a whole word of the text."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_LOOKALIKE)
    return any(word in _ABUSE for word in _WORD.findall(folded))
