"""The live class's rooms, as files under the runs folder that every replica shares (no Streamlit).

A teacher opens a room and gets a short code (students type it) and a secret (only in the
teacher's link); students join with the code and a nickname, no accounts. Everything a room
holds lives in one folder, ``<runs>/rooms/<CODE>/``, and goes with it when the room expires or
the teacher closes it:

* ``room.json``: what the students follow (the teacher's page and its settings as query text,
  the current task, pacing, the pinned snapshot, hidden names), with a ``version`` that grows
  on every change, the expiry time and the SHA-256 of the teacher's secret (never the secret);
* ``members/<id>.json``: one per student (nickname, last page, task reports), written only by
  that student's session;
* ``drawings/<id>.json``: the student's drawings sent to the class gallery (at most
  ``max_drawings``, 28×28 uint8 each, with what the network read and the digit meant).

Writes are atomic (a temporary file, then ``os.replace``), read-modify-writes of ``room.json``
and joins hold an ``fcntl`` lock on the room's ``.lock`` file, room creation one on
``rooms/.lock``: so one server's sessions and other replicas on the same volume agree. Reads go
through an in-process cache keyed by each file's (inode, mtime, size): a student's poll is one
``stat`` while nothing changed, and a change on another replica shows at the next poll.

Limits (environment, read when a store is made): ``NN_PLAYGROUND_MAX_ROOMS`` open rooms per
runs folder (default 40), ``NN_PLAYGROUND_MAX_ROOM_SIZE`` students per room (60),
``NN_PLAYGROUND_MAX_DRAWINGS`` drawings per student (12), ``NN_PLAYGROUND_ROOM_JOINS_PER_MIN``
joins per room per minute (120, against a flood of joins), ``NN_PLAYGROUND_ROOM_MINUTES`` the
lengths a teacher may choose (``45,90,180``; the longest is the cap).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nn_core.training.runs import default_runs_dir

# Codes avoid letters and digits that read alike on a projector (0/O, 1/I/L, 5/S, 2/Z, 8/B).
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 5  # 25**5 ≈ 9.8 million codes
CODE_RE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
MAX_NICKNAME = 24  # characters
MAX_TRIES = 20  # task attempts kept per student and task (for the dashboard's summaries)
MAX_TEXT = 300  # characters of a task's detail kept in a report
MAX_PARAMS_CHARS = 20_000  # the teacher's settings as query text (a page's link is far less)
IMAGE_SHAPE = (28, 28)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


class RoomError(ValueError):
    """A room operation refused, with a ``kind`` the interface turns into its message and the
    values that message quotes (``fields``): ``bad_code``, ``unknown``, ``expired``, ``full``,
    ``too_many_rooms``, ``flood``, ``nickname_empty``, ``nickname_long``, ``nickname_taken``,
    ``not_teacher``, ``not_member``, ``drawings_full``, ``bad_drawing``, ``bad_duration``,
    ``bad_state``."""

    def __init__(self, kind: str, **fields: Any) -> None:
        super().__init__(f"{kind}: {fields}" if fields else kind)
        self.kind = kind
        self.fields = fields


def _env_int(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


def _env_minutes(name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in os.environ.get(name, "").split(",") if v.strip())
    except ValueError:
        return default
    return tuple(sorted(v for v in values if v > 0)) or default


@dataclass(frozen=True)
class Limits:
    """How much one server's (or one shared volume's) rooms may hold."""

    max_rooms: int = 40
    max_room_size: int = 60
    max_drawings: int = 12
    joins_per_minute: int = 120
    minutes: tuple[float, ...] = (45.0, 90.0, 180.0)  # room lengths a teacher may choose

    @classmethod
    def from_env(cls) -> Limits:
        """The limits from the environment (see the module's docstring), else the defaults."""
        return cls(_env_int("NN_PLAYGROUND_MAX_ROOMS", cls.max_rooms),
                   _env_int("NN_PLAYGROUND_MAX_ROOM_SIZE", cls.max_room_size),
                   _env_int("NN_PLAYGROUND_MAX_DRAWINGS", cls.max_drawings),
                   _env_int("NN_PLAYGROUND_ROOM_JOINS_PER_MIN", cls.joins_per_minute),
                   _env_minutes("NN_PLAYGROUND_ROOM_MINUTES", cls.minutes))


@dataclass(frozen=True)
class Opened:
    """A room just opened: its code (for the students) and the teacher's secret (shown once,
    in the teacher's link; the store keeps only its hash)."""

    code: str
    secret: str


@dataclass
class Room:
    """What students follow and the dashboard shows; ``version`` grows on every change."""

    code: str
    created: float
    expires: float
    version: int = 0
    page: str | None = None  # the teacher's page (url path) while following
    params: dict[str, str] = field(default_factory=dict)  # its settings as query text
    task: dict[str, str] | None = None  # {"page": url path, "id": task id}
    pace: bool = False  # keep the class on the teacher's page
    hide_names: bool = False  # projected: no nicknames on the students' screens or dashboard
    pinned: dict[str, Any] | None = None  # the snapshot shown to all

    def remaining(self, now: float | None = None) -> float:
        """Seconds until the room expires (negative once it has)."""
        return self.expires - (time.time() if now is None else now)


def default_rooms_dir() -> Path:
    """Where rooms live: ``rooms`` in the runs folder every replica shares."""
    return default_runs_dir() / "rooms"


def shared_store() -> RoomStore:
    """The process's one room store on ``default_rooms_dir()``: the pages' sessions and the
    room watch's route (``ui.classroom.watch``) share it, and its cache of read rooms."""
    return _store_on(str(default_rooms_dir()))


@functools.cache
def _store_on(root: str) -> RoomStore:
    return RoomStore(root)


def normalize_code(text: str) -> str:
    """A code as typed (spaces, dashes, lower case) -> its canonical form; RoomError
    ``bad_code`` unless it can be a code."""
    code = re.sub(r"[\s-]", "", str(text)[:40]).upper()
    if not CODE_RE.fullmatch(code):
        raise RoomError("bad_code", length=CODE_LENGTH)
    return code


def clean_nickname(text: str) -> str:
    """A nickname as stored: Unicode-normalised, control and bidi characters removed, spaces
    collapsed; RoomError when empty or longer than MAX_NICKNAME characters (a 10 KB paste is
    refused, not cut). Markdown is kept as typed: the interface shows names as plain text."""
    text = str(text)
    if len(text) > 4 * MAX_NICKNAME:
        raise RoomError("nickname_long", limit=MAX_NICKNAME)
    text = " ".join(_CONTROL.sub("", unicodedata.normalize("NFKC", text)).split())
    if not text:
        raise RoomError("nickname_empty")
    if len(text) > MAX_NICKNAME:
        raise RoomError("nickname_long", limit=MAX_NICKNAME)
    return text


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def encode_image(image: np.ndarray) -> str:
    """A drawing (28, 28) in [0, 1] or uint8 -> base64 of its 784 uint8 pixels."""
    arr = np.asarray(image)
    if arr.shape != IMAGE_SHAPE:
        raise RoomError("bad_drawing")
    if arr.dtype != np.uint8:
        arr = np.clip(np.nan_to_num(arr.astype(np.float64)) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return base64.b64encode(arr.tobytes()).decode("ascii")


def decode_image(text: str) -> np.ndarray:
    """base64 of 784 bytes -> (28, 28) uint8."""
    raw = base64.b64decode(text)
    if len(raw) != IMAGE_SHAPE[0] * IMAGE_SHAPE[1]:
        raise RoomError("bad_drawing")
    return np.frombuffer(raw, np.uint8).reshape(IMAGE_SHAPE)


class RoomStore:
    """The rooms under ``root`` (``<runs>/rooms``). One instance per process (the pages share
    it through ``shared_store``); a second instance on the same folder, in this process or
    another replica, sees the same rooms."""

    def __init__(self, root: str | Path, limits: Limits | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.root = Path(root)
        self.limits = limits or Limits.from_env()
        self.clock = clock
        self._cache: dict[Path, tuple[tuple[int, int, int], Any]] = {}
        self._cache_lock = threading.Lock()

    # ------------------------------------------------------------------ files
    def _dir(self, code: str) -> Path:
        return self.root / code

    @contextlib.contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @staticmethod
    def _write(path: Path, value: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(json.dumps(value, separators=(",", ":")))  # C encoder: 4× dump
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _read(self, path: Path) -> Any:
        """A JSON file through the cache (one ``stat`` when unchanged); None if missing or
        unreadable (a half-deleted room)."""
        try:
            st = os.stat(path)
        except OSError:
            with self._cache_lock:
                self._cache.pop(path, None)
            return None
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._cache_lock:
            hit = self._cache.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        try:
            value = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        with self._cache_lock:
            self._cache[path] = (stamp, value)
        return value

    def stamp(self, code: str) -> tuple[int, int, int] | None:
        """The (inode, mtime, size) of a room's ``room.json``: what a poll compares."""
        try:
            st = os.stat(self._dir(code) / "room.json")
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    # ------------------------------------------------------------------ rooms
    def _room_data(self, code: str) -> dict[str, Any]:
        """room.json of an open room; RoomError ``unknown`` or ``expired`` (then removed)."""
        data = self._read(self._dir(code) / "room.json")
        if data is None:
            raise RoomError("unknown", code=code)
        if data["expires"] <= self.clock():
            self._remove(code)
            raise RoomError("expired", code=code)
        return data

    def room(self, code: str) -> Room:
        """The room under a code as typed; RoomError if the code is malformed, unknown or its
        room has expired (an expired room's folder is removed on the spot)."""
        data = self._room_data(normalize_code(code))
        return Room(**{k: v for k, v in data.items() if k != "secret_sha256"})

    def _remove(self, code: str) -> None:
        shutil.rmtree(self._dir(code), ignore_errors=True)
        with self._cache_lock:
            for path in [p for p in self._cache if p.parent.name == code
                         or p.parent.parent.name == code]:
                self._cache.pop(path, None)

    def sweep(self) -> int:
        """Remove every expired room (and leftovers without a room.json); how many went."""
        gone = 0
        if not self.root.is_dir():
            return 0
        now = self.clock()
        for folder in self.root.iterdir():
            if not folder.is_dir() or not CODE_RE.fullmatch(folder.name):
                continue
            data = self._read(folder / "room.json")
            stale = data is None and now - folder.stat().st_mtime > 60  # a failed open
            if stale or (data is not None and data["expires"] <= now):
                self._remove(folder.name)
                gone += 1
        return gone

    def open_codes(self) -> list[str]:
        """Codes of the rooms open now."""
        if not self.root.is_dir():
            return []
        now = self.clock()
        codes = []
        for folder in sorted(self.root.iterdir()):
            if CODE_RE.fullmatch(folder.name):
                data = self._read(folder / "room.json")
                if data is not None and data["expires"] > now:
                    codes.append(folder.name)
        return codes

    def open(self, minutes: float) -> Opened:
        """A new room for ``minutes`` (one of ``limits.minutes``); RoomError
        ``too_many_rooms`` when the server's limit of open rooms is reached."""
        if minutes not in self.limits.minutes:
            raise RoomError("bad_duration", choices=self.limits.minutes)
        with self._locked(self.root / ".lock"):
            self.sweep()
            if len(self.open_codes()) >= self.limits.max_rooms:
                raise RoomError("too_many_rooms", limit=self.limits.max_rooms)
            while True:
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                if not self._dir(code).exists():
                    break
            secret = secrets.token_urlsafe(24)
            now = self.clock()
            room = Room(code=code, created=now, expires=now + 60.0 * minutes)
            (self._dir(code) / "members").mkdir(parents=True)
            (self._dir(code) / "drawings").mkdir()
            self._write(self._dir(code) / "room.json",
                        {**room.__dict__, "secret_sha256": _hash(secret)})
        return Opened(code, secret)

    def is_teacher(self, code: str, secret: str | None) -> bool:
        """Whether ``secret`` is the teacher's of the room (constant-time comparison)."""
        if not secret:
            return False
        data = self._room_data(normalize_code(code))
        return hmac.compare_digest(data["secret_sha256"], _hash(str(secret)))

    def _teacher_update(self, code: str, secret: str, change: Callable[[dict], None]) -> Room:
        code = normalize_code(code)
        if not self.is_teacher(code, secret):
            raise RoomError("not_teacher", code=code)
        with self._locked(self._dir(code) / ".lock"):
            data = dict(self._room_data(code))
            change(data)
            data["version"] = int(data["version"]) + 1
            self._write(self._dir(code) / "room.json", data)
        return Room(**{k: v for k, v in data.items() if k != "secret_sha256"})

    def publish(self, code: str, secret: str, page: str, params: Mapping[str, str]) -> Room:
        """The teacher's page and its settings (query text), for the students who follow."""
        params = {str(k): str(v) for k, v in params.items()}
        if len(json.dumps(params)) > MAX_PARAMS_CHARS:
            raise RoomError("bad_state")
        return self._teacher_update(code, secret, lambda d: d.update(page=page, params=params))

    def set_options(self, code: str, secret: str, **options: Any) -> Room:
        """The teacher's switches: ``task`` ({"page", "id"} or None), ``pace``, ``hide_names``,
        ``pinned`` (a snapshot from ``snapshot_of``, or None to unpin)."""
        allowed = {"task", "pace", "hide_names", "pinned"}
        if set(options) - allowed:
            raise RoomError("bad_state")
        return self._teacher_update(code, secret, lambda d: d.update(options))

    def close(self, code: str, secret: str) -> None:
        """The teacher ends the room: its folder and all its data are deleted."""
        code = normalize_code(code)
        if not self.is_teacher(code, secret):
            raise RoomError("not_teacher", code=code)
        self._remove(code)

    # ------------------------------------------------------------------ students
    def join(self, code: str, nickname: str) -> str:
        """A student joins; their member id. RoomError for a bad or unknown code, an expired
        or full room, a flood of joins, or a nickname that is empty, too long or taken."""
        code = normalize_code(code)
        nickname = clean_nickname(nickname)
        self._room_data(code)
        members_dir = self._dir(code) / "members"
        with self._locked(self._dir(code) / ".lock"):
            self._room_data(code)
            now = self.clock()
            log_path = self._dir(code) / "joins.json"
            recent = [t for t in (self._read(log_path) or []) if now - t < 60.0]
            if len(recent) >= self.limits.joins_per_minute:
                raise RoomError("flood", limit=self.limits.joins_per_minute)
            members = self.members(code)
            if len(members) >= self.limits.max_room_size:
                raise RoomError("full", limit=self.limits.max_room_size)
            taken = {m["nickname"].casefold() for m in members}
            if nickname.casefold() in taken:
                raise RoomError("nickname_taken", nickname=nickname)
            member = secrets.token_hex(8)
            self._write(members_dir / f"{member}.json",
                        {"id": member, "nickname": nickname, "joined": now, "seen": now,
                         "page": None, "reports": {}})
            self._write(log_path, [*recent, now])
        return member

    def member(self, code: str, member: str) -> dict[str, Any]:
        """One student's record; RoomError ``not_member`` if they left or never joined."""
        if not re.fullmatch(r"[0-9a-f]{16}", str(member)):
            raise RoomError("not_member")
        data = self._read(self._dir(normalize_code(code)) / "members" / f"{member}.json")
        if data is None:
            raise RoomError("not_member")
        return data

    def members(self, code: str) -> list[dict[str, Any]]:
        """Every student of the room, in the order they joined."""
        folder = self._dir(normalize_code(code)) / "members"
        try:
            names = [p for p in folder.iterdir() if p.suffix == ".json"
                     and not p.name.startswith(".")]
        except OSError:
            return []
        found = [m for m in (self._read(p) for p in names) if m is not None]
        return sorted(found, key=lambda m: (m["joined"], m["id"]))

    def leave(self, code: str, member: str) -> None:
        """A student leaves: their record and drawings go."""
        code = normalize_code(code)
        self.member(code, member)
        for path in (self._dir(code) / "members" / f"{member}.json",
                     self._dir(code) / "drawings" / f"{member}.json"):
            with contextlib.suppress(OSError):
                path.unlink()

    def report(self, code: str, member: str, page: str, task: str | None = None,
               solved: bool = False, detail: str = "", summary: Mapping[str, float] | None = None,
               params: Mapping[str, str] | None = None) -> None:
        """What a student's page shows now: the page, and for a task its check (solved or
        not, the check's text, the numbers the dashboard summarises, the settings). Each
        distinct attempt is kept (the last MAX_TRIES) for the dashboard's histograms."""
        self._room_data(normalize_code(code))
        data = dict(self.member(code, member))
        data["seen"] = self.clock()
        data["page"] = page
        data["params"] = {str(k): str(v)[:2000] for k, v in (params or {}).items()}
        if task is not None:
            key = f"{page}/{task}"
            reports = dict(data.get("reports", {}))
            old = reports.get(key, {})
            summary = {str(k): float(v) for k, v in (summary or {}).items()
                       if np.isfinite(float(v))}
            tries = list(old.get("tries", []))
            attempt = {"solved": bool(solved), **summary}
            if summary and (not tries or tries[-1] != attempt):
                tries = [*tries, attempt][-MAX_TRIES:]
            reports[key] = {
                "solved": bool(solved) or bool(old.get("solved")),  # once solved, it stays
                "now": bool(solved), "detail": str(detail)[:MAX_TEXT], "summary": summary,
                "params": {str(k): str(v)[:2000] for k, v in (params or {}).items()},
                "solved_at": old.get("solved_at") or (self.clock() if solved else None),
                "tries": tries}
            data["reports"] = reports
        self._write(self._dir(normalize_code(code)) / "members" / f"{member}.json", data)

    # ------------------------------------------------------------------ drawings
    def add_drawing(self, code: str, member: str, image: np.ndarray, predicted: int,
                    confidence: float, meant: int | None) -> int:
        """A drawing (28, 28) for the class gallery; how many the student has sent. RoomError
        ``drawings_full`` beyond the limit."""
        code = normalize_code(code)
        self._room_data(code)
        self.member(code, member)
        if not (0 <= int(predicted) <= 9) or (meant is not None and not 0 <= int(meant) <= 9):
            raise RoomError("bad_drawing")
        path = self._dir(code) / "drawings" / f"{member}.json"
        drawings = list(self._read(path) or [])
        if len(drawings) >= self.limits.max_drawings:
            raise RoomError("drawings_full", limit=self.limits.max_drawings)
        drawings.append({"t": self.clock(), "image": encode_image(image),
                         "predicted": int(predicted), "confidence": float(confidence),
                         "meant": None if meant is None else int(meant)})
        self._write(path, drawings)
        return len(drawings)

    def drawings(self, code: str) -> list[dict[str, Any]]:
        """Every drawing of the room, oldest first, each with its ``member`` and ``index``."""
        folder = self._dir(normalize_code(code)) / "drawings"
        try:
            paths = [p for p in folder.iterdir() if p.suffix == ".json"
                     and not p.name.startswith(".")]
        except OSError:
            return []
        out = []
        for path in paths:
            for i, d in enumerate(self._read(path) or []):
                out.append({**d, "member": path.stem, "index": i})
        return sorted(out, key=lambda d: (d["t"], d["member"], d["index"]))

    def snapshot_of(self, code: str, member: str, kind: str, index: int | None = None,
                    ) -> dict[str, Any]:
        """A snapshot to pin: a student's current page state (``kind="state"``) or one of
        their drawings (``kind="drawing"``, ``index``)."""
        data = self.member(code, member)
        snap: dict[str, Any] = {"kind": kind, "member": member, "nickname": data["nickname"]}
        if kind == "state":
            page = data.get("page")
            on_page = [(k, r) for k, r in data.get("reports", {}).items()
                       if k.split("/")[0] == page]
            snap.update(page=page, params=dict(data.get("params", {})),
                        detail=on_page[-1][1]["detail"] if on_page else "")
            return snap
        if kind == "drawing":
            path = self._dir(normalize_code(code)) / "drawings" / f"{member}.json"
            drawings = self._read(path) or []
            if index is None or not 0 <= index < len(drawings):
                raise RoomError("bad_drawing")
            snap.update(drawing=drawings[index])
            return snap
        raise RoomError("bad_state")


def confusion(drawings: list[Mapping[str, Any]]) -> np.ndarray:
    """The class's confusion matrix (10, 10): row = the digit meant, column = the digit read,
    over the drawings whose author said which digit they meant."""
    matrix = np.zeros((10, 10), dtype=np.int64)
    for d in drawings:
        if d.get("meant") is not None:
            matrix[int(d["meant"]), int(d["predicted"])] += 1
    return matrix
