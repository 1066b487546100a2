"""The one settings object (issue 13, item 6): every CDRFLOW_* variable, read in one place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import ValidationError

from cdrflow.kernel.settings import DEFAULT_CHROMIUM, DEFAULT_DATABASE_URL, DEFAULT_TOKEN_FILE, Settings, problem

SRC = Path(__file__).parents[2] / "src" / "cdrflow"
VARS = ("DATABASE_URL", "ALLOW_SUPERUSER", "PC_SSN_TABLE", "CHROMIUM", "TOKEN", "TOKEN_FILE")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for v in VARS:
        monkeypatch.delenv(f"CDRFLOW_{v}", raising=False)


def test_defaults() -> None:
    s = Settings()
    assert s.database_url == DEFAULT_DATABASE_URL == "sqlite:///cdrflow.db"
    assert s.allow_superuser is False and s.pc_ssn_table is None and s.token is None and s.token_file is None
    assert s.chromium == DEFAULT_CHROMIUM
    assert s.database() == DEFAULT_DATABASE_URL and s.database("sqlite:///x.db") == "sqlite:///x.db"


def test_every_variable_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CDRFLOW_DATABASE_URL", "postgresql://u@h/d")
    monkeypatch.setenv("CDRFLOW_ALLOW_SUPERUSER", " Yes ")
    monkeypatch.setenv("CDRFLOW_PC_SSN_TABLE", str(tmp_path / "pc.yaml"))
    monkeypatch.setenv("CDRFLOW_CHROMIUM", "/opt/chromium")
    monkeypatch.setenv("CDRFLOW_TOKEN", "s3cret-token")
    monkeypatch.setenv("CDRFLOW_TOKEN_FILE", "~/tok")
    s = Settings()
    assert s.database_url == "postgresql://u@h/d" and s.database() == "postgresql://u@h/d"
    assert s.database("sqlite:///y.db") == "sqlite:///y.db"  # a command's --db wins
    assert s.allow_superuser is True
    assert s.pc_ssn_table == tmp_path / "pc.yaml"
    assert s.chromium == Path("/opt/chromium")
    assert s.token is not None and s.token.get_secret_value() == "s3cret-token"
    assert "s3cret-token" not in repr(s) and "s3cret-token" not in str(s.model_dump())
    assert s.token_file == Path("~/tok").expanduser()
    assert s.token_path() == s.token_file


@pytest.mark.parametrize(("value", "on"), [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False),
                                           ("false", False), ("no", False), ("", False)])
def test_allow_superuser_values(monkeypatch: pytest.MonkeyPatch, value: str, on: bool) -> None:
    monkeypatch.setenv("CDRFLOW_ALLOW_SUPERUSER", value)
    assert Settings().allow_superuser is on  # an empty variable counts as unset


def test_a_bad_value_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDRFLOW_ALLOW_SUPERUSER", "maybe")
    with pytest.raises(ValidationError) as info:
        Settings()
    line = problem(info.value)
    assert line.startswith("CDRFLOW_ALLOW_SUPERUSER: ") and "'maybe'" in line and "\n" not in line


def test_settings_are_immutable() -> None:
    s = Settings()
    with pytest.raises(ValidationError):
        s.database_url = "sqlite:///other.db"  # type: ignore[misc]
    assert s.model_copy(update={"allow_superuser": True}).allow_superuser is True and s.allow_superuser is False


def test_the_default_token_file_is_used_only_when_it_exists(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Settings().token_path() is None
    default = DEFAULT_TOKEN_FILE.expanduser()
    default.parent.mkdir(parents=True)
    default.write_text("t\n", encoding="utf-8")
    assert Settings().token_path() == default


def test_no_module_but_the_settings_reads_the_environment() -> None:
    """``os.environ`` / ``os.getenv`` appear in kernel/settings.py's stead nowhere in the package."""
    readers = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb") and \
                    isinstance(node.value, ast.Name) and node.value.id == "os":
                readers.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert readers == [], readers


def test_the_kernel_imports_nothing_else_of_cdrflow() -> None:
    tree = ast.parse((SRC / "kernel" / "settings.py").read_text(encoding="utf-8"))
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)] + \
               [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m and m.startswith("cdrflow")], imported
