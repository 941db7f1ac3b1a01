"""The live class's cost (issue 14): 30 students following a teacher on one server, at the
websocket level (``benchmarks.streamlit_client``), as the classroom load test drives sessions.

Each student session does what a browser does in a room: it joins with the room's code and a
nickname; while in the room it does what the page's room watch (``ui/classroom/watch.py``, a
JavaScript component) does in a browser: it long-polls the watch route over HTTP with the stamp
its last run applied and, when the answer differs, sends the component's trigger (a rerun of
the fragment the component is drawn in, or of the app, as the frontend does). A fragment's
``auto_rerun`` timer, if a page has one, is answered as the frontend answers it. Every control
is moved as the browser moves it (a control inside a page's st.fragment reruns that fragment).
Measured on /forward, in one run of one server:

* follow latency: the teacher sets w5 (its exact-number entry) every MOVE_S seconds; for each
  student, the time from the teacher's message to the first ``w5 (exact)`` element the
  student's page receives with the new value; p50 / p95 / max over students × moves;
* server CPU (process tree, /proc) per second in four phases: the class following an idle
  teacher (the polls alone); following the teacher's moves (the latency window); the same 30
  students exploring on their own in the room ('Follow the teacher' off: each moves w5 itself
  every MOVE_S seconds on average, so the phases have the same number of page reruns); and
  exploring after leaving the room (the app without the live class); the ratios.

Usage: python benchmarks/bench_classroom.py [--students 30] [--moves 10] [--move-s 3]
[--replicas 2] (N servers on one runs folder behind nginx, as docker-compose.yml runs them: the
teacher and the students land on different replicas and meet in the shared room store; each
student keeps a route cookie, as a browser does, so its watch requests reach its replica).
Figures only, no assertions; the server's log goes to artifacts/bench_classroom.log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.components.v2.bidi_component.main import _make_trigger_id  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.Element_pb2 import Element  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

from benchmarks.streamlit_client import Server, Session, tree_cpu_seconds  # noqa: E402

W5 = "w5 (exact)"
TIMEOUT_S = 120.0
WATCH_COMPONENT = "nn_playground_room_watch"


async def http_get(url: str, timeout: float = 60.0, cookie: str = "") -> tuple[int, str]:
    """A plain GET, as the browser's ``fetch`` sends it: (status, body). HTTP/1.0, so the
    answer comes whole (never chunked) and the server closes the connection after it."""
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    reader, writer = await asyncio.open_connection(host, int(port or 80))
    try:
        extra = f"Cookie: {cookie}\r\n" if cookie else ""
        writer.write(f"GET /{path} HTTP/1.0\r\nHost: {hostport}\r\n{extra}\r\n".encode())
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body.decode()


class Student(Session):
    """A browser tab in a room: runs the room watch as the page's component does, answers the
    server's auto-rerun requests, and records when its page first shows each value of w5."""

    def __init__(self, ws_url: str, page: str) -> None:
        # The proxy's route cookie, as a browser keeps it from its first page load: its
        # websocket and its fetches of the watch route reach the same replica.
        self.cookie = f"nnpg_route={secrets.token_hex(16)}"
        super().__init__(ws_url, page, headers={"Cookie": self.cookie})
        self.http_url = ws_url.split("/_stcore")[0].replace("ws", "http", 1)
        self.polls: dict[str, asyncio.Task[None]] = {}
        self.watch: asyncio.Task[None] | None = None
        self.watch_key: tuple[str, str] | None = None  # (component id, the data it was given)
        self.watch_drawn = False
        self.seen_w5: dict[float, float] = {}  # value -> perf_counter when first shown
        self.poll_count = 0  # fragment reruns the timers sent
        self.watch_requests = 0  # HTTP requests to the watch route
        self.watch_reruns = 0  # reruns the watch triggered
        self.answered: list[float] = []  # perf_counter of each answer that reported a change

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.watch_drawn = False
            if not msg.metadata.run.fragment_ids:
                self._stop_polls()  # the frontend's rule: a full run drops the old timers
        elif kind == "auto_rerun":
            fid, interval = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
            if fid not in self.polls:
                self.polls[fid] = asyncio.get_running_loop().create_task(self._poll(fid,
                                                                                   interval))
        elif kind == "stop_auto_rerun":
            self._stop_polls()
        elif kind == "script_finished" and not self._run_fragments and not self.watch_drawn:
            self._stop_watch()  # a full run without the component: the browser unmounts it
        super()._handle(msg)

    def _stop_polls(self) -> None:
        for task in self.polls.values():
            task.cancel()
        self.polls.clear()

    def _stop_watch(self) -> None:
        if self.watch is not None:
            self.watch.cancel()
        self.watch, self.watch_key = None, None

    def _element(self, element: Element, fragment_id: str = "") -> None:
        super()._element(element, fragment_id)
        kind = element.WhichOneof("type")
        if kind == "number_input" and element.number_input.label == W5:
            ni = element.number_input
            value = ni.value if ni.HasField("value") else ni.default
            self.seen_w5.setdefault(round(float(value), 6), time.perf_counter())
        elif kind == "bidi_component" and \
                element.bidi_component.component_name == WATCH_COMPONENT:
            self.watch_drawn = True
            key = (element.bidi_component.id, element.bidi_component.json)
            if key != self.watch_key:  # new data: the component's function runs again
                self._stop_watch()
                self.watch_key = key
                self.watch = asyncio.get_running_loop().create_task(
                    self._watch(key[0], json.loads(key[1]), fragment_id))

    async def _watch(self, component_id: str, data: dict, fragment_id: str) -> None:
        """What the component's JavaScript does: long-poll, then set the trigger (which reruns
        the fragment the component is drawn in, or the app)."""
        url = f"{self.http_url}{data['path']}?kind={data['kind']}&since={data['since']}"
        while True:
            try:
                status, text = await http_get(url, cookie=self.cookie)
            except (OSError, ValueError, TimeoutError):
                await asyncio.sleep(1.0)
                continue
            self.watch_requests += 1
            if status != 200:
                await asyncio.sleep(1.0)
                continue
            if text.strip() != data["since"]:
                self.answered.append(time.perf_counter())
                break
        if self._ws is None:
            return
        msg: BackMsg = self.back_msg(fragment_id=fragment_id)
        state = WidgetState(id=_make_trigger_id(component_id, "events"))
        state.json_trigger_value = json.dumps([{"event": "changed", "value": text.strip()}])
        msg.rerun_script.widget_states.widgets.append(state)
        self.watch_reruns += 1
        try:
            await self._ws.send(msg.SerializeToString())
        except Exception:
            return

    async def _poll(self, fragment_id: str, interval: float) -> None:
        """What the frontend's timer does: a fragment rerun every ``interval`` seconds."""
        while True:
            await asyncio.sleep(interval)
            if self._ws is None:
                return
            msg: BackMsg = self.back_msg()
            msg.rerun_script.fragment_id = fragment_id
            msg.rerun_script.is_auto_rerun = True
            try:
                await self._ws.send(msg.SerializeToString())
            except Exception:
                return
            self.poll_count += 1

    async def close(self) -> None:
        for task in self.polls.values():
            task.cancel()
        self._stop_watch()
        await super().close()


