"""The live class's watch (ui.classroom.watch): the long-poll that tells a student's page the
teacher moved, on a real room store, and its route on a real ``streamlit run app.py`` server.

The browser's side (the component's JavaScript) runs in tests/e2e/test_e2e_classroom.py.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from benchmarks.streamlit_client import Server
from tests.support import ROOT
from ui.classroom import watch
from ui.classroom.store import Limits, RoomStore
from ui.classroom.watch import ENDED, stamp_of, wait_for_change

T = TypeVar("T")


def store(tmp_path: Path, minutes: float = 45.0) -> RoomStore:
    return RoomStore(tmp_path / "rooms", Limits(minutes=(minutes,)))


def run(coro: Coroutine[Any, Any, T]) -> T:
    """A coroutine in a fresh event loop, on a thread of its own (the browser tests' sync
    Playwright may hold a running loop on the test's thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def now_stamp(rooms: RoomStore, code: str, kind: str) -> str:
    return stamp_of(kind, rooms.stamp(code), rooms.room(code))


def test_bad_requests_are_refused(tmp_path: Path) -> None:
    rooms = store(tmp_path)
    for code, member, kind in [("bad", "0" * 16, "follow"), ("ACDEF", "x", "follow"),
                               ("ACDEF", "0" * 16, "teach"), ("ACDEF/../", "0" * 16, "follow")]:
        with pytest.raises(ValueError, match="room code"):
            run(wait_for_change(rooms, code, member, kind, ""))


def test_the_stagger_setting_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    for text, expected in (("0.05", 0.05), ("0", 0.0), ("-1", 0.02), ("9", 0.02),
                           ("fast", 0.02)):
        monkeypatch.setenv("NN_PLAYGROUND_FOLLOW_STAGGER_S", text)
        assert watch._stagger_from_env() == expected


def test_a_room_holds_a_bounded_number_of_waiting_requests(tmp_path: Path) -> None:
    rooms = RoomStore(tmp_path / "rooms", Limits(max_room_size=2))
    opened = rooms.open(45)
    member = rooms.join(opened.code, "Ann")
    since = now_stamp(rooms, opened.code, "follow")
    limit = watch.WATCHES_PER_STUDENT * 2

    async def main() -> list[object]:
        waiting = [asyncio.create_task(wait_for_change(rooms, opened.code, member, "follow",
                                                       since, wait_s=1)) for _ in range(limit)]
        await asyncio.sleep(0.1)
        with pytest.raises(watch.WatchLimitError, match="open watches"):
            await wait_for_change(rooms, opened.code, member, "follow", since, wait_s=1)
        return await asyncio.gather(*waiting)

    assert run(main()) == [since] * limit  # the ones within the limit wait as before
    assert run(wait_for_change(rooms, opened.code, member, "follow", since, 0.1)) == since


def test_an_unknown_room_or_member_has_ended(tmp_path: Path) -> None:
    rooms = store(tmp_path)
    assert run(wait_for_change(rooms, "ACDEF", "0" * 16, "follow", "")) == ENDED
    opened = rooms.open(45)
    assert run(wait_for_change(rooms, opened.code, "0" * 16, "follow", "")) == ENDED


def test_a_student_is_told_at_once_what_is_new_and_waits_while_nothing_is(tmp_path: Path,
                                                                         ) -> None:
    rooms = store(tmp_path)
    opened = rooms.open(45)
    member = rooms.join(opened.code, "Ann")
    for kind in ("follow", "explore"):
        now = now_stamp(rooms, opened.code, kind)
        assert run(wait_for_change(rooms, opened.code, member, kind, "old")) == now
        assert run(wait_for_change(rooms, opened.code, member, kind, now, wait_s=0.3)) == now


def wait_while(rooms: RoomStore, code: str, member: str, kind: str, change: Callable[[], Any],
               wait_s: float = 5) -> tuple[str, float]:
    """What a request waiting on ``kind`` answers when ``change()`` happens 0.2 s into its
    wait: (answer, seconds)."""
    since = now_stamp(rooms, code, kind)

    async def main() -> tuple[str, float]:
        start = time.monotonic()
        task = asyncio.create_task(wait_for_change(rooms, code, member, kind, since, wait_s))
        await asyncio.sleep(0.2)
        change()
        return await task, time.monotonic() - start

    return run(main())


def test_following_wakes_on_the_teachers_move_and_exploring_does_not(tmp_path: Path) -> None:
    rooms = store(tmp_path)
    opened = rooms.open(45)
    member = rooms.join(opened.code, "Ann")

    def move(value: str) -> Callable[[], Any]:
        return lambda: rooms.publish(opened.code, opened.secret, "forward", {"w5": value})

    answer, seconds = wait_while(rooms, opened.code, member, "follow", move("1.5"))
    assert answer == now_stamp(rooms, opened.code, "follow") and seconds < 5
    explore = now_stamp(rooms, opened.code, "explore")
    answer, seconds = wait_while(rooms, opened.code, member, "explore", move("0.5"), wait_s=1)
    assert answer == explore and seconds >= 1  # a slider move is not an explorer's business
    answer, seconds = wait_while(
        rooms, opened.code, member, "explore",
        lambda: rooms.set_options(opened.code, opened.secret,
                                  task={"page": "forward", "id": "target"}))
    assert answer != explore and answer == now_stamp(rooms, opened.code, "explore")
    assert seconds < 5


def test_the_end_of_a_room_or_of_a_membership_ends_the_wait(tmp_path: Path) -> None:
    rooms = store(tmp_path)
    opened = rooms.open(45)
    ann, bob = rooms.join(opened.code, "Ann"), rooms.join(opened.code, "Bob")
    answer, _ = wait_while(rooms, opened.code, ann, "follow",
                           lambda: rooms.leave(opened.code, ann))
    assert answer == ENDED or rooms.stamp(opened.code) is not None  # the room goes on
    assert run(wait_for_change(rooms, opened.code, ann, "follow", "")) == ENDED
    answer, _ = wait_while(rooms, opened.code, bob, "follow",
                           lambda: rooms.close(opened.code, opened.secret))
    assert answer == ENDED


def test_a_room_whose_time_is_up_ends_the_wait(tmp_path: Path) -> None:
    rooms = store(tmp_path, minutes=0.01)  # 0.6 s
    opened = rooms.open(0.01)
    member = rooms.join(opened.code, "Ann")
    since = now_stamp(rooms, opened.code, "follow")
    start = time.monotonic()
    assert run(wait_for_change(rooms, opened.code, member, "follow", since, wait_s=10)) == ENDED
    assert time.monotonic() - start < 10


def test_one_change_answers_the_class_one_by_one_with_one_look_per_room(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "STAGGER_S", 0.1)
    rooms = store(tmp_path)
    opened = rooms.open(45)
    members = [rooms.join(opened.code, f"s{i}") for i in range(4)]
    since = now_stamp(rooms, opened.code, "follow")

    async def main() -> tuple[list[float], int, int]:
        answered: list[float] = []

        async def one(member: str) -> None:
            assert await wait_for_change(rooms, opened.code, member, "follow", since) != since
            answered.append(time.monotonic())

        tasks = [asyncio.create_task(one(m)) for m in members]
        await asyncio.sleep(0.2)
        tickers = sum(1 for key in watch._TICKERS if key[2] == opened.code)
        rooms.publish(opened.code, opened.secret, "forward", {"w5": "1"})
        await asyncio.gather(*tasks)
        await asyncio.sleep(2 * watch.TICK_S)
        return answered, tickers, sum(1 for key in watch._TICKERS if key[2] == opened.code)

    answered, tickers_waiting, tickers_after = run(main())
    assert tickers_waiting == 1 and tickers_after == 0
    gaps = [b - a for a, b in itertools.pairwise(answered)]
    assert len(answered) == 4 and all(gap >= 0.08 for gap in gaps), gaps


def test_a_change_found_on_arrival_is_answered_at_once(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Only answers that one change woke together are spaced: a page that asks with an old
    stamp (a reload) never waits behind the class."""
    monkeypatch.setattr(watch, "STAGGER_S", 0.5)
    rooms = store(tmp_path)
    opened = rooms.open(45)
    member = rooms.join(opened.code, "Ann")

    async def main() -> float:
        start = time.monotonic()
        for _ in range(20):
            await wait_for_change(rooms, opened.code, member, "follow", "old")
        return time.monotonic() - start

    assert run(main()) < 5  # spaced, the 20 answers would take 95 s


# ------------------------------------------------------------------ the route, on a real server
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    runs = tmp_path_factory.mktemp("runs")
    with Server(ROOT, runs, ROOT / "artifacts" / "test-watch-route.log") as running:
        yield running, runs


def get(url: str, timeout: float = 60) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return (response.status, response.read().decode(),
                    response.headers.get("Cache-Control", ""))
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), ""


def test_the_route_answers_beside_streamlits_own(server: tuple[Server, Path]) -> None:
    running, runs = server
    rooms = RoomStore(runs / "rooms")
    opened = rooms.open(45)
    member = rooms.join(opened.code, "Ann")
    base = f"{running.url}/_room/watch/{opened.code}/{member}"
    status, text, cache = get(f"{base}?kind=follow&since=old")
    assert (status, text, cache) == (200, now_stamp(rooms, opened.code, "follow"), "no-store")
    assert get(f"{running.url}/_room/watch/{opened.code}/{member}?kind=teach")[0] == 400
    assert get(f"{running.url}/_room/watch/ACDEF/{'0' * 16}?kind=follow&since=x")[1] == ENDED
    assert get(f"{running.url}/_stcore/health")[:2] == (200, "ok")  # Streamlit's routes stay

    since = text
    answer: list[tuple[int, str, str]] = []
    waiting = threading.Thread(target=lambda: answer.append(
        get(f"{base}?kind=follow&since={since}")))
    waiting.start()
    time.sleep(0.5)
    assert not answer  # the request waits while nothing changes
    rooms.publish(opened.code, opened.secret, "forward", {"w5": "1.5"})
    waiting.join(30)
    assert answer and answer[0][:2] == (200, now_stamp(rooms, opened.code, "follow"))
    assert answer[0][1] != since
