"""The database refusing writes, for tests of what holds under failure.

``refuse_inserts(table, times=N)`` installs a trigger on ``table`` that makes the
database refuse the next N inserts (``None``: every one) with a transient error, until
the returned ``Refusal`` is lifted. On PostgreSQL the trigger raises SQLSTATE 40001
(serialization failure) and counts refusals with a sequence, which a rollback does not
undo. On SQLite the trigger calls a function every connection of the test process
registers, which raises (SQLite reports it as an OperationalError).
Spark's code is not touched: the refusal comes from the database, as a real one would.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.backends.signals import connection_created

NEVER_ENDING = 1_000_000_000

_lock = threading.Lock()
_sqlite_budget: dict[str, int] = {}  # table -> refusals left
_sqlite_refused: dict[str, int] = {}  # table -> refusals made


def _sqlite_refuse(table: str) -> int:
    with _lock:
        left = _sqlite_budget.get(table, 0)
        if left > 0:
            _sqlite_budget[table] = left - 1
            _sqlite_refused[table] = _sqlite_refused.get(table, 0) + 1
            raise RuntimeError(f"the test database refuses inserts into {table}")
    return 0


def _register(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("spark_test_refuse", 1, _sqlite_refuse)


# Every SQLite connection opened from now on (the pipeline's worker threads) knows it.
connection_created.connect(_register, weak=False, dispatch_uid="spark-test-refusals")


@dataclass
class Refusal:
    table: str
    name: str
    budget: int

    def lift(self) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {self.name} ON {self.table}")
                cursor.execute(f"DROP FUNCTION IF EXISTS {self.name}()")
                cursor.execute(f"DROP SEQUENCE IF EXISTS {self.name}_count")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {self.name}")
                with _lock:
                    _sqlite_budget.pop(self.table, None)
                    _sqlite_refused.pop(self.table, None)

    def refused(self) -> int:
        """How many inserts were refused so far."""
        if connection.vendor != "postgresql":
            with _lock:
                return _sqlite_refused.get(self.table, 0)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT last_value, is_called FROM {self.name}_count")  # noqa: S608 (a fixed name)
            last_value, is_called = cursor.fetchone()
        return min(int(last_value), self.budget) if is_called else 0


def refuse_inserts(table: str, *, times: int | None) -> Refusal:
    name = f"spark_test_refuse_{table}"
    budget = NEVER_ENDING if times is None else times
    if connection.vendor != "postgresql":
        connection.ensure_connection()
        _register(None, connection)  # this thread's connection may predate the hook
        with _lock:
            _sqlite_budget[table] = budget
            _sqlite_refused[table] = 0
        with connection.cursor() as cursor:
            # (Reading the schema first: a connection that last saw another test's trigger
            # would otherwise still believe it exists.)
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(
                f"CREATE TRIGGER {name} BEFORE INSERT ON {table} "
                f"BEGIN SELECT spark_test_refuse('{table}'); END"
            )
        return Refusal(table, name, budget)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SEQUENCE {name}_count")
        cursor.execute(
            f"""
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('{name}_count') <= {budget} THEN
                    RAISE EXCEPTION 'the test database refuses inserts into {table}'
                        USING ERRCODE = '40001';
                END IF;
                RETURN NEW;
            END $$
            """
        )
        cursor.execute(
            f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
    return Refusal(table, name, budget)
