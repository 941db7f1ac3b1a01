"""Scale benchmark: the classroom load through a real nginx in front of 1, then 2 app replicas.

Run: ``.venv/bin/python benchmarks/bench_scale.py`` (``make bench-scale``): 30 sessions on
/forward, 20 s measured per replica count; options ``--replicas 1,2 --sessions 30 --duration 20
--think 0.5,1.5 --page forward``. A benchmark: it prints figures and asserts nothing.

For each replica count a fresh set is started with ``deploy.proxy.Replicas``: N ``streamlit run
app.py`` servers sharing one runs folder, and Debian's nginx in front of them configured from
deploy/nginx/default.conf.template, the proxy configuration of docker-compose.yml (sticky
route cookie, websocket upgrade). The load is benchmarks/loadtest.py's: the same simulated
students (``loadtest.student``: open the page, change a widget, think, ...) and the same
measured window, but every websocket goes through the proxy, which spreads the sessions over
the replicas (a client without a route cookie is hashed by its request id, like a new browser).

It prints, per replica count: reruns/s in the window (the throughput), rerun latency p50/p95,
the replicas' CPU (sum, and each replica's share), nginx's CPU, the load client's own CPU (it
runs in this process, on the same machine), the host's load average, how the sessions were
spread (from nginx's access log), and the ratio of throughputs N replicas / 1 replica measured
in the same run. One Streamlit server runs its sessions' scripts in one Python process (one
core at most, the GIL); replicas add cores, so the ratio is bounded by the cores left over by
the load client, nginx and whatever else runs on the host.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.loadtest import SCENARIOS, LevelResult, fmt, run_level
from benchmarks.streamlit_client import ROOT, tree_cpu_seconds
from deploy.proxy import Replicas

LOG_DIR = ROOT / "artifacts" / "bench_scale"


@dataclass
class ScaleResult:
    """One replica count: the load test's level result, plus what the replicas and nginx did."""

    replicas: int
    level: LevelResult
    replica_cpu_s: list[float]
    nginx_cpu_s: float
    host_busy_s: float  # every process of the host, from /proc/stat
    sessions_per_replica: list[int]

    @property
    def rate(self) -> float:
        return self.level.reruns / self.level.duration_s

    @property
    def others_s(self) -> float:
        """CPU seconds of everything else on the host in the window (other users' work)."""
        ours = self.level.server_cpu_s + self.nginx_cpu_s + self.level.client_cpu_s
        return max(0.0, self.host_busy_s - ours)


