"""What went wrong, in one line a person can act on, and an exit status saying what failed.

A traceback tells a developer where; an operator starting a server needs to know which
setting or service to fix. `--debug` (or BEACON_LOG_LEVEL=DEBUG) still shows the traceback.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from beacon_gql.config import ConfigError, Settings

# Exit statuses, listed in `beacon-gql --help`.
EXIT_USAGE = 2
"""A command line, setting or file the program cannot run with (or a refused request)."""
EXIT_DATABASE = 3
"""The database (or the broadcast server) is missing, unreachable or refuses us."""
EXIT_ADDRESS = 4
"""The address to listen on is taken or cannot be used."""
EXIT_UNEXPECTED = 70
"""A bug: please report it with the `--debug` output."""

EXIT_STATUSES = (
    f"exit status: 0 done, 1 a watched job did not complete, {EXIT_USAGE} bad command line, "
    f"setting or file, {EXIT_DATABASE} database or broadcast server unavailable, "
    f"{EXIT_ADDRESS} address in use, {EXIT_UNEXPECTED} unexpected error (rerun with --debug)"
)

# SQLSTATE codes PostgreSQL answers a connection with.
_NO_SUCH_DATABASE = "3D000"
_REFUSED_LOGIN = {"28000", "28P01"}


@dataclass(frozen=True)
class Failure:
    message: str
    exit_status: int


class PortInUse(OSError):
    """The address to listen on is taken; raised before anything is created."""


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _sqlstate(error: BaseException) -> tuple[str, str] | None:
    for link in _chain(error):
        state = getattr(link, "sqlstate", None)
        if isinstance(state, str):
            return state, str(link)
    return None


def _where(database_url: str) -> tuple[str, str]:
    """("host:port", "dbname") of a PostgreSQL URL, for messages."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return "?", "?"
    return f"{url.host or 'localhost'}:{url.port or 5432}", url.database or "?"


def _createdb(database_url: str) -> str:
    url = make_url(database_url)
    words = ["createdb", "-h", url.host or "localhost", "-p", str(url.port or 5432)]
    if url.username:
        words += ["-U", url.username]
    return " ".join([*words, url.database or "?"])


def _unreachable(error: BaseException) -> OSError | None:
    for link in _chain(error):
        if isinstance(link, ConnectionError | socket.gaierror | TimeoutError):
            return link
    return None


def _is_broadcast_error(error: BaseException) -> bool:
    return any(type(link).__module__.startswith("redis") for link in _chain(error))


def explain(error: BaseException, settings: Settings | None) -> Failure:
    """One line and an exit status for an error that stopped a command."""
    from beacon_gql.db.migrate import SchemaOutOfDate

    if isinstance(error, PortInUse):
        return Failure(str(error), EXIT_ADDRESS)
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
        # A port bound elsewhere than serve's (the simulators' --base-port, say).
        return Failure(
            f"a port to listen on is already in use ({error.strerror}); pick another one",
            EXIT_ADDRESS,
        )
    if isinstance(error, ConfigError):
        return Failure(str(error), EXIT_USAGE)
    if isinstance(error, SchemaOutOfDate):
        return Failure(str(error), EXIT_DATABASE)
    if settings is not None and not settings.is_sqlite:
        where, name = _where(settings.database_url)
        state = _sqlstate(error)
        if state is not None and state[0] == _NO_SUCH_DATABASE:
            return Failure(
                f"database {name!r} does not exist on the PostgreSQL server at {where}; create it "
                f"with `{_createdb(settings.database_url)}` and run `beacon-gql migrate`, "
                "or fix BEACON_DATABASE_URL",
                EXIT_DATABASE,
            )
        if state is not None and state[0] in _REFUSED_LOGIN:
            return Failure(
                f"the PostgreSQL server at {where} refused the login: {state[1]} "
                "(check the user and password in BEACON_DATABASE_URL)",
                EXIT_DATABASE,
            )
    unreachable = _unreachable(error)
    if unreachable is not None and settings is not None:
        reason = unreachable.strerror or str(unreachable) or type(unreachable).__name__
        if _is_broadcast_error(error):
            return Failure(
                f"cannot reach the broadcast server of BEACON_BROADCAST_URL "
                f"({settings.broadcast_url}): {reason}",
                EXIT_DATABASE,
            )
        if not settings.is_sqlite:
            where, _ = _where(settings.database_url)
            return Failure(
                f"cannot reach the PostgreSQL server at {where} (BEACON_DATABASE_URL): {reason}; "
                "is it running, and are host and port right?",
                EXIT_DATABASE,
            )
    if isinstance(error, DBAPIError):
        return Failure(f"the database refused: {error.orig}", EXIT_DATABASE)
    if isinstance(error, OSError) and error.filename is not None:
        return Failure(f"{error.filename}: {error.strerror or error}", EXIT_USAGE)
    if isinstance(error, ValueError | OSError):
        # The project's own refusals (a providers or trusted-keys file, a spec) already say
        # which file and what is wrong.
        return Failure(str(error), EXIT_USAGE)
    return Failure(
        f"unexpected {type(error).__name__}: {error} (rerun with --debug for the traceback)",
        EXIT_UNEXPECTED,
    )
