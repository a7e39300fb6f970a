"""``ModelForm``: a form whose fields come from a ``satchel.db`` model's columns.

Needs the ``db`` extra; ``satchel.forms`` imports this module (and SQLAlchemy)
only when ``ModelForm`` is first used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

from satchel.errors import MissingDependencyError
from satchel.forms.choices import ChoiceField
from satchel.forms.fields import (
    BooleanField,
    DateField,
    DecimalField,
    Field,
    FloatField,
    IntegerField,
    StringField,
    TextField,
    humanize,
)
from satchel.forms.forms import Form, FormInput, submitted_input
from satchel.requests import Request

if TYPE_CHECKING:
    from satchel.forms.bound import BoundField

try:
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import AsyncSession
except ImportError as exc:
    raise MissingDependencyError("sqlalchemy", "db") from exc

__all__ = ["ModelForm", "field_for_column"]

# The integer range of each SQL integer type (on PostgreSQL a value outside it fails the insert).
_INTEGER_BITS = ((sa.SmallInteger, 16), (sa.BigInteger, 64), (sa.Integer, 32))


def field_for_column(name: str, column: sa.ColumnElement[Any]) -> Field[Any]:
    """The form field for a model column.

    ``String(n)`` gives a ``StringField(max_length=n)``, ``Text`` a ``TextField``,
    integers an ``IntegerField`` bounded by the SQL type's range, ``Numeric(p, s)``
    a ``DecimalField(max_digits=p, decimal_places=s)``, ``Float`` a ``FloatField``,
    ``Boolean`` a ``BooleanField``, ``Enum`` a ``ChoiceField``, ``Date`` a
    ``DateField``. A column that is nullable or has a default is optional; its
    ``doc`` (or ``comment``) becomes the help text.

    Raises:
        TypeError: no field fits the column's type (declare the field on the form).
    """
    sql_type = column.type
    if isinstance(sql_type, sa.TypeDecorator):
        sql_type = sql_type.impl_instance
    required = not (
        getattr(column, "nullable", True)
        or getattr(column, "default", None) is not None
        or getattr(column, "server_default", None) is not None
    )
    help_text = getattr(column, "doc", None) or getattr(column, "comment", None) or ""
    common: dict[str, Any] = {"label": humanize(name), "required": required, "help_text": help_text}
    if isinstance(sql_type, sa.Enum):
        choices = sql_type.enum_class or [(value, value) for value in sql_type.enums]
        return ChoiceField(choices=choices, **common)
    if isinstance(sql_type, sa.Boolean):
        return BooleanField(label=common["label"], help_text=help_text)
    if isinstance(sql_type, sa.String):
        text_type = TextField if isinstance(sql_type, sa.Text) else StringField
        return text_type(max_length=sql_type.length, **common)
    for integer_type, bits in _INTEGER_BITS:
        if isinstance(sql_type, integer_type):
            limit = 2 ** (bits - 1)
            return IntegerField(min_value=-limit, max_value=limit - 1, **common)
    if isinstance(sql_type, sa.Float) or (
        isinstance(sql_type, sa.Numeric) and not sql_type.asdecimal
    ):
        return FloatField(**common)
    if isinstance(sql_type, sa.Numeric):
        return DecimalField(max_digits=sql_type.precision, decimal_places=sql_type.scale, **common)
    if isinstance(sql_type, sa.Date):
        return DateField(**common)
    raise TypeError(
        f"No form field for column {name!r} of type {column.type!r}: declare the field on the form"
    )


class ModelForm(Form):
    """A form for a model: ``class ArticleForm(ModelForm, model=Article, fields=(...))``.

    ``fields`` lists the columns the form may set, and nothing else can be set
    through it (a user cannot post ``is_admin=1`` into a column you did not list).
    Each gets a field from :func:`field_for_column`, unless the class declares
    one under that name itself; declared fields that are not in ``fields`` are
    part of the form but not copied to the model.

    Args:
        data: The submitted input (see :class:`Form`).
        obj: The instance being edited: its values are the initial ones, and
            :meth:`save` updates it instead of creating one.
        initial: Initial values, over ``obj``'s.
        request: The request, for the CSRF field.
        prefix: See :class:`Form`.

    Attributes:
        obj: The instance edited, or the one :meth:`save` created.
    """

    #: The model class the form is for.
    model: ClassVar[type[Any] | None] = None
    #: The model attributes the form sets, in order.
    model_fields: ClassVar[tuple[str, ...]] = ()
    # Columns that refuse NULL: an empty field leaves their value (or default) alone.
    _not_nullable: ClassVar[frozenset[str]] = frozenset()

    if TYPE_CHECKING:
        # Fields made from columns exist only at run time: type checkers see them
        # as bound fields of any type (declare a field to give it a precise type).
        def __getattr__(self, name: str) -> BoundField[Any]: ...

    def __init_subclass__(
        cls,
        *,
        model: type[Any] | None = None,
        fields: Sequence[str] | None = None,
        csrf: bool | None = None,
        **kwargs: Any,
    ) -> None:
        if model is not None:
            cls._derive_fields(model, fields)
        super().__init_subclass__(csrf=csrf, **kwargs)
        # A subclass that removes a field (``body = None``) must not set its column either.
        cls.model_fields = tuple(name for name in cls.model_fields if name in cls._fields)
        if model is not None:
            listed = {name: cls._fields[name] for name in cls.model_fields}
            cls._fields = {**listed, **cls._fields}

    @classmethod
    def _derive_fields(cls, model: type[Any], fields: Sequence[str] | None) -> None:
        if fields is None or isinstance(fields, str):
            raise TypeError(
                f"{cls.__name__} needs fields=(...): a tuple of the columns the form may set"
            )
        try:
            columns = sa.inspect(model).column_attrs
        except sa.exc.NoInspectionAvailable:
            raise TypeError(f"{model!r} is not a mapped model class") from None
        not_nullable: set[str] = set()
        for name in fields:
            if name in vars(cls) and vars(cls)[name] is None:
                raise TypeError(f"{cls.__name__} lists {name!r} in fields and removes it (= None)")
            declared = isinstance(vars(cls).get(name), Field)
            if name not in columns:
                if declared:
                    continue
                raise TypeError(
                    f"{model.__name__} has no column {name!r}: declare the field on {cls.__name__}"
                )
            column = columns[name].columns[0]
            if not getattr(column, "nullable", True):
                not_nullable.add(name)
            if not declared:
                field = field_for_column(name, column)
                field.__set_name__(cls, name)
                setattr(cls, name, field)
        cls.model = model
        cls.model_fields = tuple(fields)
        cls._not_nullable = frozenset(not_nullable)

    def __init__(
        self,
        data: FormInput | None = None,
        *,
        obj: Any = None,
        initial: Mapping[str, Any] | None = None,
        request: Request | None = None,
        prefix: str = "",
    ) -> None:
        self.obj = obj
        # A declared field may stand for a write-only attribute (a setter): no initial value.
        values = (
            {} if obj is None else {name: getattr(obj, name, None) for name in self.model_fields}
        )
        super().__init__(
            data, initial={**values, **(initial or {})}, request=request, prefix=prefix
        )

    @classmethod
    async def from_request(
        cls,
        request: Request,
        *,
        obj: Any = None,
        initial: Mapping[str, Any] | None = None,
        prefix: str = "",
    ) -> Self:
        """The form for ``request`` (unbound for GET and HEAD), editing ``obj`` if given."""
        data = await submitted_input(request)
        return cls(data, obj=obj, initial=initial, request=request, prefix=prefix)

    def populate(self, obj: Any) -> None:
        """Copy the valid values of the ``fields`` columns onto ``obj``.

        An empty optional field sets None, except on a column that refuses NULL
        (one with a default), which keeps its value.

        Raises:
            RuntimeError: the form is not valid (see ``Form.data``).
        """
        data = self.data
        for name in self.model_fields:
            value = data.get(name)
            if value is None and name in self._not_nullable:
                continue
            setattr(obj, name, value)

    async def save(self, db: AsyncSession) -> Any:
        """Populate the edited instance (or a new one), add it to ``db`` and flush.

        Returns the instance, with its database defaults and id once flushed. With
        ``satchel.db``'s session a violated constraint raises ``Conflict`` (409).

        Raises:
            RuntimeError: the form is not valid.
        """
        if self.model is None:
            raise TypeError(f"{type(self).__name__} has no model: declare it with model=...")
        if not self._valid:  # checked before a new instance is created
            raise RuntimeError("save() needs a form that validate() found valid")
        obj = self.obj if self.obj is not None else self.model()
        self.populate(obj)
        db.add(obj)
        await db.flush()
        self.obj = obj
        return obj
