"""Classroom load test: N students on one page of the real app, at the websocket protocol level.

Run: ``.venv/bin/python benchmarks/loadtest.py`` (forward and descent, 1/10/30 sessions, 20 s
each), or e.g. ``--pages forward,descent,curves --sessions 1,10,30 --with-100 --duration 20
--think 0.5,1.5 --baseline aacb2e3``. A benchmark: it prints figures and asserts nothing.

For each page a fresh server is started (``streamlit run app.py`` on a free 127.0.0.1 port,
NN_PLAYGROUND_RUNS in a temporary folder), then for each level N sessions
(``benchmarks/streamlit_client.py``, one asyncio task each in one event loop) open the page by
its URL path, staggered, and act like students: a change to a widget found by its label, a
think time (uniform, default 0.5-1.5 s), the next change. Once every session has loaded the page
the measured window starts (``--duration`` s). For each rerun sent in the window it records the
latency from sending the BackMsg to receiving the session's ``script_finished`` and the bytes
received; over the window, the server's CPU time (server process and its children, from
/proc/<pid>/stat) and its peak resident memory (VmRSS from /proc/<pid>/status). Before each
level's sessions connect, the server's CPU over IDLE_S seconds with nobody on it is measured
too; "above idle" is the CPU per rerun less that rate (for one session, about a rerun a second,
the server's own idle work is about a fifth of the plain figure).

Interactions: /forward moves a weight slider w1..w6 (80%) or changes "Hidden activation";
/descent drags "Step (drag to walk along the paths)" (60%), sets "Steps" (20%) or
"Conditioning: multiply input 1 by" (20%); /curves changes "x range" or "Activations";
/digits draws: the canvas component (``nn-playground.drawing_canvas``, found by its name)
sends another MNIST test digit as its state, the fabric json and the 280×280 PNG, as it does
on mouse-up (a stroke). Each level's latencies are also printed by the control changed ("by
control": /descent's step slider reruns one fragment, "Steps" the whole page), so a reader can
see which interactions make the tail.

``--baseline REF`` also checks REF out into a temporary ``git worktree`` (removed at the end),
runs the same load against that code's server (same venv), and prints both tables and their
ratios. The order of the two servers alternates from page to page. ``--hide-in-baseline
uvloop`` (repeatable) hides a package that the baseline's requirements did not have from the
baseline's server (``hiding_packages``), so that it runs as it did then; without ``--baseline``,
the baseline is this tree without the package (what the package alone buys).

The load generator runs on the same machine as the server: its own CPU use is printed
("client CPU %") so a reader can tell how much of the host it took, and so is the host's 1-minute
load average at the end of each window (server and client included): on a shared machine a
load above the CPU count means the latencies include waiting for a CPU, and "server CPU ms per
rerun" is then the steadier figure. "first load" is a session's first run of the page (for the
first level of a fresh server it includes the app's imports). Bytes are the decompressed
ForwardMsg payloads, after the frontend-style message cache (``ref_hash``) has done its part.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.streamlit_client import (
    ROOT,
    RerunResult,
    Server,
    Session,
    Widget,
    tree_cpu_seconds,
    tree_rss_bytes,
)

LOAD_TIMEOUT_S = 120.0  # one session's first page load
RERUN_TIMEOUT_S = 60.0  # one rerun
SETTLE_S = 1.0  # after the last session has loaded, before the window opens
IDLE_S = 5.0  # before a level's sessions connect: the server's CPU with nobody on it
LOG_DIR = ROOT / "artifacts" / "loadtest"

Change = tuple[str, str, Any]  # (label, widget type, new value)
CANVAS_COMPONENT = "nn-playground.drawing_canvas"  # ui.digits.canvas.FULL_NAME


# ------------------------------------------------------------------------------ interactions
def grid_value(w: Widget, rng: random.Random, low: float | None = None,
               high: float | None = None) -> float:
    """A value on the widget's step grid in [low, high] (default: its range)."""
    lo = w.min if low is None else low
    hi = w.max if high is None else high
    step = w.step or 1.0
    k = rng.randint(0, max(0, round((hi - lo) / step)))
    value = round(lo + k * step, 10)
    return int(value) if w.is_int else value


def other_value(w: Widget, rng: random.Random, pick: Callable[[], Any], tries: int = 20) -> Any:
    """``pick()`` until it differs from the widget's value (a user changes something)."""
    current = w.value[0] if isinstance(w.value, list) and len(w.value) == 1 else w.value
    value = pick()
    for _ in range(tries):
        if value != current:
            break
        value = pick()
    return value


