"""Immutable request data structures: headers, multi-valued mappings, URLs, cookies.

Everything here is pure computation on strings (no I/O), so every protocol
adapter and every battery shares it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Generic, TypeVar, overload
from urllib.parse import SplitResult, unquote_plus, urlsplit

from satchel.defaults import MAX_FORM_FIELDS
from satchel.errors import BadRequest

__all__ = [
    "URL",
    "Headers",
    "MultiDict",
    "QueryParams",
    "parse_cookie_header",
    "parse_options_header",
]

V = TypeVar("V")
D = TypeVar("D")

# A Cookie header with more pairs than this is hostile or broken; parsing stops
# there so one request cannot make us build a huge dict.
MAX_COOKIES = 256


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued, read-only HTTP headers.

    Indexing and ``get`` return the first value; ``getall`` returns every value.
    Iteration yields each distinct (lower-case) name once.

    >>> h = Headers([("Accept", "text/html"), ("X-Tag", "a"), ("x-tag", "b")])
    >>> h["accept"], h.getall("X-TAG")
    ('text/html', ['a', 'b'])
    """

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: list[tuple[str, str]] = [(k.lower(), v) for k, v in pairs]

    @classmethod
    def from_lowercase(cls, items: list[tuple[str, str]]) -> Headers:
        """Wrap ``items`` whose names are already lower case, without copying."""
        headers = cls.__new__(cls)
        headers._items = items
        return headers

    @overload
    def get(self, key: str, /) -> str | None: ...
    @overload
    def get(self, key: str, /, default: str | D) -> str | D: ...
    def get(self, key: str, /, default: object = None) -> object:
        key = key.lower()
        for name, value in self._items:
            if name == key:
                return value
        return default

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def getall(self, key: str) -> list[str]:
        """Return every value of ``key`` in order (empty list if absent)."""
        key = key.lower()
        return [value for name, value in self._items if name == key]

    def get_single(self, key: str) -> str | None:
        """Return the value of ``key``, refusing conflicting duplicates with 400.

        Use it for headers that must appear once (Content-Length, Host, ...).
        """
        values = self.getall(key)
        if not values:
            return None
        if any(v != values[0] for v in values[1:]):
            raise BadRequest(f"Conflicting {key} headers")
        return values[0]

    def multi_items(self) -> list[tuple[str, str]]:
        """Return all ``(name, value)`` pairs, duplicates included."""
        return list(self._items)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        key = key.lower()
        return any(name == key for name, _ in self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for name, _ in self._items))

    def __len__(self) -> int:
        return len(dict.fromkeys(name for name, _ in self._items))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return sorted(self._items) == sorted(other._items)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class MultiDict(Mapping[str, V], Generic[V]):
    """A read-only mapping that keeps every value of repeated keys.

    ``m[key]`` and ``get`` return the first value, ``getall`` all of them.

    >>> m = MultiDict([("a", "1"), ("b", "2"), ("a", "3")])
    >>> m["a"], m.getall("a"), list(m)
    ('1', ['1', '3'], ['a', 'b'])
    """

    __slots__ = ("_first", "_items")

    def __init__(self, items: Iterable[tuple[str, V]] | Mapping[str, V] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: list[tuple[str, V]] = list(pairs)
        first: dict[str, V] = {}
        for key, value in self._items:
            first.setdefault(key, value)
        self._first = first

    def __getitem__(self, key: str) -> V:
        return self._first[key]

    @overload
    def get(self, key: str, /) -> V | None: ...
    @overload
    def get(self, key: str, /, default: V | D) -> V | D: ...
    def get(self, key: str, /, default: object = None) -> object:
        # One dict lookup: Mapping.get would go through __getitem__ and KeyError.
        return self._first.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def getall(self, key: str) -> list[V]:
        """Return every value for ``key`` in order (empty list if absent)."""
        return [value for name, value in self._items if name == key]

    def multi_items(self) -> list[tuple[str, V]]:
        """Return all ``(key, value)`` pairs, duplicates included."""
        return list(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return self._items == other._items
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"


class QueryParams(MultiDict[str]):
    """Query-string parameters.

    >>> QueryParams.parse("q=satchel&tag=a&tag=b").getall("tag")
    ['a', 'b']
    """

    __slots__ = ()

    @classmethod
    def parse(cls, query_string: str, *, max_fields: int = MAX_FORM_FIELDS) -> QueryParams:
        """Parse ``query_string`` strictly: invalid UTF-8 or too many fields give 400."""
        if not query_string:
            return cls()
        if query_string.count("&") >= max_fields:
            raise BadRequest(f"Too many query parameters (limit {max_fields})")
        pairs = []
        try:
            for chunk in query_string.split("&"):
                if not chunk:
                    continue
                name, _, value = chunk.partition("=")
                # Most names and values need no decoding: skip unquote for them.
                if "%" in name or "+" in name:
                    name = unquote_plus(name, errors="strict")
                if "%" in value or "+" in value:
                    value = unquote_plus(value, errors="strict")
                pairs.append((name, value))
        except UnicodeDecodeError:
            raise BadRequest("Query string is not valid UTF-8") from None
        return cls(pairs)


class URL:
    """An absolute or relative URL, split once into its parts.

    >>> url = URL("https://example.com/a/b?x=1")
    >>> url.scheme, url.host, url.path, url.query
    ('https', 'example.com', '/a/b', 'x=1')
    >>> str(url.replace(path="/c", query=""))
    'https://example.com/c'
    """

    __slots__ = ("_parts", "_text")

    def __init__(self, url: str) -> None:
        self._text = url
        self._parts: SplitResult = urlsplit(url)

    @classmethod
    def build(cls, *, scheme: str, netloc: str, path: str, query: str = "") -> URL:
        """Build a URL from its parts."""
        text = f"{scheme}://{netloc}{path}"
        return cls(f"{text}?{query}" if query else text)

    @property
    def scheme(self) -> str:
        return self._parts.scheme

    @property
    def netloc(self) -> str:
        return self._parts.netloc

    @property
    def host(self) -> str:
        return self._parts.hostname or ""

    @property
    def port(self) -> int | None:
        try:
            return self._parts.port
        except ValueError:
            return None

    @property
    def path(self) -> str:
        return self._parts.path

    @property
    def query(self) -> str:
        return self._parts.query

    @property
    def fragment(self) -> str:
        return self._parts.fragment

    def replace(self, **parts: str) -> URL:
        """Return a copy with some of scheme, netloc, path, query, fragment changed."""
        return URL(self._parts._replace(**parts).geturl())

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"URL({self._text!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, URL | str):
            return self._text == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._text)


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` request header into a dict, in one linear pass.

    The first occurrence of a name wins (browsers send the most specific cookie
    first). Pairs without a name, such as ``=__Host-id=x`` (a nameless cookie
    posing as a prefixed one), are dropped, as are names with whitespace or
    control characters. Surrounding double quotes are removed; nothing else is
    unescaped.

    >>> parse_cookie_header('a=1; b="two"; =__Host-x=evil; a=3')
    {'a': '1', 'b': 'two'}
    """
    cookies: dict[str, str] = {}
    for count, chunk in enumerate(header.split(";")):
        if count >= MAX_COOKIES:
            break
        name, sep, value = chunk.partition("=")
        # Only SP and HTAB, as browsers trim: str.strip() also drops NBSP, NEL, U+2000
        # and \x1c-\x1f, so "\xa0__Host-x" (an ordinary cookie to a browser, settable by
        # a subdomain) would read as a __Host- cookie ("Cookie Chaos", PortSwigger 2025).
        name = name.strip(" \t")
        if not sep or not name or not _is_cookie_name(name) or name in cookies:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        cookies[name] = value
    return cookies


def _is_cookie_name(name: str) -> bool:
    return name.isprintable() and not any(c in name for c in ' \t",\\')


def parse_options_header(
    value: str, *, keep_unknown_escapes: bool = False, strip_chars: str | None = None
) -> tuple[str, dict[str, str]]:
    """Split a header like Content-Type into its lower-cased value and parameters.

    Parameter names are lower-cased and the first occurrence wins; quoted values are
    unquoted. Malformed parameters are skipped. One linear pass.

    Args:
        value: The header value.
        keep_unknown_escapes: In quoted values only ``\\"`` and ``\\\\`` are escapes and any
            other backslash is kept, as browsers send a Windows path in a multipart file
            name (``"C:\\dir\\a.txt"``). By default a backslash escapes any character.
        strip_chars: Characters trimmed around the value, names and unquoted values,
            as for :meth:`str.strip`; ``None`` trims all whitespace.

    >>> parse_options_header('multipart/form-data; boundary="a b"; charset=UTF-8')
    ('multipart/form-data', {'boundary': 'a b', 'charset': 'UTF-8'})
    >>> parse_options_header('form-data; filename="C:\\\\x\\\\y.txt"', keep_unknown_escapes=True)
    ('form-data', {'filename': 'C:\\\\x\\\\y.txt'})
    """
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    pos, length = 0, len(rest)
    while pos < length:
        end = rest.find(";", pos)
        end = length if end < 0 else end
        equals = rest.find("=", pos, end)
        if equals < 0:
            # No '=' before the next ';': skip this parameter alone, not the next one too.
            pos = end + 1
            continue
        name = rest[pos:equals].strip(strip_chars).lower()
        param = rest[equals + 1 : end].lstrip(strip_chars)
        if param.startswith('"'):
            param, pos = _read_quoted(rest, end - len(param) + 1, keep_unknown_escapes)
            end = rest.find(";", pos)
            end = length if end < 0 else end
        else:
            param = param.rstrip(strip_chars)
        pos = end + 1
        if name:
            params.setdefault(name, param)
    return main.strip(strip_chars).lower(), params


def _read_quoted(text: str, start: int, keep_unknown_escapes: bool) -> tuple[str, int]:
    """Read a quoted-string whose opening quote is just before ``start``.

    Returns the unescaped value and the index after the closing quote (the end of
    ``text`` if the quote is never closed). Each step jumps to the next backslash or
    quote with ``str.find``, so hostile runs of escapes stay linear.
    """
    out: list[str] = []
    pos, length = start, len(text)
    quote = text.find('"', pos)
    while True:
        stop = length if quote < 0 else quote
        backslash = text.find("\\", pos, stop)
        if backslash < 0:
            out.append(text[pos:stop])
            return "".join(out), min(stop + 1, length)
        out.append(text[pos:backslash])
        escaped = text[backslash + 1 : backslash + 2]
        if escaped and (not keep_unknown_escapes or escaped in ('"', "\\")):
            out.append(escaped)
            pos = backslash + 2
            if backslash + 1 == quote:  # that quote was escaped: find the closing one
                quote = text.find('"', pos)
        else:
            out.append("\\")
            pos = backslash + 1
