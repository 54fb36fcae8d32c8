"""The demo that `make run` sets up: a facilitator account and a session with three questions."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from app.auth import service as auth_service
from app.config import Settings
from app.db import Database
from app.polls import service as polls_service
from app.polls.schemas import ChoiceQuestionCreate
from app.sessions import service as sessions_service
from app.sessions.models import LiveSession

DEMO_EMAIL = "demo@thirdspace.local"
DEMO_TITLE = "Thirdspace demo"
DEMO_CONSENT = (
    "This is a demonstration of Thirdspace.\n\n"
    "Your answers are anonymous: no name, e-mail or device details are kept, and results appear only "
    'once enough people have answered. You can choose "Prefer not to answer" for any question.'
)
DEMO_QUESTIONS = [
    (
        "Which part of today matters most to you?",
        ["Listening", "Sharing practice", "Planning next steps", "Meeting people"],
        False,
    ),
    ("How did you travel here?", ["Walked or cycled", "Public transport", "Car", "I joined online"], False),
    (
        "Which topics should the breakouts cover?",
        ["Funding", "Staffing", "Partnerships", "Evaluation", "Wellbeing"],
        True,
    ),
]


async def ensure_demo(settings: Settings, *, password: str) -> str:
    """Create what is missing and describe how to reach it."""
    database = Database(settings.DATABASE_URL)
    lines: list[str] = []
    try:
        async with database.session() as db:
            account = await auth_service.get_by_email(db, email=DEMO_EMAIL)
            if account is None:
                account = await auth_service.create_account(db, email=DEMO_EMAIL, password=password)
                lines.append(f"Demo facilitator: {DEMO_EMAIL}  password: {password}  (shown only this once)")
            else:
                lines.append(
                    f"Demo facilitator: {DEMO_EMAIL} (password as first printed; to set a new one: printf "
                    f"'new-password' | .venv/bin/thirdspace user password {DEMO_EMAIL} --password-stdin)"
                )
            live = await db.scalar(
                select(LiveSession)
                .where(
                    col(LiveSession.owner_id) == account.id,
                    col(LiveSession.title) == DEMO_TITLE,
                    col(LiveSession.closed_at).is_(None),
                )
                .limit(1)
            )
            if live is None:
                live = await sessions_service.create_session(
                    db,
                    owner=account,
                    title=DEMO_TITLE,
                    min_group=3,
                    consent_text=DEMO_CONSENT,
                    retention_days=settings.RETENTION_DAYS,
                )
                for prompt, options, multiple in DEMO_QUESTIONS:
                    await polls_service.create_question(
                        db,
                        live=live,
                        request=ChoiceQuestionCreate(
                            kind="choice", prompt=prompt, options=options, multiple=multiple
                        ),
                    )
            await db.commit()
    finally:
        await database.dispose()
    public = settings.PUBLIC_URL
    lines += [
        f"Console:   {public}/console/{live.id}   (log in at {public}/login)",
        f"Presenter: {public}/presenter/{live.id}",
        f"Join:      {public}/j/{live.code}   (or type the code {live.code} on {public}/)",
    ]
    return "\n".join(lines)
