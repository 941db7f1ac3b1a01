"""A Streamlit client at the protocol level, and the app server it talks to (for load tests).

The browser and the server speak protobufs over one websocket, ``/_stcore/stream``: the browser
sends ``BackMsg``s, the server answers with ``ForwardMsg``s. This module does what the frontend
does, with the ``streamlit.proto`` classes of the installed Streamlit:

* it opens a page the way a browser opening ``/forward`` does: a ``rerun_script`` BackMsg with
  ``page_name`` set to the URL path and an empty ``page_script_hash``; later reruns carry the
  page's hash (from ``NewSession``/``Navigation``) and the query string the page last wrote;
* it reads each ``Delta.new_element`` and keeps every widget by its label (id, type, value,
  options, min, max, step), with the frontend's rule for values: the server's value when the
  element sets one (``set_value``), the element's default for a new widget, else the value the
  client already holds; widgets that a finished run did not draw are forgotten;
* a change is a ``rerun_script`` BackMsg whose ``WidgetStates`` hold every widget's current
  value (as the frontend sends them), the changed one included; a click is a ``trigger_value``;
* it keeps the frontend's message cache: cacheable messages are kept by hash and their hashes
  are sent in ``cached_message_hashes``, so the server answers with ``ref_hash`` references
  exactly as it does for a browser; a reference is resolved from the cache.

A rerun's latency is from sending the BackMsg to receiving the ``script_finished`` ForwardMsg;
its bytes are the (decompressed) payloads received in between.

``Server`` starts ``streamlit run app.py`` on a free 127.0.0.1 port in its own process group
and stops it; ``tree_cpu_seconds``/``tree_rss_bytes`` read the server and its children's CPU
time and resident memory from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ContextInfo
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_S = 120.0
# the widget types whose value this client can send (others keep the server's value)
VALUE_KINDS = ("slider", "number_input", "selectbox", "radio", "multiselect", "checkbox",
               "text_input", "text_area", "color_picker", "bidi_component")
TRIGGER_KINDS = ("button",)
FINISHED = ForwardMsg.ScriptFinishedStatus
# a whole page's run or one fragment's (a widget inside an st.fragment reruns only that part)
SUCCESS = ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY")


# ------------------------------------------------------------------------------ the server
def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def streamlit_args(port: int) -> list[str]:
    """The arguments after ``streamlit``: run app.py headless on 127.0.0.1:port."""
    return [
        "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


def healthy(url: str) -> bool:
    """True when ``url``/_stcore/health answers 200."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Server:
    """``streamlit run app.py`` in ``root`` on a free 127.0.0.1 port, until ``stop()``.

    ``command`` replaces ``[python, -m, streamlit]`` (the profiler wraps the CLI that way);
    ``extra_args`` are more ``streamlit run`` flags (``--runner.postScriptGC=false``);
    trained models go to ``runs_dir`` (NN_PLAYGROUND_RUNS); output goes to ``log``; ``env``
    adds or overrides environment variables (``NN_PLAYGROUND_BACKEND=ray`` for replicas).
    """

    def __init__(self, root: Path, runs_dir: Path, log: Path,
                 command: Sequence[str] | None = None, python: str = sys.executable,
                 extra_args: Sequence[str] = (), env: Mapping[str, str] | None = None) -> None:
        self.root = Path(root)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/_stcore/stream"
        self.log = Path(log)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "NN_PLAYGROUND_RUNS": str(runs_dir),
            "NN_PLAYGROUND_MAX_JOBS": "1",
            "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "CUDA_VISIBLE_DEVICES": "",
            **(env or {}),
        }
        prefix = list(command) if command is not None else [python, "-m", "streamlit"]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [*prefix, *streamlit_args(self.port), *extra_args], cwd=self.root, env=env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.pid = self.process.pid

    def wait_healthy(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        """Block until /_stcore/health answers; RuntimeError if the server exits or times out."""
        deadline = time.monotonic() + timeout
        while not healthy(self.url):
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with code {self.process.returncode}:\n"
                                   f"{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no health after {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's output."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        """Send ``sig`` to the server, wait, then kill its process group; returns its exit code."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        # the group is the one this Server created (start_new_session): its pgid is our pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        return self.process.returncode

    def __enter__(self) -> Server:
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ------------------------------------------------------------------------------ /proc
def _children() -> dict[int, list[int]]:
    """ppid -> pids of every process visible in /proc."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its live descendants."""
    tree, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(tree.get(p, ()))
    return out


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system, reaped children included) of ``pid`` and its descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat", "rb") as f:
                fields = f.read().decode(errors="replace").rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / tick


