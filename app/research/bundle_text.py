"""The bundle's README.txt and datapackage.json (a Frictionless Data tabular package)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from app.sessions.models import LiveSession

if TYPE_CHECKING:
    from app.polls.models import Question
    from app.research.export import Bundle

MISSING = ["", "*"]


def readme(live: LiveSession, made_on: date) -> str:
    """What each file holds, the protections applied with which k, the date, and withdrawals."""
    k = live.min_group
    times = (
        "responses.csv has a `minutes` column: whole minutes from the session's first opened question "
        "to the answer (the session asked for it before its first answer). No time of day is written."
        if live.export_minutes
        else "No times are written: the session did not ask for minutes since the start."
    )
    return f"""Thirdspace research bundle
==========================

Session: {live.title}
Bundle made on: {made_on.isoformat()} (UTC)
k (the fewest answers a summary shows): {k}

REPLACE EARLIER BUNDLES. Participants can withdraw at any time with their withdrawal code, during or
after the session. A withdrawal removes everything they gave from every bundle made after it, and
from nothing made before it. Delete every bundle of this session made before this one, and make a new
one before each analysis you publish.

Files
-----
README.txt            this file
questions.csv         the codebook: every question (prompt, kind, section, k), and its options,
                      statements and scale anchors in order, one row per item
responses.csv         one row per answered item, long format: respondent pseudonym, section, question
                      id, kind, item (option, statement, word or entry id), numeric value, value label,
                      text, breakout group, declined ("prefer not to answer")
summary.csv           per question (item empty) and per item: n, declined, count, mean, sd, median, %
                      in the top two points (ranks 1-2 for rankings), and counts per point or rank
comments.csv          free text: open answers, Q&A questions (with their votes), comments, and breakout
                      notes (with their +1s and group), with moderation status
private_messages.csv  private messages participants sent to the research team (ETHICS 7)
datapackage.json      a Frictionless Data package: every file's columns and types, and the codebook

Protections applied
-------------------
- No IP address, user agent, token, account, e-mail of the facilitator or cross-session identifier.
- Respondent pseudonyms ("R" and 12 hex digits) are made for this bundle alone: the same person has a
  different pseudonym in every bundle, so bundles cannot be joined on it.
- Rows of responses.csv and comments.csv are in random order.
- {times}
- Everything participants typed (responses.csv `text`, and `item` of a word-cloud word; comments.csv;
  private_messages.csv; words in summary.csv, `item` and `item_label`) has e-mail addresses, phone
  numbers, UK postcodes, URLs and NHS numbers (mod-11 checked) replaced by [email], [phone],
  [postcode], [url] and [nhs-number]. This is pattern-based and best effort: names and other
  identifying words are NOT caught.
- Cells that begin with =, +, -, @ (or a tab or carriage return) start with an apostrophe, so a
  spreadsheet shows them as text instead of running them.
- summary.csv shows counts from 1 to {k - 1} as *, and hides further cells (secondary suppression) so
  that no hidden count can be worked out from the totals; statistics beside hidden counts are * too
  when they would give a hidden count away. A question or statement answered by fewer than {k} shows
  only that it was (n is *), nothing inside it. Words used by fewer than {k} people are left out.
- Words a facilitator hid from the word cloud are left out of summary.csv (they stay in responses.csv).

What these protections do not do
--------------------------------
responses.csv is row-level pseudonymous data for the named research team: it is protected by
pseudonyms, shuffling and redaction, not by k. Someone who knows how one person answered a few
questions may recognise their row. Free text is one person's words by nature. The k rule on screens
and in summary.csv does not stop someone who added k-1 answers of their own, and a withdrawal after a
question closed changes its exact result by one. Share this bundle only as your ethics approval allows.

