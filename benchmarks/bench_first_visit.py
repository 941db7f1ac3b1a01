"""What a student's first visit costs the classroom's network: bytes on the wire per page, straight
from Streamlit and through the hosting proxy (deploy/nginx/default.conf.template, gzip on).

    .venv/bin/python benchmarks/bench_first_visit.py [--pages forward,descent]

Starts one app server behind Debian's nginx (``deploy.proxy.Replicas``, as bench_scale.py and
the deploy tests do) and, for each page, opens it in a fresh Chromium context (an empty cache:
a student's first visit) twice: once at the server's own address and once through the proxy,
waiting until the page's heading and charts are drawn (bench_browser.py's "settled"). It sums
what Chromium's network layer received (CDP ``Network.loadingFinished``'s
``encodedDataLength``: headers and bodies as they came, compressed or not, the websocket's
frames not included) and prints both, with their ratio from the same run. A benchmark: it
prints figures and asserts nothing. Later visits load the code from the browser's cache
(Streamlit marks its files immutable for a year), so this is what each device pays once.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, sync_playwright  # noqa: E402

from benchmarks.bench_browser import ALL_DRAWN  # noqa: E402
from deploy.proxy import Replicas  # noqa: E402
from tests.e2e.e2e_support import PAGE_CHARTS, PAGES, VIEWPORT, launch_chromium  # noqa: E402


def first_visit(browser: Browser, url: str, path: str) -> tuple[int, int]:
    """(requests, bytes received) for ``path`` opened in a new context until it is settled."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    received: list[float] = []
    cdp.on("Network.loadingFinished", lambda e: received.append(e["encodedDataLength"]))
    page.goto(f"{url}/{path}")
    page.wait_for_function(ALL_DRAWN, arg=[PAGES[path][1], PAGE_CHARTS[path]],
                           timeout=120_000, polling=200)
    page.wait_for_timeout(500)  # late requests (fonts, a component's files)
    context.close()
    return len(received), int(sum(received))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", default="forward,curves,descent,digits,convolution")
    args = parser.parse_args()
    pages = args.pages.split(",")
    unknown = [p for p in pages if p not in PAGES or not p]
    if unknown:
        parser.error(f"unknown pages: {unknown}; known: {[p for p in PAGES if p]}")
    with tempfile.TemporaryDirectory() as work, \
            Replicas(1, Path(work) / "deploy", Path(work) / "runs") as replicas, \
            sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        direct = replicas.servers[0].url
        first_visit(browser, direct, "")  # the server's first session warms its caches
        print(f"first visit, fresh browser cache: straight from Streamlit ({direct}) and "
              f"through nginx ({replicas.url})")
        print(f"{'page':<14}{'requests':>9}{'direct KB':>12}{'proxy KB':>11}{'ratio':>8}")
        for path in pages:
            n, plain = first_visit(browser, direct, path)
            _, proxied = first_visit(browser, replicas.url, path)
            print(f"/{path:<13}{n:>9}{plain / 1024:>12,.0f}{proxied / 1024:>11,.0f}"
                  f"{plain / max(proxied, 1):>8.2f}")
        browser.close()


if __name__ == "__main__":
    main()