def forward_change(s: Session, rng: random.Random) -> Change:
    """A weight slider (80%) or the hidden activation."""
    if rng.random() < 0.8:
        label = f"w{rng.randint(1, 6)}"
        w = s.find(label, "slider")
        return label, "slider", [other_value(w, rng, lambda: grid_value(w, rng))]
    w = s.find("Hidden activation", "selectbox")
    return w.label, w.kind, other_value(w, rng, lambda: rng.choice(w.options))


def descent_change(s: Session, rng: random.Random) -> Change:
    """The step scrubber (60%), the number of steps (20%) or the conditioning (20%)."""
    r = rng.random()
    if r < 0.6:
        w = s.find("Step (drag to walk along the paths)", "slider")
        return w.label, w.kind, [other_value(w, rng, lambda: grid_value(w, rng))]
    if r < 0.8:
        w = s.find("Steps", "number_input")
        top = int(min(w.proto.max if w.proto.has_max else 10_000, 10_000))
        choices = list(range(500, top + 1, 500))
        return w.label, w.kind, other_value(w, rng, lambda: rng.choice(choices))
    w = s.find("Conditioning: multiply input 1 by", "slider")
    return w.label, w.kind, [other_value(w, rng, lambda: grid_value(w, rng))]


def curves_change(s: Session, rng: random.Random) -> Change:
    """The x range (50%) or the activations drawn."""
    if rng.random() < 0.5:
        w = s.find("x range", "slider")
        return w.label, w.kind, other_value(
            w, rng, lambda: [grid_value(w, rng, w.min, -1.0), grid_value(w, rng, 1.0, w.max)])
    w = s.find("Activations", "multiselect")
    return w.label, w.kind, other_value(
        w, rng, lambda: rng.sample(w.options, rng.randint(1, min(4, len(w.options)))))


DRAWINGS = 300  # different drawings the sessions pick from: a student never draws one twice


@functools.cache
def drawings(count: int = DRAWINGS) -> list[dict]:
    """What the digit page's canvas sends for ``count`` MNIST test digits drawn on it (the
    component's state: fabric json and the 280×280 PNG as a data URL; tests.support), each
    digit at its own size and place on the canvas.

    With 20 drawings a session soon drew one again, and Streamlit then sends each unchanged
    chart as a reference to the browser's copy: the median bytes of a stroke flipped between
    20 and 350 KB from run to run. Made once, before a level's window (``run_level``)."""
    from nn_core.cnn.digits import load_mnist, render_on_canvas
    from tests.support import canvas_state

    (_, _), (x_test, _) = load_mnist()
    out = []
    for i in range(count):
        size = 200 + 20 * (i % 5)  # the digit's 28×28 field: 200-280 canvas pixels
        top, left = (280 - size) // 2 + (i * 7) % 21 - 10, (280 - size) // 2 + (i * 11) % 21 - 10
        out.append(canvas_state(render_on_canvas(x_test[i], box=(top, left, size, size)),
                                mark=i))
    return out


def digits_change(s: Session, rng: random.Random) -> Change:
    """A stroke on the canvas: the component's new drawing (another digit), as on mouse-up."""
    canvas = s.find(CANVAS_COMPONENT, "bidi_component")
    return canvas.label, canvas.kind, other_value(canvas, rng, lambda: rng.choice(drawings()))


SCENARIOS: dict[str, Callable[[Session, random.Random], Change]] = {
    "forward": forward_change,
    "descent": descent_change,
    "curves": curves_change,
    "digits": digits_change,
}


# ------------------------------------------------------------------------------ one level
def quantile_ms(latencies_s: Sequence[float], q: float) -> float:
    """The q-quantile of latencies in seconds, in ms (nan when none)."""
    if not latencies_s:
        return float("nan")
    xs = sorted(latencies_s)
    return 1000 * xs[min(len(xs) - 1, int(q * len(xs)))]


