"""``ModelSchema``: msgspec structs derived from a model, for request bodies and responses.

``class ArticleOut(ModelSchema[Article]): pass`` is a msgspec ``Struct`` whose fields
are ``Article``'s columns, typed from the model (see :mod:`satchel.db.columns` for the
rules). It is an ordinary class: handlers take it as a body, return it, and the
OpenAPI document names it; ``mode="create"`` and ``mode="update"`` derive the input
schemas of POST and PATCH from the same model.
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Self, TypeVar, get_args

import msgspec

if sys.version_info >= (3, 14):
    import annotationlib

from satchel.db.columns import ColumnInfo, column_attribute_names, model_columns

__all__ = ["ModelSchema", "ModelSchemaMeta", "SchemaMode"]

#: What a schema is for: responses (``read``), POST bodies (``create``), PATCH bodies (``update``).
SchemaMode = Literal["read", "create", "update"]

M = TypeVar("M")

_MODES = ("read", "create", "update")
# Where Python 3.14 keeps a class body's lazily evaluated annotations (replaced by ours).
_ANNOTATE_KEYS = ("__annotate__", "__annotate_func__")


def _declared_model(name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
    """The model of ``class X(ModelSchema[Model])``, or None for other classes."""
    base = globals().get("ModelSchema")
    if base is None:  # defining ModelSchema itself
        return None
    for original in namespace.get("__orig_bases__", ()):
        if typing.get_origin(original) is base:
            (model,) = get_args(original)
            if not isinstance(model, type):
                raise TypeError(f"{name}: ModelSchema[...] takes a model class, not {model!r}")
            return model
    if base in bases:
        raise TypeError(f"{name}: name the model the schema derives from: ModelSchema[Model]")
    return None


def _namespace_annotations(namespace: dict[str, Any]) -> dict[str, Any]:
    """The annotations written in a class body being created."""
    if "__annotations__" in namespace:
        return dict(namespace["__annotations__"])
    if sys.version_info >= (3, 14):
        # Annotations are evaluated lazily there; names not defined yet stay references.
        for key in _ANNOTATE_KEYS:
            if key in namespace:
                forward = annotationlib.Format.FORWARDREF
                return dict(annotationlib.call_annotate_function(namespace[key], forward))
    return {}


def _chosen(
    name: str,
    columns: dict[str, ColumnInfo],
    mode: SchemaMode,
    declared: Collection[str],
    include: set[str] | None,
    exclude: set[str],
    read_only: set[str],
) -> list[str]:
    """The columns that become derived fields, in table order."""
    named = (include or set()) | exclude | read_only
    unknown = sorted(named - set(columns))
    if unknown:
        raise TypeError(
            f"{name}: {', '.join(map(repr, unknown))} not a column of the model (declare "
            "relationships and other fields in the class body)"
        )
    if read_only and mode == "read":
        raise TypeError(f"{name}: read_only applies to create and update schemas")
    for first, second, names in (
        ("include", "read_only", (include or set()) & read_only),
        ("include", "exclude", (include or set()) & exclude),
        ("declared", "excluded", exclude & set(declared)),
    ):
        if names:
            raise TypeError(f"{name}: {sorted(names)} both {first} and {second}")
    if include is not None:
        chosen = [key for key in columns if key in include]
    elif mode == "read":
        chosen = [key for key, column in columns.items() if not column.deferred]
    else:
        chosen = [
            key
            for key, column in columns.items()
            if column.writable
            and key not in read_only
            and not (mode == "update" and column.primary_key)
        ]
    return [key for key in chosen if key not in exclude]


def _annotations(
    columns: dict[str, ColumnInfo],
    chosen: list[str],
    declared: dict[str, Any],
    namespace: dict[str, Any],
    mode: SchemaMode,
) -> dict[str, Any]:
    """Every field's annotation, derived ones first; sets their defaults in ``namespace``."""
    annotations: dict[str, Any] = {}
    for key in chosen:
        if key in declared:
            annotations[key] = _as_declared(declared[key], key, columns, namespace, mode)
            continue
        column = columns[key]
        if mode == "read":
            annotations[key] = column.read_type
            continue
        default = msgspec.UNSET if mode == "update" else column.default
        field_type = column.input_type
        if default is msgspec.UNSET:
            field_type = field_type | msgspec.UnsetType
        annotations[key] = field_type
        if default is not msgspec.NODEFAULT:
            namespace[key] = default
    for key, annotation in declared.items():
        if key not in annotations:
            annotations[key] = _as_declared(annotation, key, columns, namespace, mode)
    return annotations


def _as_declared(
    annotation: Any,
    key: str,
    columns: dict[str, ColumnInfo],
    namespace: dict[str, Any],
    mode: SchemaMode,
) -> Any:
    """A field written in the class body, as written; in an update schema a column
    written without a default becomes optional too, like every field of a PATCH."""
    if mode != "update" or key not in columns or key in namespace:
        return annotation
    namespace[key] = msgspec.UNSET
    if isinstance(annotation, str):
        # Resolved later by msgspec in the class's own namespace, like any annotation.
        annotation = typing.ForwardRef(annotation)
    return typing.Union[annotation, msgspec.UnsetType]  # noqa: UP007