def host_busy_seconds() -> float:
    """CPU seconds the whole host has been busy (all CPUs; /proc/stat minus idle and iowait)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    busy = sum(ticks[:8]) - ticks[3] - ticks[4]  # user..steal, less idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def cpu_of(replicas: Replicas) -> tuple[list[float], float]:
    """CPU seconds so far of each replica (with its children) and of nginx (master + worker)."""
    assert replicas.proxy is not None
    return ([tree_cpu_seconds(s.pid) for s in replicas.servers],
            tree_cpu_seconds(replicas.proxy.pid))


async def run_load(replicas: Replicas, page: str, n: int, duration: float,
                   think: tuple[float, float], seed: int
                   ) -> tuple[LevelResult, list[float], float, float]:
    """loadtest.run_level through the proxy: the level, and over its window each replica's
    CPU seconds, nginx's and the whole host's busy seconds."""
    result = await run_level(None, f"{replicas.n} replicas", page, n, duration, think, seed,
                             ws_url=replicas.ws_url, pids=[s.pid for s in replicas.servers],
                             probe=lambda: (*cpu_of(replicas), host_busy_seconds()))
    assert result.probed is not None
    (cpu0, nginx0, host0), (cpu1, nginx1, host1) = result.probed
    per_replica = [b - a for a, b in zip(cpu0, cpu1, strict=True)]
    return result, per_replica, nginx1 - nginx0, host1 - host0


def spread(replicas: Replicas, sessions: int) -> list[int]:
    """How many of the level's websockets each replica served (nginx's access log; the
    sessions are closed, so logged)."""
    assert replicas.proxy is not None
    with contextlib.suppress(TimeoutError):
        replicas.proxy.wait_for(lambda e: e.uri == "/_stcore/stream", sessions, timeout=10)
    counts = collections.Counter(replicas.replica_of(e.upstream)
                                 for e in replicas.proxy.entries()
                                 if e.uri == "/_stcore/stream" and e.status == 101)
    return [counts.get(i, 0) for i in range(replicas.n)]


def measure(n_replicas: int, args: argparse.Namespace) -> ScaleResult:
    """A fresh set of ``n_replicas`` behind nginx; the load through it."""
    with tempfile.TemporaryDirectory(prefix="nnpg-scale-") as tmp:
        work = Path(tmp)
        with Replicas(n_replicas, work / "deploy", work / "runs") as replicas:
            print(f"[{n_replicas} replica(s)] nginx {replicas.url} -> "
                  f"{[s.url for s in replicas.servers]}", flush=True)
            level, per_replica, nginx_cpu, host_busy = asyncio.run(run_load(
                replicas, args.page, args.sessions, args.duration, args.think, args.seed))
            counts = spread(replicas, args.sessions)
            LOG_DIR.mkdir(parents=True, exist_ok=True)
            for log in [*work.glob("deploy/replica-*.log"), *work.glob("deploy/proxy/*.log")]:
                (LOG_DIR / f"{n_replicas}-{log.name}").write_bytes(log.read_bytes())
    r = ScaleResult(n_replicas, level, per_replica, nginx_cpu, host_busy, counts)
    print(f"[{n_replicas} replica(s)] {level.reruns} reruns, {fmt(r.rate, 1)}/s, "
          f"p50 {fmt(level.pct(0.5))} ms, p95 {fmt(level.pct(0.95))} ms, "
          f"errors {len(level.errors)}", flush=True)
    return r


def table(results: list[ScaleResult]) -> str:
    head = ("| replicas | sessions (per replica) | reruns | reruns/s | p50 ms | p95 ms | "
            "replicas' CPU % of a core (each) | server CPU ms/rerun | nginx CPU % | "
            "client CPU % | other work on the host, CPU % | RSS peak MB | host load avg | "
            "errors |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        lv = r.level
        each = " + ".join(fmt(100 * c / lv.duration_s) for c in r.replica_cpu_s)
        lines.append(
            f"| {r.replicas} | {lv.sessions} ({' / '.join(map(str, r.sessions_per_replica))}) "
            f"| {lv.reruns} | {fmt(r.rate, 1)} | {fmt(lv.pct(0.5))} | {fmt(lv.pct(0.95))} "
            f"| {fmt(100 * lv.server_cpu_s / lv.duration_s)} ({each}) "
            f"| {fmt(lv.cpu_ms_per_rerun, 1)} | {fmt(100 * r.nginx_cpu_s / lv.duration_s)} "
            f"| {fmt(100 * lv.client_cpu_s / lv.duration_s)} "
            f"| {fmt(100 * r.others_s / lv.duration_s)} | {fmt(lv.rss_peak / 2**20)} "
            f"| {fmt(lv.loadavg, 1)} | {len(lv.errors)} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--replicas", default="1,2", help="comma-separated replica counts")
    p.add_argument("--sessions", type=int, default=30)
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds per count")
    p.add_argument("--think", default="0.5,1.5", help="think time range in seconds: LOW,HIGH")
    p.add_argument("--page", default="forward", choices=sorted(SCENARIOS))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    args.replicas = [int(x) for x in args.replicas.split(",") if x.strip()]
    low, high = (float(x) for x in args.think.split(","))
    args.think = (low, high)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(f"scale benchmark: /{args.page}, {args.sessions} sessions, {args.duration:g} s "
          f"measured, think {args.think[0]:g}-{args.think[1]:g} s, replicas {args.replicas}; "
          f"host: {os.cpu_count()} CPUs, load avg {os.getloadavg()[0]:.1f}", flush=True)
    started = time.monotonic()
    results = [measure(n, args) for n in args.replicas]
    print(f"\n(total {time.monotonic() - started:.0f} s; one run on a shared {os.cpu_count()}-CPU "
          f"host, the load client on it too: see 'client CPU %' and 'host load avg')\n")
    print(table(results) + "\n")
    ceiling = args.sessions / (sum(args.think) / 2)
    print(f"(the students' demand is at most {ceiling:.0f} reruns/s: {args.sessions} sessions "
          f"/ {sum(args.think) / 2:g} s mean think time, if every rerun took no time; a ratio "
          f"near ceiling / 1-replica rate is bound by demand, not by the replicas)")
    base = next((r for r in results if r.replicas == 1), results[0])
    for r in results:
        if r is not base and base.rate > 0:
            print(f"throughput ratio {r.replicas} replicas / {base.replicas}: "
                  f"{r.rate / base.rate:.2f}x ({fmt(r.rate, 1)} / {fmt(base.rate, 1)} reruns/s)")
    for r in results:
        if r.level.errors:
            print(f"- {r.replicas} replica(s): {len(r.level.errors)} errors, e.g. "
                  f"{list(dict.fromkeys(r.level.errors))[:3]}")


if __name__ == "__main__":
    main()
