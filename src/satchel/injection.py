"""Dependency injection: one system for HTTP handlers, WebSockets, CLI commands and jobs.

At startup each handler's signature becomes a :class:`Graph`: slots for every
input, the providers in call order (a provider asked for twice is called once),
and the handler's arguments. A request then only fills slots: it reads the
inputs, reports every invalid one at once (422), and calls the providers.

Generator providers are torn down in reverse order: once the response is built
(after the last chunk of a stream), or at once with the exception thrown in when
something fails. App-scoped
providers run once and are torn down when the app shuts down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from msgspec import NODEFAULT

from satchel.datastructures import MultiDict
from satchel.encoding import check_json_depth
from satchel.errors import ConfigurationError, UnsupportedMediaType
from satchel.extractors import EMPTY_BODY, Extractor, make_extractor
from satchel.params import Dependency
from satchel.signatures import (
    Connection,
    Input,
    Kind,
    Needs,
    Signature,
    Special,
    SpecialKind,
    read_signature,
)
from satchel.threads import run_in_thread_shielded
from satchel.validation import FieldError, Invalid, RequestValidationError

__all__ = ["DependencyOverrides", "Graph", "Injector", "Plan"]

logger = logging.getLogger("satchel.error")

Reads = Literal["json", "form"] | None


@dataclass(frozen=True, slots=True)
class _Step:
    """One provider call; its value lands in ``slot``."""

    slot: int
    func: Callable[..., Any]
    kind: Kind
    thread: bool
    args: tuple[tuple[str, int], ...]
    app_scoped: bool


@dataclass(frozen=True, slots=True)
class Graph:
    """A compiled call: where each value comes from and in which order providers run."""

    size: int
    specials: tuple[tuple[int, Special], ...]
    extractors: tuple[tuple[int, Extractor], ...]
    reads: Reads
    steps: tuple[_Step, ...]
    target_args: tuple[tuple[str, int], ...]
    #: Every input, once per (location, key), for documentation.
    inputs: tuple[Input, ...]
    #: Whether a call can leave generator providers to close.
    tears_down: bool
    #: For a route that reads a body and has route dependencies reading none: what runs
    #: before the body is read and what after (None: everything runs after).
    split: _Split | None = None

    def kwargs(self, values: list[Any]) -> dict[str, Any]:
        """The target's keyword arguments, from the filled slots."""
        return {name: values[slot] for name, slot in self.target_args}


@dataclass(frozen=True, slots=True)
class _Split:
    """A graph's extractors and steps cut where the body is read, once at startup."""

    early_extractors: tuple[tuple[int, Extractor], ...]
    early_steps: tuple[_Step, ...]
    extractors: tuple[tuple[int, Extractor], ...]
    steps: tuple[_Step, ...]


