"""The command line, in-process: serve's refusals, migrate, user add/password, demo.

Plain `def` tests: the commands call asyncio.run, which needs no loop already running."""

from __future__ import annotations

import io
import json
import re
import shutil
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from app.cli import main
from app.config import get_settings
from app.migrate import head_revision, upgrade_report

PUBLIC_URL = "http://poll.example.org"


class Cli:
    def __init__(
        self, db_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.db_path = db_path
        self._capsys = capsys
        self._monkeypatch = monkeypatch
        self.out = ""
        self.err = ""

    def run(self, *argv: str, stdin: str | None = None) -> int:
        if stdin is not None:
            self._monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        self._capsys.readouterr()
        code = main(list(argv))
        self.out, self.err = self._capsys.readouterr()
        return code

    def accounts(self) -> list[tuple[str, str, str]]:
        with sqlite3.connect(self.db_path) as connection:
            return list(connection.execute("SELECT email, role, password_hash FROM account ORDER BY email"))


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    db_path = tmp_path / "cli.db"
    monkeypatch.setenv("THIRDSPACE_ENVIRONMENT", "development")
    monkeypatch.setenv("THIRDSPACE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("THIRDSPACE_DATABASE_URL", f"sqlite+aiosqlite:///{db_path}")
    monkeypatch.setenv("THIRDSPACE_PUBLIC_URL", PUBLIC_URL)
    for name in ("SECRET_KEY", "BROKER_URL", "DEMO_PASSWORD"):
        monkeypatch.delenv(f"THIRDSPACE_{name}", raising=False)

    def no_server(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("uvicorn.run was called: the command should have refused first")

    monkeypatch.setattr(uvicorn, "run", no_server)
    get_settings.cache_clear()
    yield Cli(db_path, capsys, monkeypatch)
    get_settings.cache_clear()


@pytest.fixture
def migrated(cli: Cli, migrated_template: Path) -> Cli:
    shutil.copy(migrated_template, cli.db_path)
    return cli


class TestServe:
    def test_more_than_one_worker_with_the_memory_broker_is_refused(self, migrated: Cli) -> None:
        assert migrated.run("serve", "--workers", "2") == 2
        assert "--workers" in migrated.err
        assert "memory://" in migrated.err

    def test_the_session_has_a_sheet_k_3_a_section_and_one_question_of_every_kind(
        self, migrated: Cli
    ) -> None:
        """What the demo promises a newcomer (app/demo.py): an information sheet, k = 3, and a section
        with one question of every kind the app supports; the kinds come from the registry, so a new
        kind left out of the demo fails here."""
        from app.polls.kinds import KINDS

        assert migrated.run("demo") == 0
        with sqlite3.connect(migrated.db_path) as db:
            ((session_id, consent_text, consent_version, min_group),) = db.execute(
                "SELECT id, consent_text, consent_version, min_group FROM live_session"
            ).fetchall()
            sections = db.execute("SELECT id FROM section WHERE session_id = ?", (session_id,)).fetchall()
            questions = db.execute(
                "SELECT kind, section_id FROM question WHERE session_id = ?", (session_id,)
            ).fetchall()
        assert consent_text and "# About this workshop" in consent_text and consent_version
        assert min_group == 3
        assert len(sections) == 1
        assert sorted(kind for kind, _ in questions) == sorted(KINDS)
        assert {section for _, section in questions} == {sections[0][0]}

    def test_more_than_one_worker_on_sqlite_is_refused(
        self, migrated: Cli, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("THIRDSPACE_BROKER_URL", "redis://127.0.0.1:6379/0")
        get_settings.cache_clear()
        assert migrated.run("serve", "--workers", "2") == 2
        assert "--workers above 1 needs PostgreSQL" in migrated.err

    def test_an_unreachable_redis_is_refused_with_a_sentence(
        self, migrated: Cli, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with socket.socket() as s:  # a port nothing listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        monkeypatch.setenv("THIRDSPACE_BROKER_URL", f"redis://127.0.0.1:{port}/0")
        get_settings.cache_clear()
        assert migrated.run("serve") == 2
        assert "does not answer" in migrated.err
        assert "Traceback" not in migrated.err

    def test_zero_workers_is_refused(self, migrated: Cli) -> None:
        assert migrated.run("serve", "--workers", "0") == 2
        assert "--workers must be 1 or more" in migrated.err

    def test_unmigrated_database_is_refused(self, cli: Cli) -> None:
        assert cli.run("serve") == 2
        assert "thirdspace migrate" in cli.err

    def test_database_in_a_missing_folder_is_refused_with_a_sentence(
        self, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("THIRDSPACE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/missing/thirdspace.db")
        get_settings.cache_clear()
        assert cli.run("serve") == 2
        assert "thirdspace migrate" in cli.err
        assert not (tmp_path / "missing").exists()

    def test_unsupported_database_is_refused(self, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("THIRDSPACE_DATABASE_URL", "mysql+aiomysql://u:p@db/thirdspace")
        get_settings.cache_clear()
        assert cli.run("serve") == 2
        assert "THIRDSPACE_DATABASE_URL" in cli.err

    def test_production_without_a_secret_key_is_refused(
        self, migrated: Cli, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("THIRDSPACE_ENVIRONMENT", "production")
        get_settings.cache_clear()
        assert migrated.run("serve") == 2
        assert "THIRDSPACE_SECRET_KEY" in migrated.err

    def test_migrated_database_is_served_without_an_access_log(
        self, migrated: Cli, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        calls: list[dict[str, Any]] = []
        monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
        assert migrated.run("serve", "--port", "8123") == 0
        (kwargs,) = calls
        assert kwargs["port"] == 8123
        assert kwargs["workers"] == 1
        # ETHICS 2: the access log prints client addresses.
        assert kwargs["access_log"] is False
        assert kwargs["ws_max_size"] == 65536


class TestMigrate:
    def test_then_user_add_creates_the_account(self, cli: Cli) -> None:
        assert cli.run("migrate") == 0
        assert cli.run("user", "add", "X@example.org", "--password-stdin", stdin="a long password\n") == 0
        assert "x@example.org" in cli.out
        ((email, role, password_hash),) = cli.accounts()
        assert (email, role) == ("x@example.org", "facilitator")
        assert "a long password" not in password_hash
        assert password_hash.startswith("$argon2id$")

    def test_twice_is_harmless(self, cli: Cli) -> None:
        assert cli.run("migrate") == 0
        assert cli.run("migrate") == 0

    def test_a_new_database_is_reported_as_created(self, cli: Cli) -> None:
        assert not cli.db_path.exists()
        assert cli.run("migrate") == 0
        head = head_revision(f"sqlite:///{cli.db_path}")
        assert cli.out.strip() == f"Created the database at the latest schema (revision {head})."

    def test_a_current_database_is_reported_as_current(self, migrated: Cli) -> None:
        assert migrated.run("migrate") == 0
        head = head_revision(f"sqlite:///{migrated.db_path}")
        assert migrated.out.strip() == (
            f"The database is already at the latest schema (revision {head}); nothing to do."
        )

    def test_an_upgrade_names_the_revision_it_came_from(self) -> None:
        # One migration exists so far, so no real database can be behind it: the sentence alone.
        assert upgrade_report("0123abcd", "4567cdef") == (
            "Upgraded the database from revision 0123abcd to the latest schema (revision 4567cdef)."
        )


class TestUser:
    def test_add_on_an_unmigrated_database_is_refused(self, cli: Cli) -> None:
        assert cli.run("user", "add", "x@example.org", "--password-stdin", stdin="a long password\n") == 2
        assert "thirdspace migrate" in cli.err
        assert not cli.db_path.exists()

    def test_role_option(self, migrated: Cli) -> None:
        code = migrated.run(
            "user",
            "add",
            "r@example.org",
            "--role",
            "researcher",
            "--password-stdin",
            stdin="a long password\n",
        )
        assert code == 0
        assert [(e, r) for e, r, _ in migrated.accounts()] == [("r@example.org", "researcher")]

    def test_duplicate_add_fails(self, migrated: Cli) -> None:
        migrated.run("user", "add", "x@example.org", "--password-stdin", stdin="a long password\n")
        before = migrated.accounts()
        assert (
            migrated.run("user", "add", "x@example.org", "--password-stdin", stdin="another password\n") == 2
        )
        assert "already exists" in migrated.err
        assert migrated.accounts() == before

    def test_short_password_is_refused(self, migrated: Cli) -> None:
        assert migrated.run("user", "add", "x@example.org", "--password-stdin", stdin="short\n") == 2
        assert "8 characters" in migrated.err
        assert migrated.accounts() == []

    def test_without_password_stdin_is_refused(self, migrated: Cli) -> None:
        assert migrated.run("user", "add", "x@example.org") == 2
        assert "--password-stdin" in migrated.err
        assert migrated.accounts() == []

    def test_password_replaces_the_hash(self, migrated: Cli) -> None:
        migrated.run("user", "add", "x@example.org", "--password-stdin", stdin="a long password\n")
        ((_, _, before),) = migrated.accounts()
        assert (
            migrated.run("user", "password", "x@example.org", "--password-stdin", stdin="a new password\n")
            == 0
        )
        ((_, _, after),) = migrated.accounts()
        assert after != before

    def test_password_for_an_unknown_account_fails(self, migrated: Cli) -> None:
        code = migrated.run(
            "user", "password", "nobody@example.org", "--password-stdin", stdin="a new password\n"
        )
        assert code == 2
        assert "nobody@example.org" in migrated.err


class TestDemo:
    def test_prints_links_and_the_password_once(self, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("THIRDSPACE_DEMO_PASSWORD", "demo-password-1234")
        get_settings.cache_clear()
        assert cli.run("migrate") == 0
        assert cli.run("demo") == 0
        first = cli.out
        assert "demo-password-1234" in first
        assert re.search(rf"{PUBLIC_URL}/console/[0-9a-f]{{32}}\b", first)
        assert re.search(rf"{PUBLIC_URL}/presenter/[0-9a-f]{{32}}\b", first)
        assert re.search(rf"{PUBLIC_URL}/j/\d{{8}}\b", first)
        assert cli.run("demo") == 0
        assert "demo-password-1234" not in cli.out
        # The same session both times: a second run creates nothing new.
        assert re.findall(r"/j/\d{8}", cli.out) == re.findall(r"/j/\d{8}", first)

    def test_unmigrated_database_is_refused(self, cli: Cli) -> None:
        assert cli.run("demo") == 2
        assert "thirdspace migrate" in cli.err
        assert cli.out == ""

    def test_generates_a_password_when_none_is_set(self, migrated: Cli) -> None:
        assert migrated.run("demo") == 0
        match = re.search(r"password: (\S+)", migrated.out)
        assert match is not None
        assert len(match.group(1)) >= 12


class TestSessionTemplates:
    TEMPLATE = (
        '{\n  "thirdspace_template": 1,\n  "title": "From a file",\n  "settings": {"min_group": 3},\n'
        '  "questions": [],\n  "sections": [\n    {"title": "Part one", "questions": [\n'
        '      {"kind": "open", "prompt": "Why?"}\n    ]}\n  ]\n}\n'
    )

    def test_import_then_export_template_round_trips(self, migrated: Cli, tmp_path: Path) -> None:
        assert migrated.run("user", "add", "f@example.org", "--password-stdin", stdin="long enough pw\n") == 0
        source = tmp_path / "plan.json"
        source.write_text(self.TEMPLATE)
        assert migrated.run("session", "import", str(source), "--owner", "f@example.org") == 0
        found = re.search(r"Created session ([0-9a-f]{32})", migrated.out)
        assert found is not None
        out = tmp_path / "again.json"
        assert migrated.run("session", "export-template", found.group(1), "-o", str(out)) == 0
        assert json.loads(out.read_text()) == {
            **json.loads(self.TEMPLATE),
            "settings": {"min_group": 3, "language": "en"},
        }

    def test_a_broken_file_is_refused_with_its_line(self, migrated: Cli, tmp_path: Path) -> None:
        assert migrated.run("user", "add", "f@example.org", "--password-stdin", stdin="long enough pw\n") == 0
        source = tmp_path / "plan.json"
        source.write_text(self.TEMPLATE.replace('"kind": "open"', '"kind": "opinion"'))
        assert migrated.run("session", "import", str(source), "--owner", "f@example.org") == 2
        assert re.search(r"plan\.json: Line 8: sections > item 1 > questions > item 1", migrated.err)

    def test_a_file_over_1_mib_is_refused_naming_the_limit(self, migrated: Cli, tmp_path: Path) -> None:
        assert migrated.run("user", "add", "f@example.org", "--password-stdin", stdin="long enough pw\n") == 0
        source = tmp_path / "plan.json"
        source.write_text(self.TEMPLATE.ljust(1024 * 1024 + 1))  # a good template, padded past 1 MiB
        assert migrated.run("session", "import", str(source), "--owner", "f@example.org") == 2
        assert "plan.json: Line 1: The file is larger than 1024 KiB" in migrated.err
        with sqlite3.connect(migrated.db_path) as db:
            assert db.execute("SELECT count(*) FROM live_session").fetchone() == (0,)

    def test_an_unknown_owner_is_refused(self, migrated: Cli, tmp_path: Path) -> None:
        source = tmp_path / "plan.json"
        source.write_text(self.TEMPLATE)
        assert migrated.run("session", "import", str(source), "--owner", "nobody@example.org") == 2
        assert "no account for nobody@example.org" in migrated.err
