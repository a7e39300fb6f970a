"""Values the database refuses to store become a 400, not a 500.

A request can carry values that validate as Python types and still cannot be
stored: a NUL character in a PostgreSQL text column, an integer wider than the
column or than SQLite's 64 bits, a string the server cannot convert. The driver
raises these as it binds or runs the statement; every session of a Database
sees them translated into ``BadRequest`` by an engine ``handle_error`` hook.
Errors that mean a bug in the application (a division by zero, a missing
table) are left alone and stay 500s.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import ExceptionContext

from satchel.errors import BadRequest

__all__ = ["UNSTORABLE_DETAIL", "is_unstorable_state", "translate_unstorable_values"]

UNSTORABLE_DETAIL = "A value in the request cannot be stored in the database"

# PostgreSQL SQLSTATEs caused by the data sent, not by the statement: 22000 is also what
# asyncpg reports when it cannot encode an argument (an int out of range for its column).
_BAD_DATA_STATES = frozenset(
    {
        "22000",  # data exception (asyncpg: invalid input for a query argument)
        "22001",  # string data right truncation
        "22003",  # numeric value out of range
        "22007",  # invalid datetime format
        "22008",  # datetime field overflow
        "22021",  # character not in repertoire (NUL)
        "22P02",  # invalid text representation
        "22P05",  # untranslatable character
    }
)


def _sqlstate(error: BaseException | None) -> str | None:
    # psycopg exposes ``sqlstate`` on its exception; asyncpg's hides behind the adapter's.
    while error is not None:
        state = getattr(error, "sqlstate", None)
        if isinstance(state, str):
            return state
        error = error.__cause__
    return None


def is_unstorable_state(error: BaseException) -> bool:
    """Whether PostgreSQL refused ``error``'s statement for a value it was sent.

    Reads the SQLSTATE of ``error`` (or of the errors it was raised from); an error
    without one is not judged here.
    """
    return _sqlstate(error) in _BAD_DATA_STATES


def _is_unstorable(context: ExceptionContext) -> bool:
    original = context.original_exception
    if isinstance(original, OverflowError):  # sqlite3 binding an int beyond 64 bits
        return True
    state = _sqlstate(original)
    if state is None:  # raised by the driver before the server saw it (psycopg and NUL)
        return isinstance(context.sqlalchemy_exception, sa.exc.DataError)
    return state in _BAD_DATA_STATES


def translate_unstorable_values(engine: sa.Engine) -> None:
    """Have ``engine`` raise ``BadRequest`` for values its database cannot store."""

    @sa.event.listens_for(engine, "handle_error")
    def unstorable_to_bad_request(context: ExceptionContext) -> Any:
        if _is_unstorable(context):
            raise BadRequest(UNSTORABLE_DETAIL) from context.original_exception
        return None