def tree_rss_bytes(pid: int) -> int:
    """Resident memory (VmRSS) of ``pid`` and its descendants, in bytes."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue
    return total


# ------------------------------------------------------------------------------ the client
@dataclass
class Widget:
    """A widget as the client knows it: the element's proto and the value it would send."""

    id: str
    kind: str  # the Element oneof name: slider, number_input, selectbox, multiselect, ...
    label: str
    proto: Any
    value: Any = None
    # the st.fragment that drew it ("" outside any): the browser reruns only that fragment
    # when the widget changes (a rerun_script with this fragment_id), so the client does too
    fragment_id: str = ""

    @property
    def options(self) -> list[str]:
        return list(getattr(self.proto, "options", ()))

    @property
    def min(self) -> float | None:
        return getattr(self.proto, "min", None)

    @property
    def max(self) -> float | None:
        return getattr(self.proto, "max", None)

    @property
    def step(self) -> float | None:
        return getattr(self.proto, "step", None)

    @property
    def is_int(self) -> bool:
        """An integer slider or number input (the frontend sends int_value for the latter)."""
        if self.kind == "number_input":
            return self.proto.data_type == NumberInput.INT
        if self.kind == "slider":
            return self.proto.data_type == type(self.proto).INT
        return False


def _is_select_slider(kind: str, proto: Any) -> bool:
    """An st.select_slider: a slider proto whose values are its formatted option strings."""
    return kind == "slider" and proto.type == type(proto).SELECT_SLIDER


def _server_value(kind: str, proto: Any) -> Any:
    """The value the server sets on the widget (``set_value``)."""
    if _is_select_slider(kind, proto):
        return list(proto.raw_value)
    if kind == "slider":
        return list(proto.value)
    if kind == "number_input":
        return proto.value if proto.HasField("value") else None
    if kind in ("selectbox", "radio"):
        return proto.raw_value if proto.HasField("raw_value") else None
    if kind == "multiselect":
        return list(proto.raw_values)
    if kind == "checkbox":
        return bool(proto.value)
    return getattr(proto, "value", None)


def _default_value(kind: str, proto: Any) -> Any:
    """The value a new widget starts with in the frontend."""
    if _is_select_slider(kind, proto):
        return [proto.options[int(i)] for i in proto.default]
    if kind == "slider":
        return list(proto.default)
    if kind == "number_input":
        return proto.default if proto.HasField("default") else None
    if kind in ("selectbox", "radio"):
        if proto.HasField("default") and 0 <= proto.default < len(proto.options):
            return proto.options[proto.default]
        return None
    if kind == "multiselect":
        return [proto.options[i] for i in proto.default if 0 <= i < len(proto.options)]
    if kind == "checkbox":
        return bool(proto.default)
    return getattr(proto, "default", None)


def widget_state(w: Widget, *, trigger: bool = False) -> WidgetState | None:
    """The WidgetState the frontend would send for ``w`` (None when it has no value to send)."""
    state = WidgetState(id=w.id)
    if w.kind in TRIGGER_KINDS:
        if not trigger:
            return None
        state.trigger_value = True
        return state
    if w.value is None or w.kind not in VALUE_KINDS:
        return None
    if _is_select_slider(w.kind, w.proto):  # the frontend sends the formatted options
        state.string_array_value.data[:] = [str(v) for v in w.value]
    elif w.kind == "slider":
        state.double_array_value.data[:] = [float(v) for v in w.value]
    elif w.kind == "number_input":
        if w.is_int:
            state.int_value = int(w.value)
        else:
            state.double_value = float(w.value)
    elif w.kind == "multiselect":
        state.string_array_value.data[:] = [str(v) for v in w.value]
    elif w.kind == "checkbox":
        state.bool_value = bool(w.value)
    elif w.kind == "bidi_component":  # a v2 component's state (a dict), as its JS sets it
        state.json_value = json.dumps(w.value)
    else:
        state.string_value = str(w.value)
    return state


@dataclass
class RerunResult:
    """One script run as the client saw it."""

    latency_s: float
    bytes: int
    messages: int
    status: str  # FINISHED_SUCCESSFULLY, ... or "timeout" / "closed"
    exceptions: list[str] = field(default_factory=list)
    elements: list[Element] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in SUCCESS and not self.exceptions


