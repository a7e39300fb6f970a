"""Statements compiled once for a driver: the SQL, how to bind arguments, how to build rows.

The fast read path (``satchel.db.reads``) runs SQLAlchemy ``select()`` statements on
the driver's own connections. A ``Plan`` is one statement shape compiled for the
database's dialect, kept by SQLAlchemy's cache key (the shape without its values), so
two statements differing only in their values share it; the ``MAX_PLANS`` shapes used
last are kept. ``Plans`` also remembers each statement object it saw (weakly, and
without keeping it alive): a statement kept at module level, with ``bindparam()`` for
what changes, skips even the cache key after its first run. A statement SQLAlchemy
cannot cache (no cache key: a ``TypeDecorator`` without ``cache_ok``) is compiled at
each run and kept by nothing, as a session does.

Values are converted both ways by the column types' own processors, as SQLAlchemy
does: ``UTCDateTime`` binds aware datetimes and reads them back aware, ``Numeric``
gives ``Decimal``, SQLite's text datetimes are parsed.

A few SQLAlchemy internals are used, the ones its own execution path runs on and no
public API exposes: the statement's cache key, the compiled result columns, the
expansion of ``IN`` parameters, whether the ORM runs a statement (which names its
rows' keys), and an instance's state (to give it its identity).
tests/db/test_reads.py covers each, so an upgrade that changes one fails there.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.engine import Dialect, Row, result_tuple
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["MAX_PLANS", "Plan", "Plans"]

Processor = Callable[[Any], Any]
RowBuilder = Callable[[Sequence[Any]], Any]

#: Compiled shapes kept per Database: enough for every statement of an application,
#: bounded so that statements built from ever-changing shapes cannot grow it forever.
MAX_PLANS = 500


class Plan:
    """One statement shape compiled for a dialect.

    Attributes:
        sql: The SQL text, in the driver's parameter style.
        entity: The model the statement selects whole, or None for columns.
    """

    def __init__(self, statement: sa.Select[Any], compiled: SQLCompiler, dialect: Dialect) -> None:
        self._compiled = compiled
        self._dialect = dialect
        self.sql: str = compiled.string
        self._names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self._bind_processors = _bind_processors(compiled, dialect)
        self._expanding = bool(compiled.post_compile_params or compiled.literal_execute_params)
        columns = compiled._result_columns
        self._column_types = [column.type for column in columns]
        self.entity: type[Any] | None = _selected_entity(statement)
        # SQLAlchemy's own rows, with the keys a session's result gives them.
        self._row: Callable[[Sequence[Any]], Row[*tuple[Any, ...]]] = result_tuple(
            _row_keys(statement, columns)
        )
        if self.entity is not None:
            self._keys, self._identity = _entity_layout(self.entity, columns)
            self._new: Callable[[], Any] = sa.inspect(self.entity).class_manager.new_instance
        self._processors: tuple[tuple[int, Processor], ...] | None = None
        self._first_processor: Processor | None = None  # the first column's, for first()

    @property
    def described(self) -> bool:
        """Whether the result columns' processors are known (``describe`` ran)."""
        return self._processors is not None

    def describe(self, type_codes: Sequence[Any]) -> None:
        """Pick the result processors, given the driver's type code of each result column.

        Some processors depend on what the driver reports (PostgreSQL's numeric OIDs);
        SQLite reports nothing, and None stands for every column.
        """
        found = []
        for index, type_ in enumerate(self._column_types):
            code = type_codes[index] if index < len(type_codes) else None
            processor = type_.dialect_impl(self._dialect).result_processor(self._dialect, code)
            if processor is not None:
                found.append((index, processor))
        self._processors = tuple(found)
        self._first_processor = found[0][1] if found and found[0][0] == 0 else None

    def arguments(self, values: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The SQL and its positional arguments for the bound ``values`` (by parameter name)."""
        sql, names, processors = self.sql, self._names, self._bind_processors
        if self._expanding:  # IN lists: one placeholder per item, so the SQL varies
            expanded = self._compiled._process_parameters_for_postcompile(dict(values))
            sql, names = expanded.statement, tuple(expanded.positiontup or ())
            values, processors = expanded.parameters, {**processors, **expanded.processors}
        return sql, [
            processors[name](values[name]) if name in processors else values[name] for name in names
        ]

    def values(
        self, params: Mapping[str, Any] | None, extracted: Sequence[Any] | None
    ) -> dict[str, Any]:
        """Each bound parameter's value: ``params`` over the statement's own (``extracted``)."""
        return dict(
            self._compiled.construct_params(
                dict(params) if params else None, extracted_parameters=extracted
            )
        )

    def first(self, record: Sequence[Any]) -> Any:
        """The row's first column (the model instance, for a whole model), processed."""
        if self.entity is not None:
            return self._instance(record)
        processor = self._first_processor
        return record[0] if processor is None else processor(record[0])

    def row(self, record: Sequence[Any]) -> Row[*tuple[Any, ...]]:
        """The row as a SQLAlchemy ``Row``; a whole model gives one holding the instance."""
        if self.entity is not None:
            return self._row((self._instance(record),))
        values = list(record)
        for index, processor in self._processors or ():
            values[index] = processor(values[index])
        return self._row(values)

    def _instance(self, record: Sequence[Any]) -> Any:
        values = list(record)
        for index, processor in self._processors or ():
            values[index] = processor(values[index])
        entity, positions = self._identity
        instance = self._new()  # with its ORM state, without running __init__
        instance.__dict__.update(zip(self._keys, values, strict=True))
        # An identity makes it a detached instance, as if loaded and its session closed.
        instance._sa_instance_state.key = (entity, tuple(values[i] for i in positions), None)
        return instance


@dataclass(slots=True)
class _Seen:
    """What ``Plans`` remembers of one statement object.

    Its plan is referred to weakly: the plan's compiled form refers to the statement
    it was compiled from, and a strong reference here would keep that statement, the
    key of this entry, alive for ever. The plan lives while its shape is kept.
    """

    plan: weakref.ref[Plan]
    extracted: Sequence[Any] | None  # the statement's own values, by the plan's cache key
    fixed: bool  # whether its own values are the same at every call (no callable_ binds)
    bound: tuple[str, list[Any]] | None = None  # its SQL and arguments when given no params


class Plans:
    """Plans by statement shape and by statement object, for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._by_key: dict[Any, Plan] = {}
        self._seen: weakref.WeakKeyDictionary[sa.Select[Any], _Seen] = weakref.WeakKeyDictionary()

    def bind(
        self, statement: sa.Select[Any], params: Mapping[str, Any] | None
    ) -> tuple[Plan, str, list[Any]]:
        """The plan of ``statement``, with the SQL and arguments to run it with ``params``.

        Raises:
            TypeError: ``statement`` is not a ``select()`` of columns or of one model.
            sqlalchemy.exc.InvalidRequestError: A parameter has no value.
        """
        seen = self._seen.get(statement)
        plan = None if seen is None else seen.plan()
        if seen is None or plan is None:  # new, its shape dropped since, or not cacheable
            plan, seen = self._see(statement)
        if params is None and seen.bound is not None:
            return plan, *seen.bound
        sql, arguments = plan.arguments(plan.values(params, seen.extracted))
        if params is None and seen.fixed:  # the statement's own values only: the same every time
            seen.bound = (sql, arguments)
        return plan, sql, arguments

    def _see(self, statement: sa.Select[Any]) -> tuple[Plan, _Seen]:
        if not isinstance(statement, sa.Select):
            raise TypeError(f"reads run select() statements, not {type(statement).__name__}")
        key = statement._generate_cache_key()
        if key is None:
            # A construct SQLAlchemy cannot cache: compiled for this run only and kept
            # nowhere, as each statement object would otherwise stay for ever.
            compiled = _compile(statement, self.dialect, None)
            once = Plan(statement, compiled, self.dialect)
            return once, _Seen(weakref.ref(once), None, _fixed(compiled.binds.values()))
        # Least recently compiled or seen last: a statement built at each request
        # (the usual way) keeps its shape's plan in.
        plan = self._by_key.pop(key.key, None)
        if plan is None:
            plan = Plan(statement, _compile(statement, self.dialect, key), self.dialect)
            while len(self._by_key) >= MAX_PLANS:
                # pop(): safe should another thread (another loop's reads) evict too.
                self._by_key.pop(next(iter(self._by_key), None), None)
        self._by_key[key.key] = plan
        seen = self._seen[statement] = _Seen(
            weakref.ref(plan), key.bindparams, _fixed(key.bindparams)
        )
        return plan, seen


def _fixed(binds: Iterable[sa.BindParameter[Any]]) -> bool:
    # A bindparam(callable_=...) computes its value at each execution.
    return all(bind.callable is None for bind in binds)


def _compile(statement: sa.Select[Any], dialect: Dialect, key: Any) -> SQLCompiler:
    orm.configure_mappers()  # instances are built from the mappers' attributes
    compiled = statement.compile(dialect=dialect, cache_key=key)
    assert isinstance(compiled, SQLCompiler)
    return compiled


def _bind_processors(compiled: SQLCompiler, dialect: Dialect) -> dict[str, Processor]:
    processors: dict[str, Processor] = {}
    for bind, name in compiled.bind_names.items():
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors[compiled.escaped_bind_names.get(name, name)] = processor
    return processors


def _row_keys(statement: sa.Select[Any], columns: Sequence[Any]) -> list[str]:
    """The keys of the rows a session gives for ``statement``.

    A statement involving a model runs through the ORM, whose rows are keyed by
    ``column_descriptions`` (``count``, the model's name); a Core one gives the
    compiled result columns' names (``count_1``).
    """
    if statement._propagate_attrs.get("compile_state_plugin") == "orm":
        return [description["name"] for description in statement.column_descriptions]
    return [column.keyname for column in columns]


def _selected_entity(statement: sa.Select[Any]) -> type[Any] | None:
    """The model ``statement`` selects whole, or None when it selects only columns."""
    descriptions = statement.column_descriptions
    inspected = [sa.inspect(d["expr"], False) for d in descriptions]
    if any(getattr(found, "is_aliased_class", False) for found in inspected):
        raise TypeError("reads select a model or columns, not an aliased model: use a Session")
    entities = [
        d["expr"]
        for d, found in zip(descriptions, inspected, strict=True)
        if isinstance(found, orm.Mapper)
    ]
    if not entities:
        return None
    if len(descriptions) > 1:
        raise TypeError(
            "reads select one model, or columns; for several models, or a model and "
            "columns, use a Session"
        )
    entity: type[Any] = entities[0]
    mapper = sa.inspect(entity)
    if mapper.inherits is not None or mapper.polymorphic_on is not None:
        raise TypeError(f"{entity.__name__} is part of an inheritance hierarchy: use a Session")
    return entity


def _entity_layout(
    entity: type[Any], columns: Sequence[Any]
) -> tuple[tuple[str, ...], tuple[type[Any], tuple[int, ...]]]:
    """The attribute of each result column, and where the primary key's values are."""
    mapper = sa.inspect(entity)
    attribute_of = {column: prop.key for prop in mapper.column_attrs for column in prop.columns}
    keys = []
    for column in columns:
        # A result column names the table column it reads among its objects; one that
        # names none of the model's (a joinedload's, an added expression) is refused.
        found = next((attribute_of[o] for o in column.objects if o in attribute_of), None)
        if found is None:
            raise TypeError(
                f"the statement selects more than {entity.__name__}'s columns "
                "(a joinedload?): use a Session"
            )
        keys.append(found)
    try:
        positions = tuple(keys.index(attribute_of[c]) for c in mapper.primary_key)
    except ValueError:
        raise TypeError(f"the statement leaves out {entity.__name__}'s primary key") from None
    return tuple(keys), (entity, positions)