class Injector:
    """Builds graphs and holds what outlives a request: overrides and app-scoped values.

    Args:
        specials: Types the framework supplies besides the connection (the ``App``).
        app: The object passed for ``app`` specials.
    """

    def __init__(self, specials: Mapping[type, SpecialKind], app: Any = None) -> None:
        self.specials = dict(specials)
        self.app = app
        self.overrides = DependencyOverrides(self)
        self._plans: list[Plan] = []
        self._app_values: dict[Callable[..., Any], Any] = {}
        self._app_exits: list[Any] = []
        self._call_plans: dict[Callable[..., Any], Plan] = {}

    # -- compilation ---------------------------------------------------------------------

    def plan(
        self,
        func: Callable[..., Any],
        *,
        connection: Connection,
        specials: Mapping[type, SpecialKind],
        path_names: Collection[str] = (),
        methods: Collection[str] = (),
        dependencies: Sequence[Dependency] = (),
    ) -> Plan:
        """Read ``func``'s signature and compile its graph (kept current with overrides).

        ``dependencies`` run before ``func``'s own, their values unused (route and
        router ``dependencies=``).
        """
        all_specials = {**specials, **self.specials}
        signature = read_signature(
            func,
            connection=connection,
            specials=all_specials,
            path_names=path_names,
            methods=methods,
        )
        plan = Plan(
            self,
            signature,
            connection,
            all_specials,
            tuple(path_names),
            tuple(methods),
            tuple(dependencies),
        )
        self._plans.append(plan)
        return plan

    def _rebuild(self) -> None:
        for plan in self._plans:
            plan.rebuild()

    # -- app scope -----------------------------------------------------------------------

    async def app_value(self, provider: Callable[..., Any]) -> Any:
        """The app-scoped value of ``provider`` (overrides applied), created on first use."""
        provider = self.overrides.get(provider, provider)
        try:
            return self._app_values[provider]
        except KeyError:
            pass
        plan = self._plan_for_call(provider, role="app-scoped provider")
        exits: list[Any] = []
        value, gen = await self._call_plan(plan, exits, {})
        if gen is not None:
            exits.append(gen)
        # Two first requests may race here; the first value wins, the second is closed.
        if provider in self._app_values:
            await close_exits(exits, None)
            return self._app_values[provider]
        self._app_values[provider] = value
        self._app_exits.extend(exits)
        return value

    def _forget_app_values(self, changed: set[Callable[..., Any]]) -> None:
        """Drop the app-scoped values of ``changed`` providers and of those built on them.

        They are made again on next use; the old ones are still torn down at shutdown.
        """
        stale = set(changed)
        grown = True
        while grown:  # an app-scoped value may be built from another one, any levels deep
            grown = False
            for provider in self._app_values.keys() - stale:
                plan = self._call_plans.get(provider)
                if plan is not None and any(step.func in stale for step in plan.graph.steps):
                    stale.add(provider)
                    grown = True
        for provider in stale:
            self._app_values.pop(provider, None)

    async def warm_up(self) -> None:
        """Create every app-scoped value the compiled plans use (called at startup)."""
        for plan in list(self._plans):
            for step in plan.graph.steps:
                if step.app_scoped:
                    await self.app_value(step.func)

    async def aclose(self) -> None:
        """Tear down app-scoped generator providers (called at shutdown)."""
        exits, self._app_exits = self._app_exits, []
        self._app_values.clear()
        await close_exits(exits, None)

    # -- the seam for CLI commands and jobs ----------------------------------------------

    async def call(self, func: Callable[..., Any], /, **given: Any) -> Any:
        """Call ``func`` with its ``Depends`` parameters resolved, outside any request.

        Parameters without a marker are taken from ``given`` (or keep their
        defaults); generator providers are torn down when the call returns, and
        an error in a teardown (a refused commit) is raised. This is how CLI
        commands and background jobs share the app's providers (and overrides).
        """
        plan = self._plan_for_call(func, role="function")
        if plan.signature.kind in ("generator", "asyncgen"):
            raise ConfigurationError(f"{plan.signature.where} must not be a generator")
        exits: list[Any] = []
        value, _ = await self._call_plan(plan, exits, given)
        await finish_exits(exits)
        return value

    async def _call_plan(
        self, plan: Plan, exits: list[Any], given: Mapping[str, Any]
    ) -> tuple[Any, Any]:
        """Resolve ``plan`` and call its function; what was opened is torn down if either fails."""
        try:
            graph = plan.graph
            values = await resolve(graph, None, exits, given, self)
            return await _call(
                plan.signature.func, plan.signature.kind, False, graph.kwargs(values)
            )
        except BaseException as exc:
            await close_exits(exits, exc)
            raise

    def _plan_for_call(self, func: Callable[..., Any], *, role: str) -> Plan:
        plan = self._call_plans.get(func)
        if plan is None:
            signature = read_signature(func, connection="none", specials=self.specials, role=role)
            plan = Plan(self, signature, "none", self.specials, (), ())
            self._call_plans[func] = plan
            self._plans.append(plan)
        return plan


