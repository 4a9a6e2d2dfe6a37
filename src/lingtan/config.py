"""Settings from ``LINGTAN_*`` environment variables, read through a cached factory."""

from __future__ import annotations

import os
import secrets
from functools import cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime settings; every field can be set as ``LINGTAN_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="LINGTAN_", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_mb: float = 50.0
    token_ttl_hours: float = 12.0
    timezone: str = "Asia/Shanghai"
    # run queued jobs inside `lingtan serve` (false when separate `lingtan worker`s run them)
    serve_jobs: bool = True

    @property
    def effective_database_url(self) -> str:
        """Return the configured URL, or the embedded SQLite file under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'lingtan.sqlite3').resolve()}"

    @property
    def max_upload_bytes(self) -> int:
        """Return the upload size limit in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)

    def secret_key(self) -> str:
        """Return the secret key, generating it into ``data_dir/secret_key`` (mode 0600) once."""
        env = os.environ.get("LINGTAN_SECRET_KEY")
        if env:
            return env
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        return path.read_text().strip()


@cache
def get_settings() -> Settings:
    """Return the process-wide settings (cached; call ``get_settings.cache_clear()`` in tests)."""
    return Settings()
