"""Two app replicas behind the real nginx of deploy/nginx/default.conf.template (the file
docker-compose.yml's proxy mounts): pages load and rerun through the proxy at the protocol
level and in Chromium, new sessions spread over both replicas, and each session stays on its
replica for its websocket and every HTTP request (the route cookie).

Which replica served a request is read from the proxy's access log ($upstream_addr), never
guessed; a websocket is logged when it closes. Timings are not checked.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from benchmarks.streamlit_client import Session, texts
from deploy.proxy import ROUTE_COOKIE, LogEntry, Replicas
from tests.deploy.deploy_support import proxy_logs
from tests.e2e.e2e_support import VIEWPORT, App
from tests.support import run_async

MAX_NEW_SESSIONS = 24  # without a cookie each lands on either replica: 2**-23 to miss one
STREAM = "/_stcore/stream"
BASE_PATH_PROBE = re.compile(r"^/[a-z]+/_stcore/(health|host-config)$")


def metric(elements: list, label: str) -> str:
    """The value of the metric ``label`` in a run's elements."""
    found = [t.split(" = ", 1)[1] for t in texts(elements) if t.startswith(f"{label} = ")]
    assert found, f"no metric {label!r} in {texts(elements)[:20]}"
    return found[0]


async def move_w1(session: Session) -> str:
    """Open /forward, move w1, check the rerun changed the output Y; returns the new Y."""
    first = await session.load()
    assert first.ok, (first.status, first.exceptions)
    slider = session.find("w1", "slider")
    new = 0.5 if slider.value != [0.5] else -0.5
    changed = await session.set("w1", [new], "slider")
    assert changed.ok, (changed.status, changed.exceptions)
    assert session.find("w1 (exact)", "number_input").value == pytest.approx(new)
    assert metric(changed.elements, "Y") != metric(first.elements, "Y")
    return metric(changed.elements, "Y")


def streams(replicas: Replicas, count: int) -> list[LogEntry]:
    """The first ``count`` websockets the proxy logged (they are logged when they close)."""
    assert replicas.proxy is not None
    return replicas.proxy.wait_for(lambda e: e.uri == STREAM, count)[:count]


# ------------------------------------------------------------------------------ the protocol
def test_first_response_pins_the_browser_with_a_route_cookie(two_replicas: Replicas) -> None:
    proxy = two_replicas.proxy
    assert proxy is not None
    status, headers, body = proxy.get("/")
    assert status == 200 and b"<html" in body.lower()
    cookie = headers.get("Set-Cookie", "")
    match = re.fullmatch(rf"{ROUTE_COOKIE}=([0-9a-f]{{32}}); Path=/; HttpOnly; SameSite=Lax",
                         cookie)
    assert match, f"no route cookie in {headers}"
    route = match.group(1)
    # the page's request was routed by the key the cookie now carries
    [entry] = proxy.wait_for(lambda e: e.route == route and e.uri == "/")
    assert entry.status == 200
    # a browser that has the cookie keeps it: no new one
    status, headers, _ = proxy.get("/", cookie=route)
    assert status == 200 and "Set-Cookie" not in headers


def test_the_apps_code_reaches_a_browser_compressed(two_replicas: Replicas) -> None:
    """The page's scripts through the proxy: gzip for a browser that accepts it (the same
    bytes once unpacked, a fraction on the wire), as they are for one that does not."""
    proxy = two_replicas.proxy
    assert proxy is not None
    status, _, page = proxy.get("/")
    assert status == 200
    scripts = sorted(set(re.findall(rb'"\./(static/js/[\w.-]+\.js)"', page)))
    assert len(scripts) >= 5, page[:2000]  # the entry point and its preloaded modules
    raw_total = sent_total = 0
    for script in scripts:
        path = "/" + script.decode()
        status, headers, raw = proxy.get(path)
        assert status == 200 and "Content-Encoding" not in headers
        status, headers, sent = proxy.get(path, headers={"Accept-Encoding": "gzip"})
        assert status == 200
        if len(raw) >= 1024:  # gzip_min_length: a tiny file goes as it is
            assert headers.get("Content-Encoding") == "gzip", (path, headers)
            assert "Accept-Encoding" in headers.get("Vary", "")
            assert gzip.decompress(sent) == raw, path
        else:
            assert sent == raw, path
        raw_total, sent_total = raw_total + len(raw), sent_total + len(sent)
    assert sent_total < 0.45 * raw_total, (sent_total, raw_total)