async def settle(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def open_page(session: Session, page: str) -> None:
    """Switch the session to ``page`` as the sidebar's link does (a rerun by page name)."""
    session.page, session.page_script_hash = page, ""
    result = await session.load(timeout=TIMEOUT_S)
    if not result.ok:
        raise RuntimeError(f"{page}: {result.status} {result.exceptions[:1]}")


async def main_async(args: argparse.Namespace) -> None:
    runs = Path(tempfile.mkdtemp(prefix="bench-classroom-"))
    log = ROOT / "artifacts" / "bench_classroom.log"
    if args.replicas == 1:
        stack = Server(ROOT, runs, log)
    else:  # N replicas on one runs folder behind nginx: students and teacher spread over them
        from deploy.proxy import Replicas

        stack = Replicas(args.replicas, ROOT / "artifacts" / "bench_classroom", runs)
    with stack as server:
        servers = [server] if args.replicas == 1 else server.servers

        def cpu() -> float:
            return sum(tree_cpu_seconds(s.pid) for s in servers)

        teacher = Session(server.ws_url, "")
        await teacher.connect()
        await teacher.load(timeout=TIMEOUT_S)
        await teacher.click("Open a room", timeout=TIMEOUT_S)
        code = next(e.markdown.body for e in teacher._elements
                    if e.WhichOneof("type") == "markdown" and "You teach room" in e.markdown.body
                    ).split("**")[1]
        await open_page(teacher, "forward")
        print(f"room {code} ({args.replicas} replica(s)); {args.students} students joining …",
              flush=True)

        students = [Student(server.ws_url, "") for _ in range(args.students)]
        for i, s in enumerate(students):
            await s.connect()
            await s.load(timeout=TIMEOUT_S)
            s.find("Room code", "text_input").value = code
            s.find("Your nickname", "text_input").value = f"student{i}"
            r = await s.click("Join the class", timeout=TIMEOUT_S)
            if not r.ok or W5 not in {w.label for w in s.widgets.values()}:
                raise RuntimeError(f"student {i} did not join and follow: {r.status} "
                                   f"{r.exceptions[:1]}")
        await settle(3.0)
        cpu0, t0 = cpu(), time.perf_counter()
        await settle(args.idle_s)  # Phase 0: the class follows, the teacher does not move
        idle_cpu = (cpu() - cpu0) / (time.perf_counter() - t0)

        # Phase 1: follow. The teacher moves w5 every move_s seconds.
        latencies: list[float] = []
        answers: list[float] = []  # from the teacher's message to the route's answer
        teacher_runs: list[float] = []  # the teacher's own rerun
        missed = 0
        cpu0, t0 = cpu(), time.perf_counter()
        for m in range(args.moves):
            value = round(-1.9 + 0.35 * m, 2)
            sent = time.perf_counter()  # as the browser sends it: the page fragment's rerun
            await teacher.set(W5, value, "number_input", timeout=TIMEOUT_S)
            teacher_runs.append(time.perf_counter() - sent)
            await asyncio.sleep(args.move_s - (time.perf_counter() - sent))
            for s in students:
                answers += [t - sent for t in s.answered if sent < t < sent + args.move_s]
                seen = s.seen_w5.get(round(value, 6))
                if seen is None or seen < sent:
                    missed += 1
                else:
                    latencies.append(seen - sent)
        follow_cpu_s = cpu() - cpu0
        follow_cpu = follow_cpu_s / (time.perf_counter() - t0)

        # Phase 2: the same students explore on their own, moving w5 themselves as often:
        # in the room ('Follow the teacher' off), then after leaving it (the app without the
        # live class).
        rng = random.Random(14)
        duration = args.moves * args.move_s
        explore_latencies: list[float] = []

        async def explore(s: Student) -> None:
            end = time.perf_counter() + duration
            await asyncio.sleep(rng.uniform(0, args.move_s))
            while time.perf_counter() < end:
                r = await s.set(W5, round(rng.uniform(-2, 2), 2), "number_input",
                                timeout=TIMEOUT_S)
                explore_latencies.append(r.latency_s)
                # never past the phase's end: an idle tail would dilute the phase's CPU
                await asyncio.sleep(min(rng.uniform(0.5, 1.5) * args.move_s,
                                        max(0.0, end - time.perf_counter())))

        async def explore_phase(label: str) -> tuple[float, int, float]:
            await settle(3.0)
            reruns0 = len(explore_latencies)
            cpu0, t0 = cpu(), time.perf_counter()
            await asyncio.gather(*(explore(s) for s in students))
            elapsed = time.perf_counter() - t0
            cpu_s, reruns = cpu() - cpu0, len(explore_latencies) - reruns0
            cores = cpu_s / elapsed
            print(f"  {label}: {cores:.2f} cores, {reruns} reruns in {elapsed:.1f} s",
                  flush=True)
            return cores, reruns, cpu_s

        polls = sum(s.poll_count for s in students)
        watch_requests = sum(s.watch_requests for s in students)
        watch_reruns = sum(s.watch_reruns for s in students)
        for s in students:
            s.find("Follow the teacher", "checkbox").value = False
            await s.rerun(timeout=TIMEOUT_S)
        explore_cpu, explore_reruns, explore_cpu_s = await explore_phase("exploring in the room")
        for s in students:
            await s.click("Leave the room", timeout=TIMEOUT_S)
        alone_cpu, _alone_reruns, _alone_cpu_s = await explore_phase("exploring, no room")
        for s in [teacher, *students]:
            await s.close()

    def pct(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1] \
            if len(values) > 1 else float("nan")

    print(f"\nfollow latency, teacher's w5 -> each student's page ({len(latencies)} of "
          f"{len(latencies) + missed} seen within {args.move_s:g} s):")
    if latencies:
        print(f"  p50 {pct(latencies, 50) * 1000:.0f} ms   p95 {pct(latencies, 95) * 1000:.0f} ms"
              f"   max {max(latencies) * 1000:.0f} ms")
    if answers:
        print(f"  of which: the teacher's own rerun p50 {pct(teacher_runs, 50) * 1000:.0f} ms; "
              f"the route's answer p50 {pct(answers, 50) * 1000:.0f} ms, p95 "
              f"{pct(answers, 95) * 1000:.0f} ms after the teacher's message")
    print(f"exploring students' own reruns: p50 {pct(explore_latencies, 50) * 1000:.0f} ms, "
          f"p95 {pct(explore_latencies, 95) * 1000:.0f} ms ({len(explore_latencies)} reruns)")
    print(f"server CPU (cores): idle class following {idle_cpu:.2f}; following the teacher "
          f"{follow_cpu:.2f}; exploring in the room {explore_cpu:.2f}; exploring without a room "
          f"{alone_cpu:.2f}")
    print(f"ratio following / exploring in the room {follow_cpu / explore_cpu:.2f}, "
          f"following / exploring without a room {follow_cpu / alone_cpu:.2f}")
    # CPU per student page update: the phases' counts differ by chance (random think times)
    follow_updates = len(latencies) + missed
    if explore_reruns:
        per_follow = follow_cpu_s / follow_updates
        per_explore = explore_cpu_s / explore_reruns
        print(f"server CPU per student update: following {per_follow * 1000:.1f} ms "
              f"({follow_updates} updates, the teacher's {args.moves} reruns included), "
              f"exploring in the room {per_explore * 1000:.1f} ms ({explore_reruns} reruns); "
              f"ratio {per_follow / per_explore:.2f}")
    span = args.idle_s + duration + 3
    print(f"while following: {watch_requests} watch requests ({watch_requests / span:.1f}/s), "
          f"{watch_reruns} reruns they triggered, {polls} fragment-timer reruns")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--moves", type=int, default=10)
    parser.add_argument("--move-s", type=float, default=3.0)
    parser.add_argument("--idle-s", type=float, default=10.0)
    parser.add_argument("--replicas", type=int, default=1,
                        help="app replicas behind nginx (deploy/proxy.py), sharing the rooms")
    asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
