"""Live sessions, join codes, participants and consent."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import Account
from app.auth.security import hash_participant_token
from app.db import utcnow
from app.errors import AppError, not_found
from app.sessions import codes
from app.sessions.models import ConsentSheet, LiveSession, Participant, SessionResearcher


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
    retention_days: int,
    export_minutes: bool = False,
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
        retention_days=retention_days,
        export_minutes=export_minutes,
    )
    db.add(live)
    await db.flush()
    await _keep_sheet(db, live)
    return live


async def _keep_sheet(db: AsyncSession, live: LiveSession) -> None:
    """Keep the session's current sheet as a version (once per text): participants keep the version
    they agreed to, so every version that anyone may have read stays."""
    if live.consent_version is None or live.consent_text is None:
        return
    if await db.get(ConsentSheet, (live.id, live.consent_version)) is None:
        db.add(ConsentSheet(session_id=live.id, version=live.consent_version, text=live.consent_text))
        await db.flush()


async def sheet_versions(db: AsyncSession, *, live: LiveSession) -> list[tuple[ConsentSheet, int]]:
    """Every kept version of the session's sheet, oldest first, with how many participants agreed to
    it (counts only: never who)."""
    counts = dict(
        (
            await db.execute(
                select(col(Participant.consent_version), func.count())
                .where(col(Participant.session_id) == live.id, col(Participant.consent_version).is_not(None))
                .group_by(col(Participant.consent_version))
            )
        ).all()
    )
    sheets = await db.scalars(
        select(ConsentSheet)
        .where(col(ConsentSheet.session_id) == live.id)
        .order_by(col(ConsentSheet.created_at), col(ConsentSheet.version))
    )
    return [(sheet, int(counts.get(sheet.version, 0))) for sheet in sheets]


async def get_owned(db: AsyncSession, *, session_id: str, owner: Account) -> LiveSession:
    """The session if this account owns it; 404 otherwise (another's session does not exist for you)."""
    live = await db.get(LiveSession, session_id)
    if live is None or live.owner_id != owner.id:
        raise not_found("This session")
    return live


async def is_researcher(db: AsyncSession, *, session_id: str, account: Account) -> bool:
    """Whether the session's facilitator added this account as a researcher."""
    return await db.get(SessionResearcher, (session_id, account.id)) is not None


async def get_readable(db: AsyncSession, *, session_id: str, account: Account) -> LiveSession:
    """The session if this account owns it or was added as its researcher; 404 otherwise."""
    live = await db.get(LiveSession, session_id)
    if live is None or (
        live.owner_id != account.id and not await is_researcher(db, session_id=session_id, account=account)
    ):
        raise not_found("This session")
    return live


async def list_shared(db: AsyncSession, *, account: Account) -> list[LiveSession]:
    """Sessions this account was added to as a researcher, newest first."""
    result = await db.execute(
        select(LiveSession)
        .join(SessionResearcher, col(SessionResearcher.session_id) == col(LiveSession.id))
        .where(col(SessionResearcher.account_id) == account.id)
        .order_by(col(LiveSession.created_at).desc())
    )
    return list(result.scalars())


async def researchers(db: AsyncSession, *, live: LiveSession) -> list[Account]:
    """The accounts added to the session as researchers, in the order they were added."""
    result = await db.execute(
        select(Account)
        .join(SessionResearcher, col(SessionResearcher.account_id) == col(Account.id))
        .where(col(SessionResearcher.session_id) == live.id)
        .order_by(col(SessionResearcher.created_at))
    )
    return list(result.scalars())


async def add_researcher(db: AsyncSession, *, live: LiveSession, email: str) -> Account:
    """Add the account with this e-mail as a researcher of the session (idempotent)."""
    account = await db.scalar(select(Account).where(func.lower(col(Account.email)) == email.strip().lower()))
    if account is None:
        raise AppError(
            422,
            "unknown_account",
            "No account has that e-mail address; ask an administrator to create it first "
            "(thirdspace user add EMAIL --role researcher --password-stdin).",
            fields={"email": "no account with this e-mail"},
        )
    if account.id == live.owner_id:
        raise AppError(
            422,
            "invalid",
            "That is the session's own facilitator, who sees everything already.",
            fields={"email": "the session's facilitator"},
        )
    if await db.get(SessionResearcher, (live.id, account.id)) is None:
        db.add(SessionResearcher(session_id=live.id, account_id=account.id))
        await db.flush()
    return account


async def remove_researcher(db: AsyncSession, *, live: LiveSession, account_id: str) -> None:
    """Take a researcher off the session; 404 if they were not on it."""
    found = await db.get(SessionResearcher, (live.id, account_id))
    if found is None:
        raise not_found("This researcher")
    await db.delete(found)
    await db.flush()


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
    retention_days: int | None = None,
    export_minutes: bool | None = None,
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
        # A new version beside the old ones: whoever agreed already keeps the version they read.
        live.consent_text = consent_text or None
        live.consent_version = consent_version(live.consent_text)
        await _keep_sheet(db, live)
    if language is not None and language != live.language:
        if answers_exist:
            raise AppError(
                409,
                "settings_locked",
                "Answers exist, so the language word clouds are read in can no longer change.",
                fields={"settings.language": "cannot change once answers exist"},
            )
        live.language = language
    if export_minutes is not None and export_minutes != live.export_minutes:
        if answers_exist and export_minutes:
            raise AppError(
                409,
                "settings_locked",
                "Answers exist, so exports can no longer be asked to carry answer times.",
                fields={"settings.export_minutes": "cannot be turned on once answers exist"},
            )
        live.export_minutes = export_minutes
    if retention_days is not None and retention_days != live.retention_days:
        # Keeping raw answers longer than the participants were told weakens what they agreed to.
        if answers_exist and retention_days > live.retention_days:
            raise AppError(
                409,
                "settings_locked",
                "Answers exist, so the retention period can no longer be made longer (shorter is fine).",
                fields={"settings.retention_days": "cannot be raised once answers exist"},
            )
        live.retention_days = retention_days
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


def needs_consent(live: LiveSession, participant: Participant) -> bool:
    """Whether the participant must agree before answering: the session has a sheet and they agreed to
    none of its versions (one who agreed to an earlier version keeps it)."""
    return live.consent_version is not None and participant.consent_version is None


def issue_withdrawal_code(participant: Participant) -> str:
    """A new withdrawal code for the participant: its hash is stored, the code returned to show once."""
    code = codes.new_code()
    participant.withdrawal_code_hash = codes.hash_code(code)
    return code


async def participant_by_withdrawal_code(db: AsyncSession, *, code: str) -> Participant | None:
    """The participant holding this code, if any (codes are unique across sessions)."""
    normalised = codes.normalise(code)
    if normalised is None:
        return None
    return await db.scalar(
        select(Participant).where(col(Participant.withdrawal_code_hash) == codes.hash_code(normalised))
    )


async def record_consent(
    db: AsyncSession, *, live: LiveSession, participant: Participant, version: str | None, agree: bool
) -> str | None:
    """Agree: store the sheet's version and the time, and return the participant's new withdrawal code
    (shown once). Decline: check only; the caller removes the participant (app.withdrawal)."""
    if live.closed:
        raise AppError(409, "session_closed", "This session is closed.")
    if live.consent_version is None:
        raise AppError(409, "consent_not_required", "This session has no information sheet to agree to.")
    if version != live.consent_version:
        raise AppError(
            409, "consent_stale", "The information sheet has changed; reload the page and read it again."
        )
    if not agree:
        return None
    if participant.consent_version is not None:
        raise AppError(409, "already_consented", "You have already agreed to this information sheet.")
    participant.consent_version = version
    participant.consented_at = utcnow()
    code = issue_withdrawal_code(participant)
    db.add(participant)
    await db.flush()
    return code