class ModelSchemaMeta(msgspec.StructMeta):
    """Builds a ``ModelSchema[Model]`` subclass: the model's columns become fields first.

    The options are class keywords (``class X(ModelSchema[M], mode="create")``); any
    other keyword is a msgspec struct option (``rename=``, ``omit_defaults=``...).
    """

    def __new__(
        mcls,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        /,
        *,
        mode: SchemaMode | None = None,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] = (),
        read_only: Iterable[str] = (),
        **options: Any,
    ) -> ModelSchemaMeta:
        model = _declared_model(name, bases, namespace)
        if model is None:
            if mode is not None or include is not None or exclude or read_only:
                raise TypeError(
                    f"{name}: mode, include, exclude and read_only apply to a class that "
                    "names its model: class X(ModelSchema[Model], ...)"
                )
            return super().__new__(mcls, name, bases, namespace, **options)
        for option, names in (("include", include), ("exclude", exclude), ("read_only", read_only)):
            if isinstance(names, str):
                raise TypeError(f"{name}: {option} takes a tuple of names, not a string")
        mode = mode or "read"
        if mode not in _MODES:
            raise TypeError(f"{name}: mode must be one of {_MODES}, not {mode!r}")
        options.setdefault("kw_only", True)  # derived optional fields may precede required ones
        options.setdefault("forbid_unknown_fields", mode != "read")
        declared = _namespace_annotations(namespace)
        columns = model_columns(model)
        chosen = _chosen(
            name,
            columns,
            mode,
            declared,
            None if include is None else set(include),
            set(exclude),
            set(read_only),
        )
        namespace = {k: v for k, v in namespace.items() if k not in _ANNOTATE_KEYS}
        namespace["__annotations__"] = _annotations(columns, chosen, declared, namespace, mode)
        namespace["__schema_model__"] = model
        namespace["__schema_mode__"] = mode
        namespace["__schema_columns__"] = column_attribute_names(model)
        return super().__new__(mcls, name, bases, namespace, **options)


class ModelSchema(msgspec.Struct, Generic[M], metaclass=ModelSchemaMeta):
    """A msgspec struct whose fields come from a SQLAlchemy model.

    Subclass it naming the model, with the class keywords ``mode`` (``"read"``,
    ``"create"`` or ``"update"``), ``include``, ``exclude`` and ``read_only``; fields
    written in the class body add to or replace the derived ones.

    >>> from sqlalchemy import Column, Integer, String
    >>> from sqlalchemy.orm import DeclarativeBase
    >>> class Base(DeclarativeBase): ...
    >>> class Tag(Base):
    ...     __tablename__ = "tag"
    ...     id = Column(Integer, primary_key=True)
    ...     label = Column(String(20), nullable=False)
    >>> class TagIn(ModelSchema[Tag], mode="create"):
    ...     pass
    >>> [field.name for field in msgspec.structs.fields(TagIn)]  # the database sets id
    ['label']
    >>> msgspec.json.decode(b'{"label": "news"}', type=TagIn).to_model().label
    'news'
    >>> msgspec.json.decode(b'{"label": "%s"}' % (b"x" * 21), type=TagIn)
    Traceback (most recent call last):
    msgspec.ValidationError: Expected `str` of length <= 20 - at `$.label`
    """

    __schema_model__: ClassVar[type[Any]]
    __schema_mode__: ClassVar[SchemaMode]
    __schema_columns__: ClassVar[frozenset[str]]

    if TYPE_CHECKING:
        # What type checkers see: derived fields are not in the class body, so they are
        # read as Any and set through keyword arguments.
        def __init_subclass__(
            cls,
            *,
            mode: SchemaMode = "read",
            include: Iterable[str] | None = None,
            exclude: Iterable[str] = (),
            read_only: Iterable[str] = (),
            **options: Any,
        ) -> None: ...

        def __init__(self, **fields: Any) -> None: ...

        def __getattr__(self, name: str) -> Any: ...

    @classmethod
    def from_model(cls, instance: M) -> Self:
        """The schema of a model instance, read attribute by attribute.

        Raises:
            msgspec.ValidationError: An attribute does not fit its field (a NULL in a
                column the schema declares as not nullable, say).
        """
        return msgspec.convert(instance, cls, from_attributes=True)

    def to_dict(self) -> dict[str, Any]:
        """The fields that have a value: the ones left ``UNSET`` (not sent) are omitted."""
        found = {name: getattr(self, name) for name in self.__struct_fields__}
        return {name: value for name, value in found.items() if value is not msgspec.UNSET}

    def to_model(self, **values: Any) -> M:
        """A new model instance from the fields that are its columns, plus ``values``.

        Fields that are not columns (ones the class body adds) are left out: pass what
        they become as ``values`` (``to_model(password_hash=hash(schema.password))``).
        """
        fields = {k: v for k, v in self.to_dict().items() if k in self.__schema_columns__}
        instance: M = self.__schema_model__(**{**fields, **values})
        return instance

    def apply_to(self, instance: M) -> M:
        """Set the columns of ``instance`` that this schema has a value for; returns it.

        With an update schema this is a PATCH: fields the client did not send are
        ``UNSET`` and leave their column as it is.
        """
        for name, value in self.to_dict().items():
            if name in self.__schema_columns__:
                setattr(instance, name, value)
        return instance
