"""How a student's page learns that the teacher moved, without a script run per poll.

A poll fragment (``st.fragment(run_every=0.5 s)``) cost the server ~5 ms of script run per
student per poll: 30 following students kept 0.26–0.29 of a core busy while the teacher did
nothing (benchmarks/bench_classroom.py), most of what following cost over exploring. Here the
browser waits instead, on a plain HTTP route beside Streamlit's own (``app.py``, imported by
the server, is ``st.App(..., routes=routes())``):

* ``GET /_room/watch/<code>/<member>?kind=follow|explore&since=<stamp>`` answers as soon as what
  the student watches differs from ``since`` (the new stamp), with ``ended`` when the room or
  the member is gone or the room's time is up, or with the unchanged stamp after ``WAIT_S``
  (the browser asks again). One ``RoomTicker`` per room looks at ``room.json`` every
  ``TICK_S`` seconds (one ``stat``) for all the requests that wait on it, and the room is read
  only when that changed, so it works across replicas that share the rooms folder, whichever
  replica the request reaches. The answers one change wakes are spaced by ``STAGGER_S``. A
  member id is 16 random hex digits, so a room's code alone tells a stranger nothing.
* ``watch_room`` mounts a script-less ``st.components.v2`` component with that URL and the
  stamp this run applied: its JavaScript long-polls and, when the answer differs, sets a
  trigger value, which reruns the app, or the fragment the component is drawn in, as any
  widget does. Only then does the server run the script, once, where the old fragment ran it
  twice a second.

What a stamp is (``stamp_of``): following, any change of ``room.json`` (the teacher's page and
settings, the task...); exploring, only the task, the pacing and the teacher's page under
pacing, the pinned snapshot and whether names are hidden (a teacher's slider move does not
rerun an exploring student).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import streamlit as st

from ui.classroom.store import CODE_RE, Room, RoomError, RoomStore, shared_store

WAIT_S = 25.0  # a request waits at most this long (below any proxy's read timeout: 60 s)
TICK_S = 0.05  # how often a room's ticker looks at room.json while requests wait on it


def _stagger_from_env(default: float = 0.02) -> float:
    """NN_PLAYGROUND_FOLLOW_STAGGER_S, 0 to 0.5 s; the default for anything else."""
    try:
        value = float(os.environ.get("NN_PLAYGROUND_FOLLOW_STAGGER_S", default))
    except ValueError:
        return default
    return value if 0.0 <= value <= 0.5 else default


# the spacing of the answers one change wakes (about one student's page rerun of CPU)
STAGGER_S = _stagger_from_env()
ENDED = "ended"
KINDS = ("follow", "explore")
MEMBER_RE = re.compile(r"[0-9a-f]{16}")
ROUTE = "/_room/watch/{code}/{member}"
# waiting requests a room may hold on one server, per student it may have (a few tabs each);
# more get HTTP 429 and the page's watch retries with backoff
WATCHES_PER_STUDENT = 4


class WatchLimitError(Exception):
    """A room holds as many waiting requests on this server as it may."""

# The browser's side: long-poll the route; a different answer sets the trigger "changed",
# which reruns the fragment the component is drawn in, or the app. Called again with new data
# after each run; the returned function stops the previous loop. A failed request (a
# restarting server) is retried with backoff.
WATCH_JS = """
export default function ({ data, setTriggerValue }) {
  const controller = new AbortController();
  let stopped = false;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  (async () => {
    let failures = 0;
    while (!stopped) {
      try {
        const url = `${data.path}?kind=${data.kind}&since=${encodeURIComponent(data.since)}`;
        const response = await fetch(url, { cache: "no-store", signal: controller.signal });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const now = (await response.text()).trim();
        failures = 0;
        if (now !== data.since) {
          if (!stopped) setTriggerValue("changed", now);
          return;
        }
      } catch (error) {
        if (stopped) return;
        failures += 1;
        await sleep(Math.min(10000, 250 * 2 ** failures));
      }
    }
  })();
  return () => { stopped = true; controller.abort(); };
}
"""


def stamp_of(kind: str, stat: tuple[int, int, int], room: Room) -> str:
    """What a student watches, as a short text: following, the file's (inode, mtime, size);
    exploring, a hash of the parts an exploring student shows."""
    if kind == "follow":
        return "f-" + "-".join(str(n) for n in stat)
    shown = (room.task and tuple(room.task.values()), room.pace and room.page,
             repr(room.pinned), room.hide_names)
    return "e-" + hashlib.sha1(repr(shown).encode()).hexdigest()[:16]


class RoomTicker:
    """One ``stat`` of a room's file every TICK_S seconds for all of this server's requests
    that wait on that room (one event-loop wake-up per tick, not one per student): each waits
    on ``changed``, which is set, and replaced, when the file changed."""

    def __init__(self, rooms: RoomStore, code: str) -> None:
        self.rooms, self.code = rooms, code
        self.stat = rooms.stamp(code)
        self.changed = asyncio.Event()
        self.waiters = 0
        self.answered = 0  # requests answered with a new stamp since the file last changed
        self.task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        key = (id(asyncio.get_running_loop()), self.rooms.root, self.code)
        try:
            while self.waiters > 0:
                await asyncio.sleep(TICK_S)
                stat = self.rooms.stamp(self.code)
                if stat != self.stat:
                    self.stat, changed = stat, self.changed
                    self.changed, self.answered = asyncio.Event(), 0
                    changed.set()
        finally:
            if _TICKERS.get(key) is self:
                del _TICKERS[key]


_TICKERS: dict[tuple[int, Any, str], RoomTicker] = {}


def _ticker(rooms: RoomStore, code: str) -> RoomTicker:
    key = (id(asyncio.get_running_loop()), rooms.root, code)
    ticker = _TICKERS.get(key)
    if ticker is None or ticker.task.done():
        ticker = _TICKERS[key] = RoomTicker(rooms, code)
    return ticker


async def wait_for_change(rooms: RoomStore, code: str, member: str, kind: str, since: str,
                          wait_s: float = WAIT_S) -> str:
    """The student's new stamp once it differs from ``since``; ``ENDED``; or ``since`` after
    ``wait_s`` seconds. Raises ValueError for a malformed code, member or kind, WatchLimitError when
    the room already has WATCHES_PER_STUDENT × its size of waiting requests here."""
    if not CODE_RE.fullmatch(code) or not MEMBER_RE.fullmatch(member) or kind not in KINDS:
        raise ValueError("a room watch needs a room code, a member id and follow|explore")
    deadline = time.monotonic() + wait_s
    ticker = _ticker(rooms, code)
    if ticker.waiters >= WATCHES_PER_STUDENT * rooms.limits.max_room_size:
        raise WatchLimitError(f"this room already has {ticker.waiters} open watches on this server")
    ticker.waiters += 1
    last_stat: Any = object()
    current, expires = since, float("inf")
    woken = False  # by a change of the file while this request waited
    try:
        while True:
            changed, stat = ticker.changed, ticker.stat
            if stat != last_stat:  # room.json changed (or the first look): read it, off the loop
                last_stat = stat
                if stat is None:
                    return ENDED
                try:
                    room = await asyncio.to_thread(_room_of_member, rooms, code, member)
                except RoomError:
                    return ENDED
                current, expires = stamp_of(kind, stat, room), room.expires
                continue  # the file may have changed again while it was read
            if current != since:
                if woken:
                    # a teacher's move wakes the whole class at once; answered together, 30
                    # script runs would contend for the server's one interpreter lock and
                    # each would wait for all: answer them one every STAGGER_S (a request
                    # that finds a change when it arrives is answered at once)
                    ticker.answered += 1
                    await asyncio.sleep((ticker.answered - 1) * STAGGER_S)
                return current
            left = min(deadline - time.monotonic(), expires - time.time())
            if left <= 0:
                return ENDED if time.time() >= expires else current
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), left)
                woken = True
    finally:
        ticker.waiters -= 1


def _room_of_member(rooms: RoomStore, code: str, member: str) -> Room:
    rooms.member(code, member)  # RoomError when the student left or was removed
    return rooms.room(code)


async def watch_endpoint(request: Any) -> Any:
    """The route: ``wait_for_change`` as plain text, never cached; 400 for a bad request."""
    from starlette.responses import PlainTextResponse

    params = request.query_params
    try:
        text = await wait_for_change(shared_store(), request.path_params["code"],
                                     request.path_params["member"], params.get("kind", ""),
                                     params.get("since", "")[:100])
    except WatchLimitError as exc:
        return PlainTextResponse(str(exc), status_code=429, headers={"Retry-After": "5"})
    except ValueError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    return PlainTextResponse(text, headers={"Cache-Control": "no-store"})


def routes() -> list[Any]:
    """The routes ``app.py`` mounts beside Streamlit's (``st.App(..., routes=routes())``)."""
    from starlette.routing import Route

    return [Route(ROUTE, watch_endpoint, methods=["GET"])]


@cache
def _component() -> Any:
    return st.components.v2.component("nn_playground_room_watch", js=WATCH_JS)


def _changed() -> None:
    """The trigger's callback: the rerun it starts is the point; nothing else to do."""


def watch_room(code: str, member: str, kind: str, since: str,
               on_change: Callable[[], None] | None = None) -> None:
    """Mount the browser's watch of the room (an element of no size) where the caller draws:
    when the route's answer differs from ``since`` (the stamp this run applied), ``on_change``
    runs and the app reruns, or only the fragment the watch is drawn in."""
    path = ROUTE.format(code=code, member=member)
    _component()(key="_room_watch", data={"path": path, "kind": kind, "since": since},
                 on_changed_change=on_change or _changed, height=0)