class DependencyOverrides(MutableMapping[Callable[..., Any], Callable[..., Any]]):
    """Replacements for providers, mostly for tests: ``overrides[get_db] = fake_db``.

    Every compiled plan is rebuilt when an override is set or removed, so the
    request path never looks overrides up, and a replacement with a bad
    signature fails right where it is set.

    >>> from satchel import App, Depends
    >>> app = App()
    >>> def real() -> str:
    ...     return "real"
    >>> with app.dependency_overrides.use(real, lambda: "fake"):
    ...     len(app.dependency_overrides)
    1
    """

    def __init__(self, injector: Injector) -> None:
        self._injector = injector
        self._map: dict[Callable[..., Any], Callable[..., Any]] = {}

    def __getitem__(self, provider: Callable[..., Any]) -> Callable[..., Any]:
        return self._map[provider]

    def get(self, provider: Callable[..., Any], default: Any = None) -> Any:
        # The dict's own: Mapping.get raises and catches a KeyError for every provider not
        # overridden, and app-scoped dependencies look theirs up on every request.
        return self._map.get(provider, default)

    def __setitem__(self, provider: Callable[..., Any], replacement: Callable[..., Any]) -> None:
        previous = self._map.get(provider)
        self._map[provider] = replacement
        self._changed(provider, previous)

    def __delitem__(self, provider: Callable[..., Any]) -> None:
        previous = self._map.pop(provider)
        self._changed(provider, previous)

    def __iter__(self) -> Iterator[Callable[..., Any]]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def _changed(self, provider: Callable[..., Any], previous: Callable[..., Any] | None) -> None:
        # Before the rebuild: the graphs still name what the app-scoped values were made of.
        self._injector._forget_app_values({provider} if previous is None else {provider, previous})
        try:
            self._injector._rebuild()
        except ConfigurationError:
            if previous is None:
                self._map.pop(provider, None)
            else:
                self._map[provider] = previous
            self._injector._rebuild()
            raise

    @contextmanager
    def use(self, provider: Callable[..., Any], replacement: Callable[..., Any]) -> Iterator[None]:
        """Override ``provider`` inside a ``with`` block, restoring what was there after."""
        previous = self._map.get(provider)
        self[provider] = replacement
        try:
            yield
        finally:
            if previous is None:
                del self[provider]
            else:
                self[provider] = previous


class Plan:
    """A function's compiled graph, rebuilt when dependency overrides change."""

    __slots__ = (
        "connection",
        "dependencies",
        "graph",
        "injector",
        "methods",
        "path_names",
        "signature",
        "specials",
    )

    def __init__(
        self,
        injector: Injector,
        signature: Signature,
        connection: Connection,
        specials: Mapping[type, SpecialKind],
        path_names: tuple[str, ...],
        methods: tuple[str, ...],
        dependencies: tuple[Dependency, ...] = (),
    ) -> None:
        self.injector = injector
        self.dependencies = dependencies
        self.signature = signature
        self.connection = connection
        self.specials = specials
        self.path_names = path_names
        self.methods = methods
        self.graph = _Builder(self).build()

    def rebuild(self) -> None:
        self.graph = _Builder(self).build()


