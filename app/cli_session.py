"""`thirdspace session import FILE --owner EMAIL` and `thirdspace session export-template SESSION_ID`."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from app.config import ConfigError, Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    session = sub.add_parser("session", help="save a session's plan as a template, or make one from it")
    session_sub = session.add_subparsers(dest="session_command", required=True)
    imported = session_sub.add_parser("import", help="create a session from a template file (JSON)")
    imported.add_argument("file")
    imported.add_argument("--owner", required=True, help="the e-mail of the facilitator who will own it")
    exported = session_sub.add_parser(
        "export-template", help="write a session's settings, sections and questions as a template"
    )
    exported.add_argument("session_id")
    exported.add_argument("-o", "--output", help="the file to write (default: standard output)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    from app.auth import service as auth_service
    from app.db import Database
    from app.polls import template_files
    from app.sessions.models import LiveSession

    template = None
    if args.session_command == "import":
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"cannot read {args.file}: {error}") from None
        try:
            template = template_files.parse(text)
        except template_files.TemplateError as bad:
            raise ConfigError(f"{args.file}: {bad}") from None

    async def go() -> tuple[str, str | None]:
        """(the message, the template's text when exporting)."""
        database = Database(settings.DATABASE_URL)
        try:
            async with database.session() as db:
                if template is not None:
                    owner = await auth_service.get_by_email(db, email=args.owner)
                    if owner is None:
                        raise ConfigError(f"no account for {args.owner}.")
                    live = await template_files.create_from(
                        db, owner=owner, template=template, retention_days=settings.RETENTION_DAYS
                    )
                    await db.commit()
                    message = (
                        f"Created session {live.id} ({live.title!r}) with code {live.code}: "
                        f"{settings.PUBLIC_URL}/console/{live.id}"
                    )
                    return message, None
                found = await db.get(LiveSession, args.session_id)
                if found is None:
                    raise ConfigError(f"no session {args.session_id}.")
                exported = template_files.dumps(await template_files.export_template(db, live=found))
                return f"Wrote the template of {found.title!r} to {args.output}.", exported
        finally:
            await database.dispose()

    message, exported = asyncio.run(go())
    if exported is not None and not args.output:
        print(exported, end="")
        return 0
    if exported is not None:
        Path(args.output).write_text(exported, encoding="utf-8")
    print(message)
    return 0