@dataclass
class LevelResult:
    """What one level (N sessions on one page of one server) measured."""

    target: str
    page: str
    sessions: int
    duration_s: float
    latencies_s: list[float] = field(default_factory=list)
    by_control: dict[str, list[float]] = field(default_factory=dict)  # latencies by label
    bytes_by_control: dict[str, list[int]] = field(default_factory=dict)  # bytes by label
    bytes: list[int] = field(default_factory=list)
    load_latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    loaded: int = 0
    server_cpu_s: float = 0.0
    idle_cpu_s_per_s: float = float("nan")  # the server's CPU per second before the sessions
    client_cpu_s: float = 0.0
    rss_peak: int = 0
    rss_before: int = 0
    loadavg: float = 0.0
    probed: tuple[Any, Any] | None = None  # run_level's probe at the window's start and end

    @property
    def reruns(self) -> int:
        return len(self.latencies_s)

    def pct(self, q: float) -> float:
        """The q-quantile of the rerun latencies, in ms (nan when none)."""
        return quantile_ms(self.latencies_s, q)

    @property
    def cpu_ms_per_rerun(self) -> float:
        return 1000 * self.server_cpu_s / self.reruns if self.reruns else float("nan")

    @property
    def cpu_ms_per_rerun_above_idle(self) -> float:
        """CPU per rerun less what the server spends with no session at all (its event loop,
        Streamlit's config-file polls): with one session a second the two differ by ~5 ms."""
        busy = self.server_cpu_s - self.idle_cpu_s_per_s * self.duration_s
        return 1000 * busy / self.reruns if self.reruns else float("nan")


class Window:
    """The measured window, shared by a level's sessions."""

    def __init__(self) -> None:
        self.started = False
        self.ended = False

    @property
    def open(self) -> bool:
        return self.started and not self.ended


async def student(i: int, ws_url: str, page: str, n: int, ramp_step: float, think: tuple[float,
                  float], seed: int, window: Window, all_loaded: asyncio.Event,
                  result: LevelResult, deadline: float) -> None:
    """One session: open the page, then change a widget after each think time until the end."""
    rng = random.Random(seed * 1_000_003 + n * 1009 + i)
    change_of = SCENARIOS[page]
    await asyncio.sleep(i * ramp_step)
    session = Session(ws_url, page)
    try:
        try:
            await session.connect()
            first = await session.load(timeout=LOAD_TIMEOUT_S)
        except Exception as exc:
            result.errors.append(f"connect: {type(exc).__name__}: {exc}")
            return
        finally:
            result.loaded += 1
            if result.loaded == n:
                all_loaded.set()
        result.load_latencies_s.append(first.latency_s)
        if not first.ok:
            result.errors.append(f"load: {first.status} {first.exceptions[:1]}")
            return
        while not window.ended and time.monotonic() < deadline:
            await asyncio.sleep(rng.uniform(*think))
            if window.ended:
                break
            try:
                label, kind, value = change_of(session, rng)
            except KeyError as exc:
                result.errors.append(f"widget: {exc}")
                return
            measured = window.open
            r: RerunResult = await session.set(label, value, kind, timeout=RERUN_TIMEOUT_S)
            if measured:
                result.latencies_s.append(r.latency_s)
                result.by_control.setdefault(label, []).append(r.latency_s)
                result.bytes_by_control.setdefault(label, []).append(r.bytes)
                result.bytes.append(r.bytes)
                if not r.ok:
                    result.errors.append(f"{label}: {r.status} {r.exceptions[:1]}")
            if r.status == "timeout" or r.status.startswith("closed"):
                return
    finally:
        await session.close()


