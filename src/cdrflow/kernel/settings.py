"""The one settings object (issue 13, item 6): everything cdrflow reads from the environment.

No other module reads ``os.environ`` for configuration. The CLI builds :class:`Settings` once per
invocation (its root callback), lays its own options over it (``--db`` of a command, ``--allow-superuser``,
``--pc-ssn-table``) and passes the values down; the services take them as arguments.

=========================  ==============================  ===========================================
setting                    environment variable            default
=========================  ==============================  ===========================================
``database_url``           ``CDRFLOW_DATABASE_URL``        ``sqlite:///cdrflow.db`` (``--db`` wins)
``allow_superuser``        ``CDRFLOW_ALLOW_SUPERUSER``     off (1/true/yes/on; ``--allow-superuser``)
``pc_ssn_table``           ``CDRFLOW_PC_SSN_TABLE``        none: the shipped public chart only
``chromium``               ``CDRFLOW_CHROMIUM``            ``/usr/bin/chromium`` (PDF output)
``token``                  ``CDRFLOW_TOKEN``               none
``token_file``             ``CDRFLOW_TOKEN_FILE``          none: ``~/.config/cdrflow/token`` if it exists
=========================  ==============================  ===========================================

An empty variable counts as unset. A value that is not valid (``CDRFLOW_ALLOW_SUPERUSER=maybe``) is a
:class:`pydantic.ValidationError`; :func:`problem` words it as one line naming the variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "CDRFLOW_"
DEFAULT_DATABASE_URL = "sqlite:///cdrflow.db"
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
DEFAULT_TOKEN_FILE = Path("~/.config/cdrflow/token")


class Settings(BaseSettings):
    """cdrflow's configuration: the environment (``CDRFLOW_*``) over the defaults. Immutable."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    """The DCF (SQLAlchemy URL; a plain ``postgresql://`` gets psycopg 3)."""
    allow_superuser: bool = False
    """PostgreSQL: run even as a superuser or the schema owner (throwaway databases only)."""
    pc_ssn_table: Path | None = None
    """The site's GN 01070.245 area-number table (YAML), consulted before the shipped public chart."""
    chromium: Path = DEFAULT_CHROMIUM
    """The Chromium that prints PDFs."""
    token: SecretStr | None = None
    """An API token, when one is given in the environment (never printed)."""
    token_file: Path | None = None
    """Where a token is kept when ``CDRFLOW_TOKEN`` is not set; a file named here must exist. None: the
    default place, :data:`DEFAULT_TOKEN_FILE`, when there is a file there (see :meth:`token_path`)."""

    @field_validator("allow_superuser", mode="before")
    @classmethod
    def _flag(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("pc_ssn_table", "chromium", "token_file", mode="after")
    @classmethod
    def _home(cls, v: Path | None) -> Path | None:
        return v.expanduser() if v is not None else None

    def database(self, override: str | None = None) -> str:
        """The database URL a command uses: its ``--db``, else this one."""
        return override or self.database_url

    def token_path(self) -> Path | None:
        """The token file to read: ``token_file`` when set (it must exist), else the default place when a
        file is there, else None."""
        if self.token_file is not None:
            return self.token_file
        default = DEFAULT_TOKEN_FILE.expanduser()
        return default if default.exists() else None


def problem(exc: ValidationError) -> str:
    """One line naming the environment variable at fault and why, e.g.
    ``CDRFLOW_ALLOW_SUPERUSER: Input should be a valid boolean (got 'maybe')``."""
    first = exc.errors()[0]
    name = ENV_PREFIX + "_".join(str(p) for p in first["loc"]).upper()
    got = first.get("input")
    shown = "" if name == ENV_PREFIX + "TOKEN" or got is None else f" (got {str(got)[:80]!r})"
    more = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"{name}: {first['msg']}{shown}{more}"
