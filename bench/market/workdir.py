"""The set-up the market's benches share: this checkout on the import path, and Django on a throwaway SQLite
database and var directory in a fresh temporary folder (a bench given --database-url replaces the database)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench_environment(prefix: str, **extra: str) -> Path:
    """The temporary folder, once the environment points Django at it; ``extra`` settings go on top."""
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
            "VAR_DIR": str(work / "var"),
            "SECRET_KEY": "bench",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    return work
