"""RateLimit: windows, Retry-After, keys and scopes, as a dependency and as a middleware."""

from __future__ import annotations

import asyncio
import math
import random
from typing import Any

import msgspec
import pytest

from satchel import App, Depends, Request, Response, Router, Settings
from satchel.middleware import CallNext
from satchel.ratelimit import Algorithm, MemoryStore, RateLimit, RateLimitResult, client_address
from satchel.testing import TestClient
from tests.ratelimit.test_store import Clock

CLIENT = ("203.0.113.7", 50000)


class Login(msgspec.Struct):
    username: str


class Item(msgspec.Struct):
    name: str


def hits(limit: RateLimit, key: str, count: int) -> list[RateLimitResult]:
    async def main() -> list[RateLimitResult]:
        return [await limit.hit(key) for _ in range(count)]

    return asyncio.run(main())


def make_app(**options: Any) -> App[Any]:
    return App(settings=Settings(**options))


class TestOptions:
    @pytest.mark.parametrize("limit", [0, -1, True, 2.5])
    def test_limit_is_a_positive_integer(self, limit: Any) -> None:
        with pytest.raises(ValueError, match="limit must be a positive integer"):
            RateLimit(limit, 60)

    @pytest.mark.parametrize("window", [0, -5, math.inf, math.nan, "60"])
    def test_window_is_a_positive_number(self, window: Any) -> None:
        with pytest.raises(ValueError, match="window must be a positive number"):
            RateLimit(5, window)

    def test_algorithm_is_known(self) -> None:
        with pytest.raises(ValueError, match="algorithm must be"):
            RateLimit(5, 60, algorithm="leaky")  # type: ignore[arg-type]

    def test_repr(self) -> None:
        limit = RateLimit(5, 30, algorithm="fixed", scope="login")
        assert repr(limit) == "RateLimit(5, 30.0, algorithm='fixed', scope='login')"

    def test_each_limiter_has_its_own_memory_store(self) -> None:
        first, second = RateLimit(1, 60), RateLimit(1, 60)
        assert isinstance(first.store, MemoryStore)
        assert first.store is not second.store


class TestScope:
    def test_default_is_where_it_was_created(self) -> None:
        limit = RateLimit(5, 60)
        assert limit.scope.startswith(f"{__name__}:")
        line = int(limit.scope.rsplit(":", 1)[1])
        assert line > 0

    def test_limiters_made_at_one_place_differ(self) -> None:
        limits = [RateLimit(5, 60) for _ in range(3)]
        assert len({limit.scope for limit in limits}) == 3

    def test_two_limiters_share_counters_only_through_one_scope(self) -> None:
        store = MemoryStore()
        first = RateLimit(2, 60, store=store)
        second = RateLimit(2, 60, store=store)
        named = [RateLimit(2, 60, store=store, scope="shared") for _ in range(2)]

        hits(first, "client", 2)
        assert hits(second, "client", 1)[0].allowed
        hits(named[0], "client", 2)
        assert not hits(named[1], "client", 1)[0].allowed


class TestFixedWindow:
    def test_the_request_after_the_limit_is_refused(self) -> None:
        clock = Clock(600.0)
        limit = RateLimit(3, 60, algorithm="fixed", clock=clock)
        results = hits(limit, "client", 4)
        assert [r.allowed for r in results] == [True, True, True, False]
        assert [r.remaining for r in results] == [2, 1, 0, 0]

    def test_retry_after_is_the_rest_of_the_window(self) -> None:
        clock = Clock(600.0)
        limit = RateLimit(1, 60, algorithm="fixed", clock=clock)
        hits(limit, "client", 1)
        clock.now = 640.2
        refused = hits(limit, "client", 1)[0]
        assert (refused.retry_after, refused.reset) == (20, 20)  # 19.8 s, rounded up
        clock.now = 659.99
        assert hits(limit, "client", 1)[0].retry_after == 1  # never 0
        clock.now = 660.0
        assert hits(limit, "client", 1)[0].allowed

    def test_bursts_at_the_window_edge_pass(self) -> None:
        # The known weakness of fixed windows, which the sliding window avoids.
        clock = Clock(659.0)
        limit = RateLimit(3, 60, algorithm="fixed", clock=clock)
        assert all(r.allowed for r in hits(limit, "client", 3))
        clock.now = 660.0
        assert all(r.allowed for r in hits(limit, "client", 3))