async def run_level(server: Server | None, target: str, page: str, n: int, duration: float,
                    think: tuple[float, float], seed: int, *, ws_url: str = "",
                    pids: Sequence[int] = (), probe: Callable[[], Any] | None = None,
                    ) -> LevelResult:
    """N sessions on ``page``: ramp up, measure ``duration`` seconds, drain, close.

    The sessions talk to ``server`` (or to ``ws_url``, e.g. a proxy); the server CPU and
    memory are those of ``server`` (or of the process trees ``pids``, e.g. the replicas
    behind it). ``probe`` is called when the measured window opens and when it closes; the
    two values land in ``result.probed`` (bench_scale: each replica's and nginx's CPU)."""
    ws_url = ws_url or server.ws_url
    pids = list(pids) or [server.pid]
    if page == "digits":
        drawings()  # made once, not inside a measured window

    def rss() -> int:
        return sum(tree_rss_bytes(pid) for pid in pids)

    def cpu() -> float:
        return sum(tree_cpu_seconds(pid) for pid in pids)

    result = LevelResult(target, page, n, duration)
    result.rss_before = rss()
    cpu0, t0 = cpu(), time.monotonic()
    await asyncio.sleep(IDLE_S)  # no session of this level yet: the server's own idle work
    result.idle_cpu_s_per_s = (cpu() - cpu0) / (time.monotonic() - t0)
    window, all_loaded = Window(), asyncio.Event()
    ramp_step = min(0.2, 10.0 / n)
    ramp_s = ramp_step * n
    deadline = time.monotonic() + ramp_s + LOAD_TIMEOUT_S + SETTLE_S + duration + 30
    tasks = [asyncio.create_task(student(i, ws_url, page, n, ramp_step, think, seed,
                                         window, all_loaded, result, deadline))
             for i in range(n)]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_loaded.wait(), ramp_s + LOAD_TIMEOUT_S)
    await asyncio.sleep(SETTLE_S)
    probed = probe() if probe else None
    cpu0, client0, t0 = cpu(), time.process_time(), time.monotonic()
    window.started = True
    peak = rss()
    while time.monotonic() - t0 < duration:
        await asyncio.sleep(min(0.5, max(0.0, duration - (time.monotonic() - t0))))
        peak = max(peak, rss())
    window.ended = True
    elapsed = time.monotonic() - t0
    result.server_cpu_s = cpu() - cpu0
    if probe:
        result.probed = (probed, probe())
    result.client_cpu_s = time.process_time() - client0
    result.duration_s = elapsed
    result.rss_peak = peak
    result.loadavg = os.getloadavg()[0]
    # the reruns sent in the window finish (each bounded by RERUN_TIMEOUT_S)
    _, pending = await asyncio.wait(tasks, timeout=RERUN_TIMEOUT_S + 10)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return result


# ------------------------------------------------------------------------------ servers
@contextlib.contextmanager
def baseline_tree(ref: str) -> Iterator[Path]:
    """``git worktree add --detach`` of ``ref`` in a temporary folder, removed at the end."""
    parent = Path(tempfile.mkdtemp(prefix="nnpg-baseline-"))
    tree = parent / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), ref], cwd=ROOT,
                   check=True, capture_output=True, text=True)
    try:
        if not (tree / "assets" / "mnist.npz").exists() and (ROOT / "assets").exists():
            shutil.rmtree(tree / "assets", ignore_errors=True)
            (tree / "assets").symlink_to(ROOT / "assets")
        yield tree
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                       check=False, capture_output=True)
        shutil.rmtree(parent, ignore_errors=True)


