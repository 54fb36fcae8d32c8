"""Live sessions, join codes, participants and consent."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import Account
from app.auth.security import hash_participant_token
from app.db import utcnow
from app.errors import AppError, not_found
from app.sessions.models import LiveSession, Participant


def consent_version(text: str | None) -> str | None:
    """The version of an information sheet: the SHA-256 of its text."""
    return hashlib.sha256(text.encode()).hexdigest() if text else None


async def _unused_code(db: AsyncSession) -> str:
    # 8 digits: 10^8 codes, so a guess hits an open session with odds of (open sessions) / 10^8,
    # and failed guesses are rate-limited per address.
    for _ in range(20):
        code = f"{secrets.randbelow(10**8):08d}"
        taken = await db.scalar(select(col(LiveSession.id)).where(col(LiveSession.code) == code))
        if taken is None:
            return code
    raise RuntimeError("no free join code after 20 tries")


async def create_session(
    db: AsyncSession,
    *,
    owner: Account,
    title: str,
    min_group: int,
    consent_text: str | None,
    language: str = "en",
) -> LiveSession:
    """Create a live session with a fresh join code."""
    consent_text = consent_text or None
    live = LiveSession(
        owner_id=owner.id,
        title=title,
        code=await _unused_code(db),
        min_group=min_group,
        consent_text=consent_text,
        consent_version=consent_version(consent_text),
        language=language,
    )
    db.add(live)
    await db.flush()
    return live


async def get_owned(db: AsyncSession, *, session_id: str, owner: Account) -> LiveSession:
    """The session if this account owns it; 404 otherwise (another's session does not exist for you)."""
    live = await db.get(LiveSession, session_id)
    if live is None or live.owner_id != owner.id:
        raise not_found("This session")
    return live


async def list_owned(db: AsyncSession, *, owner: Account) -> list[LiveSession]:
    """The account's sessions, newest first."""
    result = await db.execute(
        select(LiveSession)
        .where(col(LiveSession.owner_id) == owner.id)
        .order_by(col(LiveSession.created_at).desc())
    )
    return list(result.scalars())


async def update_session(
    db: AsyncSession,
    *,
    live: LiveSession,
    title: str | None = None,
    min_group: int | None = None,
    consent_text: str | None = None,
    language: str | None = None,
    close: bool = False,
    answers_exist: bool,
) -> LiveSession:
    """Change a session's title or settings, or close it. Anonymity cannot be weakened once an answer
    exists (ETHICS 3), and a closed session stays closed."""
    if live.closed:
        raise AppError(409, "session_closed", "This session is closed; it cannot be changed.")
    if min_group is not None and min_group != live.min_group:
        if answers_exist and min_group < live.min_group:
            raise AppError(
                409,
                "settings_locked",
                "Answers exist, so the smallest group shown (k) can no longer be lowered.",
                fields={"settings.min_group": "cannot be lowered once answers exist"},
            )
        live.min_group = min_group
    if consent_text is not None and (consent_text or None) != live.consent_text:
        if answers_exist:
            raise AppError(
                409,
                "settings_locked",
                "Answers exist, so the information sheet can no longer change.",
                fields={"settings.consent_text": "cannot change once answers exist"},
            )
        live.consent_text = consent_text or None
        live.consent_version = consent_version(live.consent_text)
    if language is not None and language != live.language:
        if answers_exist:
            raise AppError(
                409,
                "settings_locked",
                "Answers exist, so the language word clouds are read in can no longer change.",
                fields={"settings.language": "cannot change once answers exist"},
            )
        live.language = language
    if title is not None:
        live.title = title
    if close:
        live.closed_at = utcnow()
    db.add(live)
    await db.flush()
    return live


async def set_current(db: AsyncSession, *, live: LiveSession, question_id: str | None) -> LiveSession:
    """Make a question (already checked to belong to the session) current, or none."""
    if live.closed:
        raise AppError(409, "session_closed", "This session is closed.")
    live.current_question_id = question_id
    db.add(live)
    await db.flush()
    return live


async def open_session_by_code(db: AsyncSession, *, code: str) -> LiveSession | None:
    """The open session with this join code, if any."""
    result = await db.execute(
        select(LiveSession).where(col(LiveSession.code) == code, col(LiveSession.closed_at).is_(None))
    )
    return result.scalar_one_or_none()


async def participant_by_token(db: AsyncSession, *, session_id: str, token: str) -> Participant | None:
    """The participant of this session that holds this token, if any."""
    result = await db.execute(
        select(Participant).where(
            col(Participant.token_hash) == hash_participant_token(token),
            col(Participant.session_id) == session_id,
        )
    )
    return result.scalar_one_or_none()


async def participant_id_by_token(db: AsyncSession, *, session_id: str, token: str) -> str | None:
    """The id of this session's participant holding this token (one indexed lookup, no ORM object)."""
    return await db.scalar(
        select(col(Participant.id)).where(
            col(Participant.token_hash) == hash_participant_token(token),
            col(Participant.session_id) == session_id,
        )
    )


def needs_consent(live: LiveSession, participant: Participant) -> bool:
    return live.consent_version is not None and participant.consent_version != live.consent_version


async def record_consent(
    db: AsyncSession, *, live: LiveSession, participant: Participant, version: str | None, agree: bool
) -> bool:
    """Agree: store the sheet's version and the time. Decline: delete the participant. Returns agree."""
    if live.closed:
        raise AppError(409, "session_closed", "This session is closed.")
    if live.consent_version is None:
        raise AppError(409, "consent_not_required", "This session has no information sheet to agree to.")
    if version != live.consent_version:
        raise AppError(
            409, "consent_stale", "The information sheet has changed; reload the page and read it again."
        )
    if not agree:
        await db.execute(delete(Participant).where(col(Participant.id) == participant.id))
        return False
    if participant.consent_version == live.consent_version:
        raise AppError(409, "already_consented", "You have already agreed to this information sheet.")
    participant.consent_version = version
    participant.consented_at = utcnow()
    db.add(participant)
    await db.flush()
    return True
