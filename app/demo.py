"""The demo that `make run` sets up: a facilitator account and a short workshop (an information sheet,
a section of reflection questions with one question of every kind, k = 3)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from app.auth import service as auth_service
from app.config import Settings
from app.db import Database
from app.polls import template_files
from app.sessions.models import LiveSession

DEMO_EMAIL = "demo@thirdspace.local"
DEMO_TITLE = "Community reflection workshop (demo)"
DEMO_CONSENT = (
    "# About this workshop\n\n"
    "This is a demonstration of Thirdspace, set up like the community health workshops it was made "
    "for.\n\n"
    "- Your answers are anonymous: no name, e-mail address or device details are kept.\n"
    "- A result appears only once at least 3 people have answered, so nobody's answer can be singled "
    "out.\n"
    '- You can choose "Prefer not to answer" for any question.\n'
    "- After you agree you get a withdrawal code: with it you can remove all your answers later.\n"
)
# One question of every kind, in one section of reflection questions, k = 3: a newcomer sees every
# visual in the first minutes (three phones answering are enough).
DEMO_TEMPLATE: dict[str, Any] = {
    "thirdspace_template": 1,
    "title": DEMO_TITLE,
    "settings": {"min_group": 3, "consent_text": DEMO_CONSENT},
    "questions": [],
    "sections": [
        {
            "title": "Reflections",
            "questions": [
                {
                    "kind": "choice",
                    "prompt": "Which part of today mattered most to you?",
                    "options": ["Listening", "Sharing practice", "Planning next steps", "Meeting people"],
                    "comments": True,
                },
                {
                    "kind": "scale",
                    "prompt": "How far do you agree with each statement?",
                    "statements": [
                        "I felt heard today",
                        "I know what happens next",
                        "Local services work well together",
                    ],
                    "points": 5,
                    "labels": ["Strongly disagree", "Strongly agree"],
                },
                {"kind": "wordcloud", "prompt": "One word for what community means to you", "max_entries": 3},
                {"kind": "open", "prompt": "What should we change first?", "moderated": True},
                {
                    "kind": "ranking",
                    "prompt": "Rank these priorities for next year",
                    "options": ["Mental health support", "Housing repairs", "Youth activities", "Transport"],
                },
                {"kind": "qa", "prompt": "Questions for the panel"},
            ],
        }
    ],
}


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
                template = template_files.parse(json.dumps(DEMO_TEMPLATE))
                live = await template_files.create_from(
                    db, owner=account, template=template, retention_days=settings.RETENTION_DAYS
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
