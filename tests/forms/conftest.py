"""The forms tests share the data-layer tests' ``database`` fixture (SQLite and PostgreSQL)."""

from __future__ import annotations

from tests.db.conftest import database, postgres_schema

__all__ = ["database", "postgres_schema"]
