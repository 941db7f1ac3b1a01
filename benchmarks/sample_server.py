"""Sample the app server under the classroom load with py-spy: each function's share of its CPU.

Run: ``.venv/bin/python benchmarks/sample_server.py --page curves --sessions 5`` (``--match
ui/`` keeps only the rows whose frame contains that text; ``--rows 60`` for more).

``profile_server.py`` runs the server under cProfile, which slows every Python call and so
inflates functions made of many small calls (Streamlit's Session State, the event loop). This
one leaves the server as it is: it starts ``streamlit run app.py`` (``benchmarks.loadtest``'s
``Server``), drives ``--sessions`` sessions on one page with the load test's scenario for
``--duration`` measured seconds (``--think`` between changes), and attaches py-spy (a sampling
profiler, pinned in requirements-dev) for the middle ``--sample`` seconds of that window, once
every session has loaded its page, at 200 samples a second (``--gil``: only the thread that
holds the GIL, so that a thread waiting for it does not count as busy). It prints, for every
function, the share of samples in which it is on the stack (inclusive), from py-spy's raw "folded"
output, kept in artifacts/loadtest/sample-<page>.folded. py-spy needs to read the server's
memory (ptrace): as root, or with ``kernel.yama.ptrace_scope`` 0.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.loadtest import LOG_DIR, SCENARIOS, run_level, table
from benchmarks.streamlit_client import ROOT, Server


def shares(folded: Path) -> tuple[int, list[tuple[float, str]]]:
    """(samples, [(percent of samples with the function on the stack, function)]), largest
    first; a function is "name (file)" with the site-packages or checkout prefix cut."""
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in folded.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():  # a frame name with a newline in it (py-spy prints it as is)
            continue
        n = int(count)
        total += n
        seen = set()
        for frame in stack.split(";"):
            name = re.sub(r" \(.*?/(site-packages|lib/python3\.\d+)/", " (", frame)
            name = re.sub(r":\d+\)$", ")", name.replace(str(ROOT) + "/", ""))
            if name not in seen:
                seen.add(name)
                inclusive[name] += n
    return total, [(100.0 * n / max(total, 1), name) for name, n in inclusive.most_common()]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--page", default="forward", choices=list(SCENARIOS))
    p.add_argument("--sessions", type=int, default=10)
    p.add_argument("--duration", type=float, default=40.0)
    p.add_argument("--sample", type=float, default=20.0, help="seconds of sampling")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--think", default="0.5,1.5", help="think time range in seconds: LOW,HIGH")
    p.add_argument("--match", default="", help="only rows whose function contains this")
    p.add_argument("--rows", type=int, default=40)
    p.add_argument("--gil", action="store_true",
                   help="only samples of the thread holding the GIL: a thread waiting for it "
                        "(the script while the event loop sends) is not counted as busy")
    args = p.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        sys.exit("py-spy is missing: make test installs requirements-dev.txt")
    out = LOG_DIR / f"sample-{args.page}.folded"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nnpg-runs-") as runs:
        server = Server(ROOT, Path(runs), LOG_DIR / f"sample-{args.page}.log")
        try:
            server.wait_healthy()
            delay = max(0.0, (args.duration - args.sample) / 2)
            think = tuple(float(x) for x in args.think.split(","))

            def sample() -> None:  # from the middle of the measured window: no page loads
                threading.Event().wait(delay)
                subprocess.run([py_spy, "record", "--pid", str(server.pid), "--duration",
                                str(int(args.sample)), "--rate", "200", "--format", "raw",
                                "--nonblocking", *(["--gil"] if args.gil else []), "-o",
                                str(out)], check=True,
                               stdout=subprocess.DEVNULL)

            sampler = threading.Thread(target=sample)

            def window_opens_or_closes() -> None:  # run_level's probe: called at both ends
                if sampler.ident is None:
                    sampler.start()

            result = asyncio.run(run_level(server, "sampled", args.page, args.sessions,
                                           args.duration, think, args.seed,
                                           probe=window_opens_or_closes))
            sampler.join()
        finally:
            server.stop()
    total, rows = shares(out)
    print(f"\n{table([result])}\n\n{total} samples of the server's threads ({out})\n")
    shown = [(pct, name) for pct, name in rows if args.match in name][:args.rows]
    for pct, name in shown:
        print(f"{pct:5.1f}%  {name[:140]}")


if __name__ == "__main__":
    main()