class _Builder:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.size = 0
        self.specials: list[tuple[int, Special]] = []
        self.extractors: list[tuple[int, Extractor]] = []
        self.inputs: list[Input] = []
        self.steps: list[_Step] = []
        self.cache: dict[Callable[..., Any], int] = {}
        self.visiting: list[Callable[..., Any]] = []
        self.reads: Reads = None
        self.keys: dict[tuple[str, str], Input] = {}

    def build(self) -> Graph:
        signature = self.plan.signature
        for dependency in self.plan.dependencies:  # first: a rate limit runs before the rest
            if dependency.provider is None:
                raise ConfigurationError(f"{signature.where}: dependencies need a provider")
            self.add_dependency(Needs(dependency, dependency.provider), signature)
        # Route dependencies that read no body can run before it is read.
        cut = (len(self.extractors), len(self.steps)) if self.reads is None else (0, 0)
        target_args = self.visit(signature)
        # A path parameter may be taken by the handler or by any of its dependencies.
        taken = {inp.key for inp in self.inputs if inp.location == "path"}
        missing = set(self.plan.path_names) - taken
        if missing:
            raise ConfigurationError(
                f"{self.plan.signature.where} does not take path parameter(s) {sorted(missing)}, "
                "nor do its dependencies"
            )
        extractors, steps = tuple(self.extractors), tuple(self.steps)
        split = None
        if self.reads is not None and cut[1]:
            early_extractors, early_steps = cut
            split = _Split(
                extractors[:early_extractors],
                steps[:early_steps],
                extractors[early_extractors:],
                steps[early_steps:],
            )
        return Graph(
            self.size,
            tuple(self.specials),
            extractors,
            self.reads,
            steps,
            target_args,
            tuple(self.inputs),
            any(s.kind in ("generator", "asyncgen") and not s.app_scoped for s in steps),
            split,
        )

    def slot(self) -> int:
        self.size += 1
        return self.size - 1

    def visit(self, signature: Signature) -> tuple[tuple[str, int], ...]:
        args = []
        for name, arg in signature.arguments:
            if isinstance(arg, Input):
                slot = self.add_input(arg, signature)
            elif isinstance(arg, Special):
                slot = self.slot()
                self.specials.append((slot, arg))
            else:
                slot = self.add_dependency(arg, signature)
            args.append((name, slot))
        return tuple(args)

    def add_input(self, inp: Input, signature: Signature) -> int:
        seen = self.keys.setdefault((inp.location, inp.key), inp)
        if seen.type != inp.type:
            raise ConfigurationError(
                f"{signature.where}, parameter {inp.name!r}: {inp.location} {inp.key!r} is "
                f"read elsewhere in this route as {seen.type!r}, here as {inp.type!r}"
            )
        if seen is inp:
            self.inputs.append(inp)
        reads: Reads = {"body": "json", "form": "form"}.get(inp.location)  # type: ignore[assignment]
        if reads is not None:
            if self.reads not in (None, reads) or (reads == "json" and self.reads == "json"):
                raise ConfigurationError(
                    f"{signature.where}, parameter {inp.name!r}: a route reads one JSON body "
                    "or form fields, not both, and at most one body parameter"
                )
            self.reads = reads
        slot = self.slot()
        self.extractors.append((slot, make_extractor(inp)))
        return slot

    def add_dependency(self, needs: Needs, signature: Signature) -> int:
        injector = self.plan.injector
        provider = injector.overrides.get(needs.provider, needs.provider)
        cached = self.cache.get(provider) if needs.dependency.use_cache else None
        if cached is not None:
            return cached
        if provider in self.visiting:
            chain = " -> ".join(getattr(p, "__qualname__", repr(p)) for p in self.visiting)
            raise ConfigurationError(f"Dependency cycle: {chain} -> {provider.__qualname__}")
        if needs.dependency.scope == "app":
            # Checked now so that a request-bound app-scoped provider fails at startup.
            injector._plan_for_call(provider, role="app-scoped provider")
            slot = self.slot()
            self.steps.append(_Step(slot, provider, "coroutine", False, (), True))
        else:
            sub = read_signature(
                provider,
                connection=self.plan.connection,
                specials=self.plan.specials,
                path_names=self.plan.path_names,
                methods=self.plan.methods,
                role="provider",
            )
            self.visiting.append(provider)
            args = self.visit(sub)
            self.visiting.pop()
            slot = self.slot()
            self.steps.append(_Step(slot, provider, sub.kind, needs.dependency.thread, args, False))
        if needs.dependency.use_cache:
            self.cache[provider] = slot
        return slot


# -- running a graph -----------------------------------------------------------------------


async def _read_payload(conn: Any, reads: Reads) -> Any:
    if reads == "form":
        if "content-type" not in conn.headers and not await conn.body():
            # No form at all, like an empty JSON body: required fields answer 422.
            return MultiDict[Any]()
        return await conn.form()
    media_type = conn.content_type[0]
    body = await conn.body()
    if not body:
        return EMPTY_BODY
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType("Expected an application/json body")
    check_json_depth(body, conn.config.max_json_depth)
    return body


async def resolve(
    graph: Graph, conn: Any, exits: list[Any] | None, given: Mapping[str, Any], injector: Injector
) -> list[Any]:
    """Fill the graph's slots for one call; raise 422 listing every invalid input."""
    values: list[Any] = [None] * graph.size
    if graph.specials:
        _fill_specials(graph, values, conn, given, injector)
    split = graph.split
    if split is not None:
        # Route and router dependencies that read no body (a rate limit, an API key
        # check) run before it is read: a refused client never gets it read or validated.
        _extract(split.early_extractors, conn, None, values)
        await _run_steps(split.early_steps, values, exits, injector)
        try:
            payload = await _read_payload(conn, graph.reads)
            _extract(split.extractors, conn, payload, values)
        except BaseException as exc:
            if exits:  # what the early providers opened
                await close_exits(exits, exc)
                exits.clear()
            raise
        await _run_steps(split.steps, values, exits, injector)
        return values
    payload = None if graph.reads is None else await _read_payload(conn, graph.reads)
    _extract(graph.extractors, conn, payload, values)
    await _run_steps(graph.steps, values, exits, injector)
    return values


def _extract(
    extractors: tuple[tuple[int, Extractor], ...], conn: Any, payload: Any, values: list[Any]
) -> None:
    """Read and validate inputs into their slots; one 422 lists every invalid one."""
    errors: list[FieldError] | None = None
    for slot, extract in extractors:
        try:
            values[slot] = extract(conn, payload)
        except Invalid as exc:
            errors = exc.errors if errors is None else errors + exc.errors
    if errors:
        raise RequestValidationError(errors)