class TestSlidingWindow:
    def test_no_burst_at_the_window_edge(self) -> None:
        clock = Clock(659.0)
        limit = RateLimit(3, 60, clock=clock)
        assert all(r.allowed for r in hits(limit, "client", 3))
        clock.now = 660.0
        assert not hits(limit, "client", 1)[0].allowed

    def test_the_budget_refills_gradually(self) -> None:
        clock = Clock(659.0)
        limit = RateLimit(6, 60, clock=clock)
        hits(limit, "client", 6)  # all at the end of a window
        admitted = []
        for second in (0, 10, 20, 30, 40, 50, 60):
            clock.now = 660.0 + second + 0.5
            admitted.append(sum(r.allowed for r in hits(limit, "client", 6)))
        # floor(6 * (1 - t / 60)) of the old window still counts: one request back every 10 s.
        assert admitted == [1, 1, 1, 1, 1, 1, 1]

    def test_a_steady_client_under_the_limit_is_never_refused(self) -> None:
        clock = Clock(1000.0)
        limit = RateLimit(10, 60, clock=clock)
        for step in range(300):  # 10 a minute, evenly spaced, for 5 minutes
            clock.now = 1000.0 + step * 6.0
            assert hits(limit, "client", 1)[0].allowed

    @pytest.mark.parametrize("start", [600.3, 630.7, 659.9])
    @pytest.mark.parametrize("burst", [6, 9])
    def test_retry_after_is_exact(self, start: float, burst: int) -> None:
        # Refused at t with Retry-After r: still refused at t + r - 1, admitted at t + r.
        clock = Clock(start)
        limit = RateLimit(5, 60, clock=clock)
        now, checked = start, 0
        for _ in range(12):
            clock.now = now
            refused = [r for r in hits(limit, "client", burst) if not r.allowed]
            if refused:
                retry_after = refused[0].retry_after
                assert retry_after is not None
                clock.now = now + retry_after - 1
                assert not hits(limit, "client", 1)[0].allowed
                now += retry_after
                clock.now = now
                assert hits(limit, "client", 1)[0].allowed
                checked += 1
            now += 1.3
        assert checked >= 6


@pytest.mark.parametrize("algorithm", ["fixed", "sliding"])
def test_retry_after_is_exact_for_random_traffic(algorithm: Algorithm) -> None:
    # Seeded, so the same cases every run: odd windows, far-off clocks, bursty arrivals.
    rng = random.Random(20240601)
    checked = 0
    for _ in range(150):
        limit_value = rng.randint(1, 20)
        window = rng.choice([0.3, 1.0, 2.5, 10.0, 60.0, 3600.0])
        clock = Clock(rng.uniform(0, 2e9))
        limit = RateLimit(limit_value, window, algorithm=algorithm, clock=clock)
        for _ in range(20):
            clock.now += rng.expovariate(1.5 * limit_value / window)
            refused = hits(limit, "client", 1)[0]
            if refused.allowed:
                continue
            assert refused.retry_after is not None
            refused_at = clock.now
            clock.now = refused_at + refused.retry_after - 1
            assert refused.retry_after == 1 or not hits(limit, "client", 1)[0].allowed
            clock.now = refused_at + refused.retry_after
            assert hits(limit, "client", 1)[0].allowed
            checked += 1
    assert checked > 200


