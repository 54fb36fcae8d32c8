"""Settings: the secret key outside and inside development, and what this version refuses to run."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read THIRDSPACE_* variables: none from the shell may leak into these tests."""
    for name in ("ENVIRONMENT", "SECRET_KEY", "DATA_DIR", "DATABASE_URL", "BROKER_URL", "PUBLIC_URL"):
        monkeypatch.delenv(f"THIRDSPACE_{name}", raising=False)


class TestSecretKey:
    def test_production_without_a_key_is_refused(self, tmp_path: Path) -> None:
        settings = Settings(ENVIRONMENT="production", DATA_DIR=tmp_path)
        with pytest.raises(ConfigError, match="THIRDSPACE_SECRET_KEY"):
            settings.secret_key()
        assert not (tmp_path / "secret_key").exists()

    def test_production_is_the_default(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="THIRDSPACE_SECRET_KEY"):
            Settings(DATA_DIR=tmp_path).secret_key()

    def test_production_with_a_short_key_is_refused(self, tmp_path: Path) -> None:
        settings = Settings(ENVIRONMENT="production", DATA_DIR=tmp_path, SECRET_KEY="short")
        with pytest.raises(ConfigError, match="THIRDSPACE_SECRET_KEY"):
            settings.secret_key()

    def test_production_uses_the_key_given(self, tmp_path: Path) -> None:
        key = "k" * 40
        assert Settings(ENVIRONMENT="production", DATA_DIR=tmp_path, SECRET_KEY=key).secret_key() == key

    def test_key_from_the_environment(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("THIRDSPACE_SECRET_KEY", "e" * 40)
        assert Settings(ENVIRONMENT="production", DATA_DIR=tmp_path).secret_key() == "e" * 40

    def test_development_generates_one_key_under_data_dir(self, tmp_path: Path) -> None:
        data_dir = tmp_path / "data"
        first = Settings(ENVIRONMENT="development", DATA_DIR=data_dir).secret_key()
        assert len(first) >= 32
        assert (data_dir / "secret_key").read_text().strip() == first
        assert (data_dir / "secret_key").stat().st_mode & 0o077 == 0

    def test_development_reuses_the_key(self, tmp_path: Path) -> None:
        first = Settings(ENVIRONMENT="development", DATA_DIR=tmp_path).secret_key()
        again = Settings(ENVIRONMENT="development", DATA_DIR=tmp_path).secret_key()
        assert again == first

    def test_development_keys_differ_between_data_dirs(self, tmp_path: Path) -> None:
        one = Settings(ENVIRONMENT="development", DATA_DIR=tmp_path / "one").secret_key()
        two = Settings(ENVIRONMENT="development", DATA_DIR=tmp_path / "two").secret_key()
        assert one != two


class TestCheckSupported:
    def test_sqlite_and_memory_are_supported(self, tmp_path: Path) -> None:
        Settings(DATA_DIR=tmp_path).check_supported()

    def test_postgresql_is_supported(self, tmp_path: Path) -> None:
        Settings(DATA_DIR=tmp_path, DATABASE_URL="postgresql+asyncpg://u:p@db/thirdspace").check_supported()

    def test_another_database_is_refused_with_a_sentence(self, tmp_path: Path) -> None:
        settings = Settings(DATA_DIR=tmp_path, DATABASE_URL="mysql+aiomysql://u:p@db/thirdspace")
        with pytest.raises(ConfigError) as refused:
            settings.check_supported()
        message = str(refused.value)
        assert message.startswith("THIRDSPACE_DATABASE_URL")
        assert "SQLite" in message
        assert "postgresql+asyncpg://" in message
        assert message.endswith(".")

    def test_postgresql_without_asyncpg_in_the_url_is_refused(self, tmp_path: Path) -> None:
        settings = Settings(DATA_DIR=tmp_path, DATABASE_URL="postgresql://u:p@db/thirdspace")
        with pytest.raises(ConfigError, match=r"postgresql\+asyncpg://"):
            settings.check_supported()

    def test_redis_is_supported(self, tmp_path: Path) -> None:
        Settings(DATA_DIR=tmp_path, BROKER_URL="redis://localhost:6379/0").check_supported()

    def test_another_broker_is_refused_with_a_sentence(self, tmp_path: Path) -> None:
        settings = Settings(DATA_DIR=tmp_path, BROKER_URL="amqp://localhost/")
        with pytest.raises(ConfigError) as refused:
            settings.check_supported()
        message = str(refused.value)
        assert message.startswith("THIRDSPACE_BROKER_URL")
        assert "memory://" in message and "redis://" in message
        assert message.endswith(".")


class TestDefaults:
    def test_database_defaults_to_a_file_under_data_dir(self, tmp_path: Path) -> None:
        settings = Settings(DATA_DIR=tmp_path)
        assert settings.DATABASE_URL == f"sqlite+aiosqlite:///{(tmp_path / 'thirdspace.db').as_posix()}"

    def test_public_url_loses_its_trailing_slash(self, tmp_path: Path) -> None:
        settings = Settings(DATA_DIR=tmp_path, PUBLIC_URL="https://poll.example.org/")
        assert settings.PUBLIC_URL == "https://poll.example.org"
        assert settings.public_origin == "https://poll.example.org"
        assert settings.secure_cookies is True

    def test_settings_come_from_the_environment(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("THIRDSPACE_PUBLIC_URL", "http://10.0.0.5:8000")
        monkeypatch.setenv("THIRDSPACE_DATA_DIR", str(tmp_path))
        settings = Settings()
        assert settings.PUBLIC_URL == "http://10.0.0.5:8000"
        assert settings.DATA_DIR == tmp_path
        assert settings.secure_cookies is False