def hiding_packages(names: Sequence[str], folder: Path) -> dict[str, str]:
    """The environment of a server that cannot import the packages ``names``: a module of each
    name in ``folder``, first on PYTHONPATH, that raises ImportError when imported.

    For a baseline measured with the venv of newer code: uvicorn runs its event loop on uvloop
    whenever uvloop can be imported, so hiding it gives the baseline's asyncio loop back."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        if not name.isidentifier():
            raise ValueError(f"not a package name: {name!r}")
        # ModuleNotFoundError, as for a package that is not there: Streamlit's bootstrap
        # catches only that one when it looks for uvloop (an ImportError stopped its server)
        (folder / f"{name}.py").write_text(
            f"raise ModuleNotFoundError('{name} is hidden from this benchmark server', "
            f"name='{name}')\n")
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path}


def short_ref(ref: str) -> str:
    """``ref`` as a short commit id (the ref itself if git cannot resolve it)."""
    out = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True,
                         text=True, check=False)
    return out.stdout.strip() or ref


def run_target(target: str, root: Path, page: str, levels: list[int], duration: float,
               think: tuple[float, float], seed: int,
               extra_args: list[str] | None = None,
               env: dict[str, str] | None = None) -> list[LevelResult]:
    """A fresh server of ``root`` for ``page`` (``env``: more environment variables); every
    level against it, in order."""
    results = []
    with tempfile.TemporaryDirectory(prefix="nnpg-runs-") as runs:
        log = LOG_DIR / f"{target.replace(' ', '_')}-{page}.log"
        with Server(root, Path(runs), log, extra_args=extra_args or (), env=env) as server:
            print(f"[{target}] /{page}: server pid {server.pid} on {server.url} "
                  f"(log {log.relative_to(ROOT)})", flush=True)
            for n in levels:
                r = asyncio.run(run_level(server, target, page, n, duration, think, seed))
                print(f"[{target}] /{page} {n:>3} sessions: {r.reruns} reruns, "
                      f"p50 {r.pct(0.5):.0f} ms, p95 {r.pct(0.95):.0f} ms, "
                      f"server CPU {100 * r.server_cpu_s / r.duration_s:.0f}%, "
                      f"errors {len(r.errors)}", flush=True)
                results.append(r)
    return results


# ------------------------------------------------------------------------------ report
def fmt(x: float, digits: int = 0) -> str:
    return "n/a" if x != x else f"{x:,.{digits}f}"


def table(results: list[LevelResult]) -> str:
    """A markdown table of the levels."""
    head = ("| page | sessions | reruns | reruns/s | p50 ms | p95 ms | max ms | first load "
            "p50 ms | KB/rerun (median) | server CPU % of a core | server CPU ms/rerun | "
            "above idle | server RSS peak MB | client CPU % | host load avg | errors |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        kb = statistics.median(r.bytes) / 1024 if r.bytes else float("nan")
        load = 1000 * statistics.median(r.load_latencies_s) if r.load_latencies_s else float(
            "nan")
        lines.append(
            f"| /{r.page} | {r.sessions} | {r.reruns} | {fmt(r.reruns / r.duration_s, 1)} "
            f"| {fmt(r.pct(0.5))} | {fmt(r.pct(0.95))} | {fmt(r.pct(1.0))} | {fmt(load)} "
            f"| {fmt(kb, 1)} | {fmt(100 * r.server_cpu_s / r.duration_s)} "
            f"| {fmt(r.cpu_ms_per_rerun, 1)} | {fmt(r.cpu_ms_per_rerun_above_idle, 1)} "
            f"| {fmt(r.rss_peak / 2**20)} "
            f"| {fmt(100 * r.client_cpu_s / r.duration_s)} | {fmt(r.loadavg, 1)} "
            f"| {len(r.errors)} |"
        )
    return "\n".join(lines)


def control_table(results: list[LevelResult]) -> str:
    """Latency and bytes by the control a session changed (a page's scenario mixes a cheap one,
    such as /descent's step slider that reruns one fragment, with dearer ones): where the tail
    comes from, and what a full rerun sends (issue 9: /descent <= 150 KB a rerun). A markdown
    table, one row per level and control, the most changed first."""
    lines = ["| page | sessions | control | changes | share | p50 ms | p95 ms | max ms "
             "| KB median | KB max |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        for label, xs in sorted(r.by_control.items(), key=lambda kv: -len(kv[1])):
            p50, p95, top = (fmt(quantile_ms(xs, q)) for q in (0.5, 0.95, 1.0))
            sent = r.bytes_by_control.get(label) or [float("nan")]
            lines.append(f"| /{r.page} | {r.sessions} | {label} | {len(xs)} "
                         f"| {100 * len(xs) / max(r.reruns, 1):.0f}% | {p50} | {p95} | {top} "
                         f"| {fmt(statistics.median(sent) / 1024, 1)} "
                         f"| {fmt(max(sent) / 1024, 1)} |")
    return "\n".join(lines)


def ratio_table(base: list[LevelResult], new: list[LevelResult], base_name: str) -> str:
    """Baseline / new for p95 latency and CPU per rerun (above 1: the new code is cheaper)."""
    lines = [f"| page | sessions | p95 ratio ({base_name} / new) | CPU ms/rerun ratio "
             f"({base_name} / new) | reruns/s ratio (new / {base_name}) |", "|---|---|---|---|---|"]
    by_key: dict[tuple[str, int], list[LevelResult]] = {}
    for r in base:  # a page listed twice (--pages descent,descent): its runs pair in order
        by_key.setdefault((r.page, r.sessions), []).append(r)
    for r in new:
        waiting = by_key.get((r.page, r.sessions))
        if not waiting:
            continue
        b = waiting.pop(0)
        p95 = b.pct(0.95) / r.pct(0.95) if r.reruns else float("nan")
        cpu = b.cpu_ms_per_rerun / r.cpu_ms_per_rerun if r.reruns else float("nan")
        rate = (r.reruns / r.duration_s) / (b.reruns / b.duration_s) if b.reruns else float(
            "nan")
        lines.append(f"| /{r.page} | {r.sessions} | {fmt(p95, 2)} | {fmt(cpu, 2)} "
                     f"| {fmt(rate, 2)} |")
    return "\n".join(lines)


def error_summary(results: list[LevelResult]) -> str:
    """The first few distinct errors of each level that had any."""
    out = []
    for r in results:
        if r.errors:
            distinct = list(dict.fromkeys(r.errors))[:3]
            out.append(f"- [{r.target}] /{r.page} x{r.sessions}: {len(r.errors)} errors, "
                       f"e.g. {distinct}")
    return "\n".join(out)


# ------------------------------------------------------------------------------ main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pages", default="forward,descent",
                   help=f"comma-separated url paths among {', '.join(SCENARIOS)}")
    p.add_argument("--sessions", default="1,10,30", help="comma-separated session counts")
    p.add_argument("--with-100", action="store_true", help="also run 100 sessions")
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds per level")
    p.add_argument("--think", default="0.5,1.5", help="think time range in seconds: LOW,HIGH")
    p.add_argument("--baseline", metavar="REF", help="also measure this git ref (a worktree)")
    p.add_argument("--hide-in-baseline", action="append", default=[], metavar="PACKAGE",
                   help="a package the baseline's server cannot import (repeatable); without "
                        "--baseline, the baseline is this tree without it")
    p.add_argument("--new", metavar="DIR", type=Path, default=ROOT,
                   help="the checkout measured as 'new' (default: this working tree)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--streamlit-flag", action="append", default=[], metavar="FLAG",
                   help="an extra `streamlit run` flag for every server, e.g. "
                        "--streamlit-flag=--runner.postScriptGC=false (repeatable)")
    p.add_argument("--json", metavar="PATH", help="also write every measurement as JSON")
    args = p.parse_args(argv)
    args.pages = [x.strip().strip("/") for x in args.pages.split(",") if x.strip()]
    unknown = [x for x in args.pages if x not in SCENARIOS]
    if unknown:
        p.error(f"no scenario for {unknown} (known: {list(SCENARIOS)})")
    args.levels = [int(x) for x in args.sessions.split(",") if x.strip()]
    if args.with_100 and 100 not in args.levels:
        args.levels.append(100)
    low, high = (float(x) for x in args.think.split(","))
    args.think = (low, high)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(f"load test: pages {args.pages}, sessions {args.levels}, {args.duration:g} s each, "
          f"think {args.think[0]:g}-{args.think[1]:g} s; host: {os.cpu_count()} CPUs, "
          f"load avg {os.getloadavg()[0]:.1f}"
          + (f"; extra flags {args.streamlit_flag}" if args.streamlit_flag else ""), flush=True)
    started = time.monotonic()
    results: dict[str, list[LevelResult]] = {}
    with contextlib.ExitStack() as stack:
        targets: list[tuple[str, Path, dict[str, str] | None]] = [
            ("new", args.new.resolve(), None)]
        base_name = ""
        hidden = args.hide_in_baseline
        base_env = (hiding_packages(hidden, Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="nnpg-hidden-")))) if hidden else None)
        without = f" without {', '.join(hidden)}" if hidden else ""
        if args.baseline:
            base_name = f"baseline {short_ref(args.baseline)}{without}"
            targets.insert(0, (base_name, stack.enter_context(baseline_tree(args.baseline)),
                               base_env))
        elif hidden:
            base_name = f"baseline{without}"
            targets.insert(0, (base_name, args.new.resolve(), base_env))
        for i, page in enumerate(args.pages):
            order = targets if i % 2 == 0 else targets[::-1]
            for name, root, env in order:
                results.setdefault(name, []).extend(
                    run_target(name, root, page, args.levels, args.duration, args.think,
                               args.seed, args.streamlit_flag, env))
    print(f"\n(total {time.monotonic() - started:.0f} s; figures from one run on a shared "
          f"{os.cpu_count()}-CPU host: other work on it shows in 'host load avg')\n")
    for name, rs in results.items():
        where = (str(args.new) if name == "new" or not args.baseline
                 else "a temporary git worktree, same venv")
        print(f"### {name} ({where})\n\n{table(rs)}\n\nby control:\n\n{control_table(rs)}\n")
        errors = error_summary(rs)
        if errors:
            print(errors + "\n")
    if base_name:
        print(f"### ratios\n\n{ratio_table(results[base_name], results['new'], base_name)}\n")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {k: [asdict(r) for r in v] for k, v in results.items()}, indent=1))


if __name__ == "__main__":
    main()