class TestClientAddress:
    @pytest.mark.parametrize(
        ("peer", "key"),
        [
            ("203.0.113.7", "203.0.113.7"),
            ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
            ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),  # the same subscriber's /64
            ("::ffff:203.0.113.7", "203.0.113.7"),
            ("", ""),  # no peer (a Unix socket): one shared counter
            ("not:an:address", "not:an:address"),
        ],
    )
    def test_key(self, peer: str, key: str) -> None:
        app = make_app()

        @app.get("/")
        async def index(request: Request) -> str:
            return client_address(request)

        with TestClient(app, client=(peer, 1234)) as client:
            assert client.get("/").text == key

    def test_forwarded_for_only_from_trusted_proxies(self) -> None:
        limit = RateLimit(1, 60)
        trusting = make_app(trusted_proxies=["10.0.0.0/8"])
        naive = make_app()
        for app in (trusting, naive):

            @app.get("/", dependencies=[Depends(limit)])
            async def index() -> str:
                return "ok"

        proxy = ("10.0.0.2", 1234)
        with TestClient(trusting, client=proxy) as client:
            for user in ("198.51.100.1", "198.51.100.2"):
                assert client.get("/", headers={"x-forwarded-for": user}).status_code == 200
        # Behind a proxy that is not trusted, everyone has the proxy's address.
        with TestClient(naive, client=("10.0.0.3", 1234)) as client:
            assert client.get("/", headers={"x-forwarded-for": "198.51.100.1"}).status_code == 200
            assert client.get("/", headers={"x-forwarded-for": "198.51.100.2"}).status_code == 429


class TestDependency:
    def test_429_problem_json_with_retry_after(self) -> None:
        clock = Clock(960.0)  # a window's start
        limit = RateLimit(2, 60, algorithm="fixed", clock=clock)
        app = make_app()

        @app.get("/items", dependencies=[Depends(limit)])
        async def items() -> list[int]:
            return [1, 2]

        with TestClient(app, client=CLIENT) as client:
            assert [client.get("/items").status_code for _ in range(2)] == [200, 200]
            clock.now = 975.5
            response = client.get("/items")
        assert response.status_code == 429
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "45"
        assert response.headers["ratelimit-limit"] == "2"
        assert response.headers["ratelimit-remaining"] == "0"
        assert response.headers["ratelimit-reset"] == "45"
        assert response.json() == {
            "type": "about:blank",
            "title": "Too Many Requests",
            "status": 429,
            "detail": "Rate limit exceeded; retry in 45 seconds",
        }

    def test_refused_before_the_handler_and_other_dependencies(self) -> None:
        ran: list[str] = []
        limit = RateLimit(1, 60)

        async def session() -> str:
            ran.append("session")
            return "s"

        app = make_app()

        @app.get("/", dependencies=[Depends(limit)])
        async def index(s: str = Depends(session)) -> str:
            ran.append("handler")
            return s

        with TestClient(app, client=CLIENT) as client:
            client.get("/")
            assert client.get("/").status_code == 429
        assert ran == ["session", "handler"]

    def test_routes_with_their_own_limits_count_apart(self) -> None:
        app = make_app()

        @app.get("/a", dependencies=[Depends(RateLimit(1, 60))])
        async def a() -> str:
            return "a"

        @app.get("/b", dependencies=[Depends(RateLimit(1, 60))])
        async def b() -> str:
            return "b"

        with TestClient(app, client=CLIENT) as client:
            assert [client.get(p).status_code for p in ("/a", "/b", "/a", "/b")] == [
                200,
                200,
                429,
                429,
            ]

    def test_routes_sharing_a_limit_share_its_counter(self) -> None:
        limit = RateLimit(2, 60)
        app = make_app()

        @app.get("/a", dependencies=[Depends(limit)])
        async def a() -> str:
            return "a"

        @app.get("/b", dependencies=[Depends(limit)])
        async def b() -> str:
            return "b"

        with TestClient(app, client=CLIENT) as client:
            assert [client.get(p).status_code for p in ("/a", "/b", "/a")] == [200, 200, 429]

    def test_a_router_limit_covers_its_routes(self) -> None:
        api = Router(prefix="/api", dependencies=[Depends(RateLimit(2, 60))])

        @api.get("/a")
        async def a() -> str:
            return "a"

        @api.get("/b")
        async def b() -> str:
            return "b"

        app = make_app()

        @app.get("/free")
        async def free() -> str:
            return "free"

        app.include(api)
        with TestClient(app, client=CLIENT) as client:
            assert [client.get(p).status_code for p in ("/api/a", "/api/b", "/api/a")] == [
                200,
                200,
                429,
            ]
            assert client.get("/free").status_code == 200

    def test_router_and_route_limits_both_apply(self) -> None:
        strict = RateLimit(1, 60)
        api = Router(prefix="/api", dependencies=[Depends(RateLimit(3, 60))])

        @api.get("/login", dependencies=[Depends(strict)])
        async def login() -> str:
            return "login"

        @api.get("/other")
        async def other() -> str:
            return "other"

        app = make_app()
        app.include(api)
        with TestClient(app, client=CLIENT) as client:
            statuses = [client.get(p).status_code for p in ("/api/login", "/api/login")]
            assert statuses == [200, 429]
            # The refused login was not counted by the router's limit: 2 of 3 used.
            assert [client.get("/api/other").status_code for _ in range(2)] == [200, 429]

    def test_one_limit_on_router_and_route_counts_a_request_once(self) -> None:
        limit = RateLimit(2, 60)
        api = Router(dependencies=[Depends(limit)])

        @api.get("/", dependencies=[Depends(limit)])
        async def index() -> str:
            return "ok"

        app = make_app()
        app.include(api)
        with TestClient(app, client=CLIENT) as client:
            assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]

    def test_tests_can_lift_a_limit_with_an_override(self) -> None:
        limit = RateLimit(1, 60)
        app = make_app()

        @app.get("/", dependencies=[Depends(limit)])
        async def index() -> str:
            return "ok"

        with TestClient(app, client=CLIENT) as client:
            with app.dependency_overrides.use(limit, lambda: None):
                assert [client.get("/").status_code for _ in range(3)] == [200] * 3
            assert [client.get("/").status_code for _ in range(2)] == [200, 429]

    def test_clients_are_counted_apart(self) -> None:
        limit = RateLimit(1, 60)
        app = make_app()

        @app.get("/", dependencies=[Depends(limit)])
        async def index() -> str:
            return "ok"

        for peer in ("203.0.113.1", "203.0.113.2"):
            with TestClient(app, client=(peer, 1)) as client:
                assert [client.get("/").status_code for _ in range(2)] == [200, 429]


