"""Questions of a session: create, list, open, close, reveal; and the question as the API shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import Database, utcnow
from app.errors import AppError, not_found
from app.polls import results
from app.polls.kinds import AnswerRejected, kind_of, wordcloud
from app.polls.models import Question, ResultChange, Section
from app.polls.schemas import QuestionCreate, QuestionUpdate
from app.polls.text import words
from app.sessions.models import LiveSession


async def _next_position(db: AsyncSession, session_id: str) -> int:
    count = await db.scalar(
        select(func.count()).select_from(Question).where(col(Question.session_id) == session_id)
    )
    return (count or 0) + 1


def question_public(question: Question, *, facilitator: bool = True) -> dict[str, Any]:
    """The question as the API and `session.state` show it; phones (`facilitator=False`) may be shown
    less (a word cloud's hidden words, which may hold abuse)."""
    return {
        "id": question.id,
        "kind": question.kind,
        "prompt": question.prompt,
        "open": question.is_open,
        "closed": question.is_closed,
        "results_visible": question.results_visible,
        "comments": question.comments,
        "show_comments": question.show_comments,
        "moderated": question.moderated,
        "section_id": question.section_id,
        "closes_at": question.closes_at.isoformat() if question.closes_at else None,
        **kind_of(question.kind).public_fields(question.config, facilitator=facilitator),
    }


async def create_question(db: AsyncSession, *, live: LiveSession, request: QuestionCreate) -> Question:
    """Add a question at the end of the session; it starts not open, results hidden from phones."""
    if live.closed:
        raise AppError(409, "session_closed", "This session is closed; it takes no new questions.")
    question = Question(
        session_id=live.id,
        position=await _next_position(db, live.id),
        kind=request.kind,
        prompt=request.prompt,
        config=kind_of(request.kind).config_from_create(request),
        comments=request.comments,
        moderated=request.moderated,
        section_id=await section_of(db, live=live, section_id=request.section_id),
    )
    db.add(question)
    await db.flush()
    return question


async def section_of(db: AsyncSession, *, live: LiveSession, section_id: str | None) -> str | None:
    """The section id if it is one of this session's sections; 422 naming `section_id` otherwise."""
    if section_id is None:
        return None
    section = await db.get(Section, section_id)
    if section is None or section.session_id != live.id:
        raise AppError(
            422,
            "invalid",
            "There is no such section in this session.",
            fields={"section_id": "not a section of this session"},
        )
    return section.id


async def list_questions(db: AsyncSession, *, session_id: str) -> list[Question]:
    """A session's questions in the order they were added."""
    result = await db.execute(
        select(Question).where(col(Question.session_id) == session_id).order_by(col(Question.position))
    )
    return list(result.scalars())


async def get_question(db: AsyncSession, *, live: LiveSession, question_id: str) -> Question:
    """The question if it belongs to this session; 404 otherwise."""
    question = await db.get(Question, question_id)
    if question is None or question.session_id != live.id:
        raise not_found("This question")
    return question


async def has_answers(db: AsyncSession, *, session_id: str) -> bool:
    """Whether anyone ever contributed to the session (an answer, a "prefer not to answer"): the
    change log keeps the fact even after they left, so anonymity stays locked (ETHICS 3)."""
    found = await db.scalar(
        select(col(ResultChange.question_id))
        .join(Question, col(Question.id) == col(ResultChange.question_id))
        .where(col(Question.session_id) == session_id)
        .limit(1)
    )
    return found is not None


async def update_question(
    db: AsyncSession,
    *,
    live: LiveSession,
    question: Question,
    change: QuestionUpdate,
) -> bool:
    """Open, close (for good) or reveal a question, show its comments, hide words of a word cloud.
    Returns whether it closed now, so the caller can publish its exact result. Showing comments and
    hiding words are moderation: allowed on a closed question and in a closed session."""
    if live.closed and (change.open is not None or change.results_visible is not None):
        raise AppError(409, "session_closed", "This session is closed.")
    if change.show_comments is not None and not question.comments:
        raise AppError(
            422,
            "invalid",
            "This question does not take comments, so there are none to show.",
            fields={"show_comments": "the question does not take comments"},
        )
    if change.hidden_words is not None:
        if question.kind != "wordcloud":
            raise AppError(
                422,
                "invalid",
                "Only word clouds have words to hide.",
                fields={"hidden_words": "only for word-cloud questions"},
            )
        await words.ensure_loaded(live.language)
        try:
            question.config = wordcloud.with_hidden_words(
                question.config, change.hidden_words, language=live.language
            )
        except AnswerRejected as bad:
            raise AppError(
                422,
                "invalid",
                "A hidden word is empty once normalised, or too common to be in a cloud.",
                fields={bad.message: "empty once normalised, or a stopword"},
            ) from None
    closing = False
    if change.open is True:
        if question.is_closed:
            raise AppError(
                409, "question_closed", "A closed question cannot be reopened; add a new question instead."
            )
        if question.opened_at is None:
            question.opened_at = utcnow()
            if question.kind == "wordcloud":
                # Load the language's dictionary now (in a thread), not on the first answer.
                await words.ensure_loaded(live.language)
    elif change.open is False and not question.is_closed:
        now = utcnow()
        question.opened_at = question.opened_at or now
        question.closed_at = now
        closing = True
    if change.results_visible is not None:
        question.results_visible = change.results_visible
    if change.show_comments is not None:
        question.show_comments = change.show_comments
    db.add(question)
    await db.flush()
    if closing:
        await results.finalise(db, question=question)
    return closing


async def duplicate_question(db: AsyncSession, *, live: LiveSession, question: Question) -> Question:
    """A new question with the same kind, prompt and fields (new option and statement ids), not yet
    open; its comments are not shown until the facilitator says so."""
    if live.closed:
        raise AppError(409, "session_closed", "This session is closed; it takes no new questions.")
    copy = Question(
        session_id=live.id,
        position=await _next_position(db, live.id),
        kind=question.kind,
        prompt=question.prompt,
        config=kind_of(question.kind).duplicate_config(question.config),
        comments=question.comments,
        moderated=question.moderated,
        section_id=question.section_id,
    )
    db.add(copy)
    await db.flush()
    return copy


async def close_open_questions(db: AsyncSession, *, live: LiveSession) -> list[Question]:
    """Close every open question of a session that is closing, each with its exact final result."""
    closed = []
    for question in await list_questions(db, session_id=live.id):
        if question.is_open and await update_question(
            db, live=live, question=question, change=QuestionUpdate(open=False)
        ):
            closed.append(question)
    return closed


async def questions_contributed_to(db: AsyncSession, *, participant_id: str) -> list[Question]:
    """The questions a participant ever changed their contribution to (answers, declines, entries...)."""
    theirs = select(col(ResultChange.question_id)).where(col(ResultChange.participant_id) == participant_id)
    result = await db.execute(select(Question).where(col(Question.id).in_(theirs)))
    return list(result.scalars())


@dataclass(frozen=True, slots=True)
class Removal:
    """The questions a leaving participant contributed to, as found before they are deleted."""

    open: list[Question]
    closed: list[Question]


async def participant_leaving(db: AsyncSession, *, participant_id: str) -> Removal:
    """Call before a participant's rows are deleted (declining consent; withdrawal, issue 9): their
    removal is one change of theirs to each open question they contributed to, so it counts towards
    the next step, which then shows the result without them, and never moves the result by itself."""
    questions = await questions_contributed_to(db, participant_id=participant_id)
    removal = Removal(
        open=[q for q in questions if not q.is_closed], closed=[q for q in questions if q.is_closed]
    )
    if removal.open:
        await db.execute(
            insert(ResultChange),
            [{"question_id": q.id, "participant_id": participant_id} for q in removal.open],
        )
    return removal


async def participant_left(db: AsyncSession, *, removal: Removal) -> None:
    """Call after the participant's rows are deleted: closed questions' exact results are recomputed
    (a closed result is exact, ETHICS 9); the caller queues their publication."""
    for question in removal.closed:
        await results.finalise(db, question=question)


async def rekey_hidden_words(db: AsyncSession, *, live: LiveSession) -> None:
    """After the session's language changed (only possible before any answer): match each word
    cloud's hidden words in the new language."""
    await words.ensure_loaded(live.language)
    for question in await list_questions(db, session_id=live.id):
        if question.kind == "wordcloud" and question.config.get("hidden_words"):
            try:
                question.config = wordcloud.with_hidden_words(
                    question.config, question.config["hidden_words"], language=live.language
                )
            except AnswerRejected:
                # A word that is a stopword in the new language has nothing left to hide.
                kept = [w for w in question.config["hidden_words"] if words.normalise_key(w, live.language)]
                question.config = wordcloud.with_hidden_words(question.config, kept, language=live.language)
            db.add(question)
    await db.flush()


async def word_cloud_languages(db: AsyncSession) -> set[str]:
    """The languages of sessions with an open word cloud (to load their dictionaries at start-up)."""
    rows = await db.execute(
        select(col(LiveSession.language))
        .join(Question, col(Question.session_id) == col(LiveSession.id))
        .where(
            col(Question.kind) == "wordcloud",
            col(Question.opened_at).is_not(None),
            col(Question.closed_at).is_(None),
        )
        .distinct()
    )
    return {language for (language,) in rows}


async def load_word_cloud_languages(database: Database) -> None:
    """Load, in a thread, the dictionaries open word clouds need (after a restart, before the first
    answer has to wait for one)."""
    async with database.read_session() as db:
        languages = await word_cloud_languages(db)
    for language in sorted(languages):
        await words.ensure_loaded(language)
