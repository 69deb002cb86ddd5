"""The API key: environment first, then config/databento.env; never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from rst.sources.databento_api.key import ApiKey, ApiKeyError, load_api_key

SECRET = "db-abcdefSECRET123"


def test_environment_wins_over_file(tmp_path: Path) -> None:
    f = tmp_path / "databento.env"
    f.write_text("DATABENTO_API_KEY=db-from-file\n")
    key = load_api_key(f, environ={"DATABENTO_API_KEY": SECRET})
    assert key.reveal() == SECRET and key.source == "$DATABENTO_API_KEY"


def test_env_file_with_comments_quotes_and_export(tmp_path: Path) -> None:
    f = tmp_path / "databento.env"
    f.write_text(f"# my key\nOTHER=1\nexport DATABENTO_API_KEY = '{SECRET}'\n")
    assert load_api_key(f, environ={}).reveal() == SECRET


def test_default_file_is_relative_to_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "databento.env").write_text(f"DATABENTO_API_KEY={SECRET}\n")
    monkeypatch.chdir(tmp_path)
    assert load_api_key(environ={}).reveal() == SECRET


@pytest.mark.parametrize("content", [None, "OTHER=1\n", "DATABENTO_API_KEY=\n"])
def test_missing_key_is_one_instruction_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None) -> None:
    monkeypatch.chdir(tmp_path)
    if content is not None:
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "databento.env").write_text(content)
    with pytest.raises(ApiKeyError) as info:
        load_api_key(environ={})
    msg = str(info.value)
    assert "\n" not in msg and "DATABENTO_API_KEY" in msg and "config/databento.env" in msg


def test_key_is_redacted_everywhere() -> None:
    key = ApiKey(SECRET, "test")
    for text in (str(key), repr(key), f"{key}", f"{key!r}", "%s" % key, str([key])):  # noqa: UP031  %-formatting is one of the cases
        assert SECRET not in text
    assert key.redact(f"oops {SECRET}") == "oops <redacted>"
