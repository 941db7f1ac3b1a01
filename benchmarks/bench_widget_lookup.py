"""What one input widget's look-up of its own key costs in Session State, Streamlit's way and
``ui.common.widget_lookup``'s, on the app's real Session State.

    .venv/bin/python benchmarks/bench_widget_lookup.py [--repeats 3000]

Each ``st.number_input``, ``st.selectbox``, ``st.radio`` and ``st.text_input`` asks whether its
key holds None; Streamlit 1.67 answers by copying all of Session State (``filtered_state``).
This drives the real app in AppTest: /forward only (what a student who stays on it has), then
after a visit to every lesson page (what a student has an hour into a lesson), and times that
question the dict's way and the one-key view's way, in microseconds, with their ratio. /forward
asks it 12 times a run (9 exact-number entries, 3 selectboxes).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from ui.common.widget_lookup import UserKeyView  # noqa: E402

KEY = "fwd_w5__number"
PAGES = ("lessons/gradient_descent.py", "lessons/curves.py", "lessons/draw_digit.py",
         "lessons/convolution.py", "lessons/forward_pass.py")


def per_call_us(ask, repeats: int) -> float:
    """The median of five timings of ``repeats`` calls, microseconds a call."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats):
            ask()
        times.append((time.perf_counter() - start) / repeats * 1e6)
    return sorted(times)[2]


def measure(at: AppTest, label: str, repeats: int) -> None:
    safe = at.session_state._state

    def the_dict() -> bool:
        state = safe.filtered_state
        return KEY in state and state[KEY] is None

    def the_view() -> bool:
        state = UserKeyView(safe)
        return KEY in state and state[KEY] is None

    assert the_dict() == the_view()
    old, new = per_call_us(the_dict, repeats), per_call_us(the_view, repeats)
    print(f"| {label} | {len(safe.filtered_state)} | {old:.0f} | {new:.1f} | {old / new:.0f}× "
          f"| {12 * (old - new) / 1000:.2f} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3000)
    args = parser.parse_args(argv)
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("lessons/forward_pass.py").run()
    print("| Session State after | keys | filtered_state µs | one-key view µs | ratio "
          "| saved per /forward run, ms |")
    print("|---|---|---|---|---|---|")
    measure(at, "/forward only", args.repeats)
    for page in PAGES:
        at.switch_page(page).run()
    measure(at, "every lesson page", args.repeats)


if __name__ == "__main__":
    main()