Reading it
----------
pandas: pd.read_csv("responses.csv", dtype={{"value": "Int64"}}, keep_default_na=False, na_values=[""])
R:      read.csv("responses.csv", na.strings = "", stringsAsFactors = FALSE)
In summary.csv read "*" as missing (na_values=["*"] / na.strings = c("", "*")).
"""


def _field(name: str, type_: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "description": description, **extra}


def _responses_schema(minutes: bool) -> dict[str, Any]:
    fields = [
        _field("respondent", "string", "Pseudonym of the respondent in this bundle only."),
        _field(
            "section",
            "string",
            "The title of the question's section; empty for a question in no section. Two sections may "
            "share a title: questions.csv's section_order tells them apart.",
        ),
        _field("question_id", "string", "The question (see questions.csv)."),
        _field(
            "question_kind",
            "string",
            "choice, scale, wordcloud, open, ranking or qa.",
            constraints={"enum": ["choice", "scale", "wordcloud", "open", "ranking", "qa"]},
        ),
        _field(
            "item",
            "string",
            "Option or statement id, normalised word (redacted), or entry id; empty for a decline.",
        ),
        _field(
            "value",
            "integer",
            "choice: the option's position; scale: the rating; ranking: the rank (1 = first); "
            "qa: 1 for an upvote of the entry in `item`.",
        ),
        _field("value_label", "string", "The option's label, the scale point's anchor, or 'upvote'."),
        _field("text", "string", "Free text as written, redacted: a word as typed, an entry."),
        _field(
            "group",
            "string",
            "The breakout group ('round 1: Group 2') the respondent was in when they answered, when the "
            "question was a round's group question; empty for an answer from the main room or another "
            "question.",
        ),
        _field(
            "declined", "boolean", "The respondent chose 'prefer not to answer' (the question or statement)."
        ),
    ]
    if minutes:
        fields.append(_field("minutes", "integer", "Whole minutes from the session's first opened question."))
    return {"fields": fields, "missingValues": [""]}


def _summary_schema() -> dict[str, Any]:
    from app.research.export import MAX_LEVELS

    fields = [
        _field("question_id", "string", "The question."),
        _field("kind", "string", "The question's kind."),
        _field("item", "string", "Empty for the question's own row; else the option, statement or word."),
        _field("item_label", "string", "The option's label, statement's text or word as most often spelled."),
        _field("n", "integer", "Respondents counted (a statement: who rated it); * below k."),
        _field("declined", "integer", "Chose 'prefer not to answer'; * from 1 to k-1."),
        _field("count", "integer", "choice: respondents who chose the option; wordcloud: who used the word."),
        _field("mean", "number", "Mean rating, or mean rank for a ranking."),
        _field("sd", "number", "Sample standard deviation."),
        _field("median", "number", "Median rating or rank."),
        _field("top_two_pct", "number", "% of ratings in the top two points (a ranking: ranked 1st or 2nd)."),
    ]
    fields += [
        _field(f"count_{level}", "integer", f"Respondents who gave rating or rank {level}.")
        for level in range(1, MAX_LEVELS + 1)
    ]
    return {"fields": fields, "missingValues": MISSING}


def _strings(names: list[str], descriptions: dict[str, str]) -> dict[str, Any]:
    return {
        "fields": [_field(n, "string", descriptions.get(n, "")) for n in names],
        "missingValues": [""],
    }


def _resource(name: str, path: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "path": path,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "description": description,
        "schema": schema,
    }


def _section(bundle: Bundle, question: Question) -> dict[str, Any]:
    """A codebook entry's section (its title and place), or nothing for a question in no section."""
    found = bundle.section(question)
    return {"section": found[1], "section_order": found[0]} if found is not None else {}


def datapackage(bundle: Bundle) -> dict[str, Any]:
    """The Frictionless descriptor: every CSV's fields with their types, and the codebook."""
    from app.research.export import (
        COMMENTS_FIELDS,
        PRIVATE_MESSAGES_FIELDS,
        QUESTIONS_FIELDS,
    )

    questions_schema = _strings(
        QUESTIONS_FIELDS,
        {
            "section": "The title of the question's section; empty for a question in no section.",
            "section_order": "The section's place among the session's sections (1, 2, ...); empty for "
            "a question in no section.",
        },
    )
    for field in questions_schema["fields"]:
        if field["name"] in ("question_order", "section_order", "points", "k", "item_order"):
            field["type"] = "integer"
        if field["name"] == "multiple":
            field["type"] = "boolean"
    comments_schema = _strings(COMMENTS_FIELDS, {"text": "Redacted free text."})
    for field in comments_schema["fields"]:
        if field["name"] == "votes":
            field["type"] = "integer"
            field["description"] = "Upvotes of a Q&A question; +1s of a breakout note."
        if field["name"] == "group":
            field["description"] = "A breakout note's group ('round 1: Group 2'); else empty."
    return {
        "profile": "tabular-data-package",
        "name": "thirdspace-research-bundle",
        "title": bundle.live.title,
        "description": "An anonymised Thirdspace research bundle; see README.txt for its protections.",
        "keywords": ["thirdspace", "survey", "pseudonymous"],
        "resources": [
            _resource("questions", "questions.csv", questions_schema, "The codebook."),
            _resource(
                "responses",
                "responses.csv",
                _responses_schema(bundle.live.export_minutes),
                "One row per answered item; pseudonymous; shuffled; redacted.",
            ),
            _resource("summary", "summary.csv", _summary_schema(), "Summaries under k; * is suppressed."),
            _resource("comments", "comments.csv", comments_schema, "Free text, redacted; shuffled."),
            _resource(
                "private_messages",
                "private_messages.csv",
                _strings(PRIVATE_MESSAGES_FIELDS, {"text": "Redacted."}),
                "Private messages to the research team.",
            ),
        ],
        # "created" would need a time of day (a Frictionless datetime): the bundle's date is here instead.
        "thirdspace": {
            "bundle_date": bundle.made_on.isoformat(),
            "k": bundle.k,
            "minutes_since_start": bundle.live.export_minutes,
            "codebook": [
                {
                    "question_id": q.id,
                    "order": order,
                    "kind": q.kind,
                    "prompt": q.prompt,
                    **_section(bundle, q),
                    **{
                        key: q.config[key]
                        for key in ("options", "statements", "points", "labels", "multiple")
                        if key in q.config
                    },
                }
                for order, q in enumerate(bundle.questions, start=1)
            ],
        },
    }