class TestCustomKey:
    def test_by_api_key_header(self) -> None:
        def api_key(request: Request) -> str:
            return request.headers.get("x-api-key") or client_address(request)

        limit = RateLimit(1, 60, key=api_key)
        app = make_app()

        @app.get("/", dependencies=[Depends(limit)])
        async def index() -> str:
            return "ok"

        with TestClient(app, client=CLIENT) as client:
            assert client.get("/", headers={"x-api-key": "one"}).status_code == 200
            assert client.get("/", headers={"x-api-key": "two"}).status_code == 200
            assert client.get("/", headers={"x-api-key": "one"}).status_code == 429
            assert client.get("/").status_code == 200  # no key: by address
            assert client.get("/").status_code == 429

    def test_async_key_and_none_exempts(self) -> None:
        async def staff_exempt(request: Request) -> str | None:
            await asyncio.sleep(0)  # a lookup, say
            if request.headers.get("authorization") == "Bearer staff":
                return None
            return client_address(request)

        limit = RateLimit(1, 60, key=staff_exempt)
        app = make_app()

        @app.get("/", dependencies=[Depends(limit)])
        async def index() -> str:
            return "ok"

        staff = {"authorization": "Bearer staff"}
        with TestClient(app, client=CLIENT) as client:
            assert [client.get("/", headers=staff).status_code for _ in range(3)] == [200] * 3
            assert [client.get("/").status_code for _ in range(2)] == [200, 429]

    def test_hit_counts_any_key_inside_a_handler(self) -> None:
        login_attempts = RateLimit(2, 300)
        app = make_app()

        @app.post("/login")
        async def login(form: Login) -> dict[str, Any]:
            result = await login_attempts.hit(form.username.lower())
            return {"allowed": result.allowed, "remaining": result.remaining}

        with TestClient(app, client=CLIENT) as client:
            bodies = [client.post("/login", json={"username": "Ada"}).json() for _ in range(3)]
        assert bodies == [
            {"allowed": True, "remaining": 1},
            {"allowed": True, "remaining": 0},
            {"allowed": False, "remaining": 0},
        ]