def test_new_sessions_spread_over_both_replicas(two_replicas: Replicas) -> None:
    """Sessions without a cookie (the load test's clients) are hashed by their own request id:
    both replicas serve some, and each runs the page and its reruns."""
    proxy = two_replicas.proxy
    assert proxy is not None
    before = len([e for e in proxy.entries() if e.uri == STREAM])
    served: list[int] = []
    for i in range(MAX_NEW_SESSIONS):
        async def one() -> None:
            async with Session(two_replicas.ws_url, "forward") as session:
                await move_w1(session)

        run_async(one())
        entry = streams(two_replicas, before + i + 1)[-1]
        assert entry.status == 101, proxy_logs(two_replicas)
        served.append(two_replicas.replica_of(entry.upstream))
        if set(served) == {0, 1}:
            break
    assert set(served) == {0, 1}, f"{len(served)} sessions all on replica {served[0]}"


def test_a_session_stays_on_its_replica(two_replicas: Replicas) -> None:
    """A browser-like session on each replica: the page, the app's HTTP requests and the
    websocket with its reruns all carry the cookie and all reach the replica it names."""
    proxy = two_replicas.proxy
    assert proxy is not None
    routes = proxy.routes_to_each(prefix="protocol")
    assert len(routes) == 2
    for upstream, route in routes.items():
        for path in ("/", "/forward", "/_stcore/health", "/_stcore/host-config"):
            status, headers, _ = proxy.get(path, cookie=route)
            assert status == 200, (path, status)
            assert "Set-Cookie" not in headers

        async def session_with(route: str = route) -> None:
            headers = {"Cookie": f"{ROUTE_COOKIE}={route}"}
            async with Session(two_replicas.ws_url, "forward", headers=headers) as session:
                y = await move_w1(session)
                again = await session.rerun()  # the session's state is still there
                assert again.ok and metric(again.elements, "Y") == y

        run_async(session_with())
        mine = proxy.wait_for(lambda e, r=route: e.route == r and e.uri == STREAM)
        entries = [e for e in proxy.entries() if e.route == route]
        assert {e.upstream for e in entries} == {upstream}, entries
        assert [e.status for e in mine] == [101]
        assert len(entries) >= 6  # the probe, four pages, the websocket


# ------------------------------------------------------------------------------ the browser
@pytest.fixture
def contexts(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    """Fresh browser contexts (each one a student with an empty cookie jar)."""
    made: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        context.set_default_timeout(30_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def route_of(context: BrowserContext) -> str:
    """The route cookie the proxy gave this browser."""
    found = [c["value"] for c in context.cookies() if c["name"] == ROUTE_COOKIE]
    assert len(found) == 1, context.cookies()
    return found[0]


def draw_one(app: App, page: Page) -> None:
    """On /digits: the canvas (a custom component, its files served by the replica where the
    session declared it)
    takes a drawn 1 and the network reads it (the value goes back through the websocket)."""
    app.open(page, "digits")
    expect(app.canvas(page)).to_be_visible()
    app.draw(page, "1")
    expect(app.prediction(page)).to_have_text("1", timeout=60_000)
    app.wait_idle(page)
    app.assert_no_errors(page)


@pytest.mark.e2e
def test_students_in_chromium_each_stay_on_one_replica(
    two_replicas: Replicas, contexts: Callable[[], BrowserContext]
) -> None:
    proxy = two_replicas.proxy
    assert proxy is not None
    app = App(two_replicas.url, None)
    # a new student: the first response gives the browser its route
    first = contexts()
    page = first.new_page()
    app.open(page, "forward")
    app.choose(page, "Hidden activation", "tanh")
    app.wait_idle(page)
    app.assert_no_errors(page)
    draw_one(app, page)
    first_route = route_of(first)
    # a second student, on the other replica (a cookie value the hash sends there)
    routes = proxy.routes_to_each(prefix="browser")
    first_upstream = proxy.upstream_of_route(first_route)
    [other_upstream] = set(routes) - {first_upstream}
    second = contexts()
    second.add_cookies([{"name": ROUTE_COOKIE, "value": routes[other_upstream],
                         "url": two_replicas.url}])
    draw_one(app, second.new_page())
    second_route = route_of(second)
    assert second_route == routes[other_upstream]
    first.close()
    second.close()  # their websockets close and get logged

    for route, upstream in ((first_route, first_upstream), (second_route, other_upstream)):
        proxy.wait_for(lambda e, r=route: e.route == r and e.uri == STREAM)
        entries = [e for e in proxy.entries() if e.route == route]
        uris = {e.uri for e in entries}
        assert {e.upstream for e in entries} == {upstream}, entries
        assert {"/digits", STREAM, "/_stcore/host-config"} <= uris, sorted(uris)
        assert any(u.startswith("/_stcore/bidi-components/") for u in uris), sorted(uris)
        assert any(u.startswith("/static/") for u in uris), sorted(uris)
        # the frontend first looks for the server under the page's path (/digits/_stcore/...),
        # a 404 without a proxy too; any other failure is the proxy's
        failed = [e for e in entries if e.status >= 400 and not BASE_PATH_PROBE.match(e.uri)]
        assert failed == []