async def _run_steps(
    steps: tuple[_Step, ...], values: list[Any], exits: list[Any] | None, injector: Injector
) -> None:
    """Call providers in order; on a failure, tear down what already opened."""
    for step in steps:
        try:
            if step.app_scoped:
                values[step.slot] = await injector.app_value(step.func)
                continue
            kwargs = {name: values[slot] for name, slot in step.args}
            value, gen = await _call(step.func, step.kind, step.thread, kwargs)
        except BaseException as exc:
            if exits:
                await close_exits(exits, exc)
                exits.clear()
            raise
        if gen is not None and exits is not None:
            exits.append(gen)
        values[step.slot] = value


def _fill_specials(
    graph: Graph, values: list[Any], conn: Any, given: Mapping[str, Any], injector: Injector
) -> None:
    for slot, special in graph.specials:
        if special.kind == "connection":
            values[slot] = conn
        elif special.kind == "app":
            values[slot] = injector.app
        elif special.name in given:
            values[slot] = given[special.name]
        elif special.default is not NODEFAULT:
            values[slot] = special.default
        else:
            raise TypeError(f"missing argument {special.name!r}")


async def _call(
    func: Callable[..., Any], kind: Kind, thread: bool, kwargs: dict[str, Any]
) -> tuple[Any, Any]:
    """Call a provider; return its value and the generator to close later (or None)."""
    if kind == "coroutine":
        return await func(**kwargs), None
    if kind == "asyncgen":
        agen = func(**kwargs)
        return await agen.__anext__(), agen
    # Threads are waited for even on cancellation, or the teardown that follows
    # would run while the thread still uses what is torn down.
    if kind == "generator":
        gen = func(**kwargs)
        if not thread:
            return next(gen), gen
        try:
            return await run_in_thread_shielded(next, gen), _InThread(gen)
        except BaseException as exc:
            # Cancelled while its setup ran: it is torn down like those set up before it.
            await close_exits([_InThread(gen)], exc)
            raise
    if thread:
        return await run_in_thread_shielded(func, **kwargs), None
    return func(**kwargs), None


async def close_exits(exits: list[Any], exc: BaseException | None) -> None:
    """Finish generator providers, newest first, throwing ``exc`` in when given.

    A provider that re-raises the thrown exception is fine; any other error in
    a teardown is logged (the response is already decided) and the others still run.
    A cancellation or an interrupt raised by one is raised again once all have run.
    """
    interrupted: BaseException | None = None
    for gen in reversed(exits):
        try:
            await _finish(gen, exc)
        except BaseException as error:
            if error is exc:
                continue  # re-raised, as a provider's ``finally`` or ``except: raise`` does
            if not isinstance(error, Exception):
                interrupted = interrupted or error
                continue
            logger.error("Error tearing down dependency %r", gen, exc_info=error)
    if interrupted is not None:
        raise interrupted


async def finish_exits(exits: list[Any]) -> None:
    """Finish generator providers after success, newest first, and raise what a teardown raised.

    Used while the outcome can still change: a teardown that fails (a commit the
    database refuses) becomes the request's error instead of a log line. Every
    teardown still runs; the first error is raised once all have.
    """
    first: BaseException | None = None
    for gen in reversed(exits):
        try:
            await _finish(gen, None)
        except BaseException as error:
            first = first or error
    if first is not None:
        raise first


@dataclass(frozen=True, slots=True)
class _InThread:
    """A ``thread=True`` generator provider: its teardown runs in a worker thread too."""

    gen: Any


async def _finish(gen: Any, exc: BaseException | None) -> None:
    if isinstance(gen, _InThread):
        await run_in_thread_shielded(_finish_sync, gen.gen, exc)
        return
    if hasattr(gen, "__anext__"):
        try:
            if exc is None:
                await gen.__anext__()
            else:
                await gen.athrow(exc)
        except StopAsyncIteration:
            return
        await gen.aclose()
        raise RuntimeError(f"Provider {gen!r} yielded more than once")
    _finish_sync(gen, exc)


def _finish_sync(gen: Any, exc: BaseException | None) -> None:
    try:
        if exc is None:
            next(gen)
        else:
            gen.throw(exc)
    except StopIteration:
        return
    gen.close()
    raise RuntimeError(f"Provider {gen!r} yielded more than once")