class TestMiddleware:
    def test_headers_on_admitted_responses(self) -> None:
        clock = Clock(960.0)
        limit = RateLimit(2, 60, algorithm="fixed", clock=clock)
        app = make_app()
        app.add_middleware(limit.middleware)

        @app.get("/")
        async def index() -> str:
            return "ok"

        with TestClient(app, client=CLIENT) as client:
            first = client.get("/")
            second = client.get("/missing")  # 404s count too: scanners are limited
            third = client.get("/")
        assert first.headers["ratelimit-remaining"] == "1"
        assert first.headers["ratelimit-limit"] == "2"
        assert first.headers["ratelimit-reset"] == "60"
        assert "retry-after" not in first.headers
        assert second.status_code == 404
        assert second.headers["ratelimit-remaining"] == "0"
        assert third.status_code == 429
        assert third.headers["retry-after"] == "60"
        assert third.headers["content-type"] == "application/problem+json"

    def test_runs_before_the_body_is_read(self) -> None:
        limit = RateLimit(1, 60)
        app = make_app()
        app.add_middleware(limit.middleware)

        @app.post("/items")
        async def create(item: Item) -> str:
            return item.name

        with TestClient(app, client=CLIENT) as client:
            assert client.post("/items", content=b"{not json").status_code in (400, 415, 422)
            # An invalid request used the budget: floods of junk are limited too.
            assert client.post("/items", json={"name": "x"}).status_code == 429

    def test_the_tightest_limit_sets_the_headers(self) -> None:
        loose, tight = RateLimit(100, 60), RateLimit(5, 60)
        api = Router(middleware=[tight.middleware])

        @api.get("/")
        async def index() -> str:
            return "ok"

        app = make_app()
        app.add_middleware(loose.middleware)
        app.include(api)
        with TestClient(app, client=CLIENT) as client:
            response = client.get("/")
        assert response.headers["ratelimit-limit"] == "5"
        assert response.headers["ratelimit-remaining"] == "4"

    def test_the_middleware_outside_sees_a_response(self) -> None:
        seen: list[int] = []

        async def outer(request: Request, call_next: CallNext) -> Response:
            response = await call_next(request)
            seen.append(response.status_code)
            response.headers["access-control-allow-origin"] = "https://app.example"
            return response

        api = Router(middleware=[RateLimit(1, 60).middleware])

        @api.get("/")
        async def index() -> str:
            return "ok"

        app = make_app()
        app.add_middleware(outer)
        app.include(api)
        with TestClient(app, client=CLIENT) as client:
            client.get("/")
            refused = client.get("/")
        assert seen == [200, 429]
        assert refused.headers["access-control-allow-origin"] == "https://app.example"
        assert refused.headers["retry-after"].isdigit()

    def test_a_router_middleware_and_an_exempt_key(self) -> None:
        limit = RateLimit(1, 60, key=lambda request: request.headers.get("x-api-key"))
        api = Router(prefix="/api", middleware=[limit.middleware])

        @api.get("/")
        async def index() -> str:
            return "ok"

        app = make_app()
        app.include(api)
        with TestClient(app, client=CLIENT) as client:
            anonymous = client.get("/api/")
            assert anonymous.status_code == 200
            assert "ratelimit-limit" not in anonymous.headers
            keyed = {"x-api-key": "k"}
            assert [client.get("/api/", headers=keyed).status_code for _ in range(2)] == [200, 429]
