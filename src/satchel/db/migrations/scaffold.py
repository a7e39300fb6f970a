"""What ``satchel db init`` writes: ``env.py``, the migration template, ``versions/``."""

from __future__ import annotations

from pathlib import Path

__all__ = ["ENV_PY", "SCRIPT_TEMPLATE", "is_scaffolded", "write_scaffold"]

#: ``env.py``: Alembic runs it for every command; it hands over to Satchel.
ENV_PY = '''\
"""Alembic runs this file for each migration command; Satchel does the work.

Written by `satchel db init`. The logic lives in satchel.db.migrations, so it is
upgraded with Satchel.
"""

from satchel.db.migrations import run_environment

run_environment()
'''

#: ``script.py.mako``: the Mako template every new migration file is made from.
SCRIPT_TEMPLATE = '''\
"""${message}

Revision: ${up_revision}
Follows: ${comma(down_revision) or "nothing (the first migration)"}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
% if imports:
${imports}
% endif

revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
'''


def is_scaffolded(directory: Path) -> bool:
    """Whether ``directory`` holds a migration environment (its ``env.py``)."""
    return (directory / "env.py").is_file()


def write_scaffold(directory: Path) -> list[Path]:
    """Write ``env.py``, ``script.py.mako`` and ``versions/`` into ``directory``; return them.

    Files that exist are kept (a project may have edited its template).
    """
    versions = directory / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    written = [versions]
    for name, text in (("env.py", ENV_PY), ("script.py.mako", SCRIPT_TEMPLATE)):
        path = directory / name
        if not path.exists():
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