class Session:
    """One browser tab: a websocket to the server, a page, and the widgets it shows."""

    def __init__(self, ws_url: str, page: str, *, query_string: str = "",
                 headers: Mapping[str, str] | None = None) -> None:
        self.ws_url = ws_url
        self.headers = dict(headers or {})  # sent with the websocket's handshake (a Cookie)
        self.page = page
        self.query_string = query_string
        self.page_script_hash = ""
        self.widgets: dict[str, Widget] = {}  # by widget id
        self.session_id = ""
        self.max_cached_message_age = 2
        self._cache: dict[str, tuple[ForwardMsg, int]] = {}  # hash -> (message, last run used)
        self._runs = 0
        self._seen_ids: set[str] = set()
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._waiter: asyncio.Future[str] | None = None
        self._bytes = 0
        self._messages = 0
        self._exceptions: list[str] = []
        self._elements: list[Element] = []
        self._run_fragments: set[str] = set()  # the fragments the current run reruns (a
        # fragment run's new_session names them; none: the whole page)
        self.closed_reason: str | None = None

    # -- connection
    async def connect(self, timeout: float = 30.0) -> None:
        """Open the websocket (subprotocol "streamlit", as the browser does)."""
        self._ws = await asyncio.wait_for(
            connect(self.ws_url, subprotocols=[Subprotocol("streamlit")], max_size=None,
                    open_timeout=timeout, ping_interval=None, proxy=None,
                    additional_headers=self.headers or None),
            timeout,
        )  # fmt: skip
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        """Close the websocket and stop reading."""
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws.close(), 5)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def __aenter__(self) -> Session:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- what the page shows
    def find(self, label: str, kind: str | None = None) -> Widget:
        """The widget with this label (and type); KeyError if none or several match."""
        found = [w for w in self.widgets.values()
                 if w.label == label and (kind is None or w.kind == kind)]
        if len(found) != 1:
            seen = sorted({f"{w.kind}:{w.label}" for w in self.widgets.values()})
            what = "no" if not found else f"{len(found)}"
            raise KeyError(f"{what} widget labelled {label!r} (kind={kind}); seen: {seen}")
        return found[0]

    def labels(self) -> list[tuple[str, str]]:
        """(type, label) of every widget the page shows."""
        return sorted((w.kind, w.label) for w in self.widgets.values())

    # -- runs
    async def load(self, timeout: float = 120.0) -> RerunResult:
        """Open the page by its URL path, as a browser's first request does."""
        return await self._rerun(page_name=self.page, timeout=timeout)

    async def set(self, label: str, value: Any, kind: str | None = None,
                  timeout: float = 120.0) -> RerunResult:
        """Give the widget ``label`` a new value, as a user does; returns the rerun."""
        w = self.find(label, kind)
        w.value = list(value) if isinstance(value, tuple) else value
        return await self._rerun(fragment_id=w.fragment_id, timeout=timeout)

    async def click(self, label: str, timeout: float = 120.0) -> RerunResult:
        """Click the button ``label``."""
        w = self.find(label, "button")
        return await self._rerun(trigger=w.id, fragment_id=w.fragment_id, timeout=timeout)

    async def rerun(self, timeout: float = 120.0) -> RerunResult:
        """Rerun with the current widget values (what pressing R does)."""
        return await self._rerun(timeout=timeout)

    def back_msg(self, *, page_name: str = "", trigger: str | None = None,
                 fragment_id: str = "") -> BackMsg:
        """The rerun_script BackMsg the frontend sends now (``fragment_id``: rerun only that
        fragment, as the frontend asks when a widget drawn inside it changes)."""
        msg = BackMsg()
        cs = msg.rerun_script
        cs.fragment_id = fragment_id
        cs.query_string = self.query_string
        cs.page_script_hash = self.page_script_hash
        cs.page_name = page_name or self.page
        for w in self.widgets.values():
            state = widget_state(w, trigger=w.id == trigger)
            if state is not None:
                cs.widget_states.widgets.append(state)
        cs.cached_message_hashes[:] = list(self._cache)
        cs.context_info.CopyFrom(ContextInfo(
            timezone="Europe/Paris", timezone_offset=-60, locale="en-US",
            url=f"{self.ws_url.split('/_stcore')[0].replace('ws', 'http', 1)}/{self.page}",
            is_embedded=False, color_scheme="light",
        ))  # fmt: skip
        return msg

    async def _rerun(self, *, page_name: str = "", trigger: str | None = None,
                     fragment_id: str = "", timeout: float) -> RerunResult:
        if self._ws is None:
            raise RuntimeError("not connected")
        if self._waiter is not None and not self._waiter.done():
            raise RuntimeError("a rerun is already in flight")
        data = self.back_msg(page_name=page_name, trigger=trigger,
                             fragment_id=fragment_id).SerializeToString()
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        self._bytes, self._messages = 0, 0
        self._exceptions, self._elements = [], []
        self._seen_ids = set()
        self._runs += 1
        start = time.perf_counter()
        try:
            await self._ws.send(data)
            status = await asyncio.wait_for(asyncio.shield(self._waiter), timeout)
        except TimeoutError:
            status = "timeout"
        except Exception as exc:  # the connection went away
            status = f"closed: {type(exc).__name__}"
        latency = time.perf_counter() - start
        self._waiter = None
        return RerunResult(latency, self._bytes, self._messages, status,
                           list(self._exceptions), list(self._elements))

    # -- reading
    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for data in self._ws:
                if isinstance(data, str):
                    continue
                self._bytes += len(data)
                self._messages += 1
                self._handle(ForwardMsg.FromString(data))
        except Exception as exc:
            self.closed_reason = f"{type(exc).__name__}: {exc}"
        finally:
            if self.closed_reason is None:
                self.closed_reason = "closed"
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result(f"closed: {self.closed_reason}")

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            cached = self._cache.get(msg.ref_hash)
            if cached is None:
                self._exceptions.append(f"unknown ref_hash {msg.ref_hash}")
                return
            self._cache[msg.ref_hash] = (cached[0], self._runs)
            msg = cached[0]
            kind = msg.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            self._cache[msg.hash] = (msg, self._runs)
        if kind == "new_session":
            ns = msg.new_session
            self._run_fragments = set(msg.metadata.run.fragment_ids)
            self.page_script_hash = ns.page_script_hash or self.page_script_hash
            self.session_id = ns.initialize.session_id or self.session_id
            if ns.config.max_cached_message_age:
                self.max_cached_message_age = ns.config.max_cached_message_age
        elif kind == "navigation":
            self.page_script_hash = msg.navigation.page_script_hash or self.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "page_not_found":
            self._exceptions.append(f"page not found: {msg.page_not_found.page_name!r}")
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            self._element(msg.delta.new_element, msg.delta.fragment_id)
        elif kind == "script_finished":
            self._finished(msg.script_finished)

    def _element(self, element: Element, fragment_id: str = "") -> None:
        self._elements.append(element)
        kind = element.WhichOneof("type")
        if kind == "exception":
            ex = element.exception
            self._exceptions.append(f"{ex.type}: {ex.message}")
            return
        if kind == "alert" and element.alert.format == type(element.alert).ERROR:
            self._exceptions.append(f"st.error: {element.alert.body[:200]}")
        proto = getattr(element, kind) if kind else None
        wid = getattr(proto, "id", "") if proto is not None else ""
        if kind == "bidi_component" and wid:  # a v2 component, found by its name
            known = self.widgets.get(wid)
            self._seen_ids.add(wid)
            self.widgets[wid] = Widget(wid, kind, proto.component_name, proto,
                                       known.value if known else None, fragment_id)
            return
        if not wid or not hasattr(proto, "label"):
            return
        self._seen_ids.add(wid)
        known = self.widgets.get(wid)
        if getattr(proto, "set_value", False):
            value = _server_value(kind, proto)
        elif known is not None:
            value = known.value
        else:
            value = _default_value(kind, proto)
        self.widgets[wid] = Widget(wid, kind, proto.label, proto, value, fragment_id)

    def _finished(self, status: int) -> None:
        name = FINISHED.Name(status)
        if status == FINISHED.FINISHED_SUCCESSFULLY:
            # the frontend forgets the widgets a full run did not draw, and old cache entries
            for wid in [w for w in self.widgets if w not in self._seen_ids]:
                del self.widgets[wid]
            age = self.max_cached_message_age
            for h in [h for h, (_, run) in self._cache.items() if self._runs - run > age]:
                del self._cache[h]
        elif status == FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
            # a fragment's run redraws only that fragment: forget only its widgets not drawn
            frags = self._run_fragments
            for wid in [w for w, x in self.widgets.items()
                        if w not in self._seen_ids and x.fragment_id in frags]:
                del self.widgets[wid]
        if status == FINISHED.FINISHED_EARLY_FOR_RERUN:
            return  # a newer run follows; wait for its end
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(name)


def texts(elements: Iterable[Element]) -> list[str]:
    """Readable text of a run's elements (metrics as 'label = value', markdown, headings...)."""
    out = []
    for e in elements:
        kind = e.WhichOneof("type")
        if kind == "metric":
            out.append(f"{e.metric.label} = {e.metric.body}")
        elif kind in ("markdown", "heading", "text"):
            out.append(getattr(e, kind).body)
        elif kind == "code":
            out.append(e.code.code_text)
        elif kind == "alert":
            out.append(e.alert.body)
    return out
