"""Profile the app server under the classroom load: where does a rerun's server time go?

Run: ``.venv/bin/python benchmarks/profile_server.py --page forward --sessions 10
--duration 20`` (add ``--root DIR`` to profile another checkout, ``--top 30`` for more rows).

It starts ``streamlit run app.py`` (as ``benchmarks/loadtest.py`` does) inside cProfile: the
streamlit CLI's ``main`` is called from ``python -c`` with ``sys.argv`` set, and every thread
(the script runs in Streamlit's ScriptRunner threads, the websocket in the main thread's event
loop) gets its own ``cProfile.Profile``, merged at exit. It then runs the load test's sessions
on one page at one level, stops the server with SIGINT (Streamlit shuts down cleanly and the
profile is written to ``--out``, default artifacts/loadtest/profile-<page>.pstats), and prints
the top entries by cumulative time and by own time. By default each thread is timed by its own
CPU time (``time.thread_time``), so the entries add up to the server's CPU, not to waits for the
GIL; ``--clock wall`` times wall-clock instead. cProfile slows Python calls (about 1.5-3x), so
the shares matter here, not the absolute times; compare with the load test's figures.

Open the file later with ``python -m pstats FILE`` (or snakeviz, if installed).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import pstats
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.loadtest import LOG_DIR, SCENARIOS, run_level, table
from benchmarks.streamlit_client import ROOT, Server

# Runs in the server process: profile every thread, call streamlit's CLI, merge at exit.
BOOTSTRAP = r"""
import cProfile, pstats, sys, threading, time
out, clock = sys.argv[1], sys.argv[2]
sys.argv = ["streamlit", *sys.argv[3:]]
timer = time.thread_time if clock == "cpu" else time.perf_counter
lock, done = threading.Lock(), []
_run = threading.Thread.run
def run(self):
    prof = cProfile.Profile(timer)
    prof.enable()
    try:
        _run(self)
    finally:
        prof.disable()
        with lock:
            done.append(prof)
threading.Thread.run = run
main = cProfile.Profile(timer)
main.enable()
try:
    from streamlit.web import cli
    cli.main()
except SystemExit:
    pass
finally:
    main.disable()
    stats = pstats.Stats(main)
    with lock:
        for prof in done:
            try:
                stats.add(prof)
            except Exception:
                pass
    stats.dump_stats(out)
    print(f"profile written to {out} ({len(done)} threads)", flush=True)
"""


def top(path: Path, sort: str, n: int) -> str:
    """The first ``n`` rows of the profile sorted by ``sort``."""
    buf = io.StringIO()
    stats = pstats.Stats(str(path), stream=buf)
    stats.strip_dirs().sort_stats(sort).print_stats(n)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--page", default="forward", choices=list(SCENARIOS))
    p.add_argument("--sessions", type=int, default=10)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--think", default="0.5,1.5")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--root", type=Path, default=ROOT, help="the checkout to profile")
    p.add_argument("--out", type=Path, help="where the .pstats file goes")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                   help="cpu: each thread's CPU time (time.thread_time; default), wall: "
                        "perf_counter, which also counts waits for the GIL and for I/O")
    p.add_argument("--callers", nargs="*", default=[], metavar="REGEX",
                   help="also print who calls the functions matching these patterns")
    args = p.parse_args(argv)
    low, high = (float(x) for x in args.think.split(","))
    out = (args.out or LOG_DIR / f"profile-{args.page}.pstats").resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)

    with tempfile.TemporaryDirectory(prefix="nnpg-runs-") as runs:
        server = Server(args.root.resolve(), Path(runs), LOG_DIR / f"profile-{args.page}.log",
                        command=[sys.executable, "-c", BOOTSTRAP, str(out), args.clock])
        try:
            server.wait_healthy()
            print(f"profiling server pid {server.pid} on {server.url}: /{args.page}, "
                  f"{args.sessions} sessions, {args.duration:g} s", flush=True)
            result = asyncio.run(run_level(server, "profiled", args.page, args.sessions,
                                           args.duration, (low, high), args.seed))
        finally:
            code = server.stop(signal.SIGINT, timeout=60)
    print(f"\n{table([result])}\n\n(server under cProfile; exit code {code})\n")
    if not out.exists():
        print(f"no profile was written; server log:\n{server.log_tail()}")
        sys.exit(1)
    print(f"## top {args.top} by cumulative time ({out})\n")
    print(top(out, "cumulative", args.top))
    print(f"## top {args.top} by own time\n")
    print(top(out, "tottime", args.top))
    for pattern in args.callers:
        buf = io.StringIO()
        pstats.Stats(str(out), stream=buf).strip_dirs().sort_stats("cumulative").print_callers(
            pattern)
        print(f"## callers of {pattern!r}\n\n{buf.getvalue()}")


if __name__ == "__main__":
    main()
