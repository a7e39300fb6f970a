"""Path matching and URL reversing.

Static paths are found with one dict lookup. Paths with parameters live in a
segment trie: at each segment a static child is tried first, then parameter
children (typed converters before plain strings), then a rest-of-path
converter, backtracking when a branch dead-ends. No regular expressions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from satchel.converters import Converter, StrConverter
from satchel.errors import ConfigurationError

__all__ = ["Param", "RouteTable", "parse_path"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Param:
    """A ``{name}`` or ``{name:converter}`` segment of a route path."""

    name: str
    converter: str | None


Segment = str | Param


def parse_path(path: str) -> list[Segment]:
    """Split a route path into static segments and parameters.

    >>> parse_path("/users/{user_id:int}/posts")
    ['users', Param(name='user_id', converter='int'), 'posts']

    Raises:
        ConfigurationError: the path is malformed.
    """
    if not path.startswith("/"):
        raise ConfigurationError(f"Route path {path!r} must start with '/'")
    segments: list[Segment] = []
    seen: set[str] = set()
    for text in path[1:].split("/"):
        if "{" not in text and "}" not in text:
            segments.append(text)
            continue
        if not (text.startswith("{") and text.endswith("}")) or text.count("{") != 1:
            raise ConfigurationError(
                f"Route path {path!r}: a parameter must fill a whole segment, like '/{{name}}'"
            )
        name, _, converter = text[1:-1].partition(":")
        if not name.isidentifier() or name in seen:
            raise ConfigurationError(f"Route path {path!r}: bad or duplicate parameter {name!r}")
        seen.add(name)
        segments.append(Param(name, converter or None))
    return segments


class _Node(Generic[T]):
    __slots__ = ("catch_all", "endpoint", "params", "static")

    def __init__(self) -> None:
        self.static: dict[str, _Node[T]] = {}
        self.params: list[tuple[str, Converter[Any], _Node[T]]] = []
        self.catch_all: list[tuple[str, Converter[Any], T]] = []
        self.endpoint: T | None = None


@dataclass(frozen=True, slots=True)
class _Reverse:
    segments: tuple[str | tuple[str, Converter[Any]], ...]


class RouteTable(Generic[T]):
    """Maps paths to endpoints (``T``) and route names back to paths.

    >>> from satchel.converters import IntConverter
    >>> table: RouteTable[str] = RouteTable()
    >>> table.add(parse_path("/users/{id}"), {"id": IntConverter()}, "user-endpoint")
    >>> table.add_name("user", parse_path("/users/{id}"), {"id": IntConverter()})
    >>> table.match("/users/42")
    ('user-endpoint', {'id': 42})
    >>> table.match("/users/abc") is None
    True
    >>> table.url_path("user", {"id": 7})
    '/users/7'
    """

    def __init__(self) -> None:
        self._static: dict[str, T] = {}
        self._root: _Node[T] = _Node()
        self._reverse: dict[str, _Reverse] = {}

    def add(
        self, segments: list[Segment], converters: Mapping[str, Converter[Any]], endpoint: T
    ) -> None:
        """Add ``endpoint`` at ``segments``; ``converters`` maps each parameter name."""
        if all(isinstance(s, str) for s in segments):
            path = "/" + "/".join(s for s in segments if isinstance(s, str))
            if path in self._static:
                raise ConfigurationError(f"Two endpoints for path {path!r}")
            self._static[path] = endpoint
            return
        self._insert(self._root, segments, converters, endpoint)

    def add_name(
        self, name: str, segments: list[Segment], converters: Mapping[str, Converter[Any]]
    ) -> None:
        """Record ``name`` so :meth:`url_path` can rebuild the path from parameters."""
        if name in self._reverse:
            raise ConfigurationError(f"Two routes are named {name!r}")
        self._reverse[name] = _Reverse(
            tuple(s if isinstance(s, str) else (s.name, converters[s.name]) for s in segments)
        )

    def _insert(
        self,
        node: _Node[T],
        segments: list[Segment],
        converters: Mapping[str, Converter[Any]],
        endpoint: T,
    ) -> None:
        for index, segment in enumerate(segments):
            if isinstance(segment, str):
                node = node.static.setdefault(segment, _Node())
                continue
            converter = converters[segment.name]
            if converter.matches_slash:
                if index != len(segments) - 1:
                    raise ConfigurationError(
                        f"Parameter {segment.name!r} takes the rest of the path; it must be last"
                    )
                node.catch_all.append((segment.name, converter, endpoint))
                return
            node = self._param_child(node, segment.name, converter)
        if node.endpoint is not None:
            raise ConfigurationError("Two endpoints for the same path pattern")
        node.endpoint = endpoint

    @staticmethod
    def _param_child(node: _Node[T], name: str, converter: Converter[Any]) -> _Node[T]:
        for existing_name, existing, child in node.params:
            if existing_name == name and existing is converter:
                return child
        child = _Node[T]()
        node.params.append((name, converter, child))
        # Typed converters first: '/{id:int}' must win over '/{slug}' for '/42'.
        node.params.sort(key=lambda entry: isinstance(entry[1], StrConverter))
        return child

    def match(self, path: str) -> tuple[T, dict[str, Any]] | None:
        """Return the endpoint for ``path`` and its converted parameters, or None."""
        endpoint = self._static.get(path)
        if endpoint is not None:
            return endpoint, {}
        if not path.startswith("/"):
            return None
        params: dict[str, Any] = {}
        found = _match(self._root, path[1:].split("/"), 0, params)
        return None if found is None else (found, params)

    def url_path(self, name: str, params: Mapping[str, Any]) -> str:
        """Build the path of the route ``name`` from ``params``.

        Raises:
            KeyError: no route has that name.
            ValueError: a parameter is missing or unexpected.
        """
        reverse = self._reverse[name]
        needed = {s[0] for s in reverse.segments if isinstance(s, tuple)}
        if needed != set(params):
            raise ValueError(
                f"Route {name!r} takes parameters {sorted(needed)}, got {sorted(params)}"
            )
        parts = []
        for segment in reverse.segments:
            if isinstance(segment, str):
                parts.append(segment)
                continue
            param_name, converter = segment
            text = converter.to_url(params[param_name])
            converter.to_python(text)  # what url_for builds must route back (ValueError if not)
            parts.append(quote(text, safe="/" if converter.matches_slash else ""))
        return "/" + "/".join(parts)


def _match(node: _Node[T], segments: list[str], index: int, params: dict[str, Any]) -> T | None:
    if index == len(segments):
        return node.endpoint
    segment = segments[index]
    child = node.static.get(segment)
    if child is not None:
        found = _match(child, segments, index + 1, params)
        if found is not None:
            return found
    if not segment:
        return None
    for name, converter, child in node.params:
        try:
            params[name] = converter.to_python(segment)
        except ValueError:
            continue
        found = _match(child, segments, index + 1, params)
        if found is not None:
            return found
        del params[name]
    if node.catch_all:
        rest = "/".join(segments[index:])
        for name, converter, endpoint in node.catch_all:
            try:
                params[name] = converter.to_python(rest)
            except ValueError:
                continue
            return endpoint
    return None
