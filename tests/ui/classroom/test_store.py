"""The live class's room store (ui.classroom.store): codes, secrets, limits, expiry, bad input,
and two stores on one folder behaving as two replicas of the app."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.support import ROOT
from ui.classroom.store import (
    CODE_ALPHABET,
    CODE_LENGTH,
    MAX_NICKNAME,
    Limits,
    RoomError,
    RoomStore,
    clean_nickname,
    confusion,
    decode_image,
    encode_image,
    normalize_code,
)


class Clock:
    """A settable clock, so expiry is tested without waiting."""

    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def kinds(exc: pytest.ExceptionInfo[RoomError]) -> str:
    return exc.value.kind


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rooms(tmp_path: Path, clock: Clock) -> RoomStore:
    return RoomStore(tmp_path / "rooms", Limits(max_rooms=3, max_room_size=4, max_drawings=2,
                                                joins_per_minute=6, minutes=(1.0, 45.0)), clock)


def test_a_code_is_short_and_unambiguous_and_the_secret_is_not_derived_from_it(
        rooms: RoomStore) -> None:
    opened = [rooms.open(45.0) for _ in range(3)]
    for room in opened:
        assert len(room.code) == CODE_LENGTH and set(room.code) <= set(CODE_ALPHABET)
        assert not set(room.code) & set("0O1IL5S2Z8B")
        assert len(room.secret) >= 32 and room.code not in room.secret
    assert len({r.code for r in opened}) == 3 and len({r.secret for r in opened}) == 3
    text = (rooms.root / opened[0].code / "room.json").read_text()
    assert opened[0].secret not in text  # only its hash is stored
    assert rooms.is_teacher(opened[0].code, opened[0].secret)
    assert not rooms.is_teacher(opened[0].code, opened[1].secret)
    assert not rooms.is_teacher(opened[0].code, opened[0].code)
    assert not rooms.is_teacher(opened[0].code, "")


def test_codes_are_read_as_typed_and_bad_or_unknown_codes_are_refused(rooms: RoomStore) -> None:
    code = rooms.open(45.0).code
    assert rooms.room(f" {code[:2].lower()}-{code[2:]} ").code == code
    for bad in ("", "AB", "ABCDEFG", "A0O1I", "<script>", "x" * 10_000):
        with pytest.raises(RoomError) as exc:
            rooms.room(bad)
        assert kinds(exc) == "bad_code"
    unknown = next(c * CODE_LENGTH for c in CODE_ALPHABET if c * CODE_LENGTH != code)
    with pytest.raises(RoomError) as exc:
        rooms.join(unknown, "Ann")
    assert kinds(exc) == "unknown"
    assert normalize_code(code.lower()) == code


def test_the_number_of_rooms_is_limited(rooms: RoomStore) -> None:
    for _ in range(3):
        rooms.open(45.0)
    with pytest.raises(RoomError) as exc:
        rooms.open(45.0)
    assert kinds(exc) == "too_many_rooms" and exc.value.fields["limit"] == 3
    with pytest.raises(RoomError) as exc:
        rooms.open(7.0)  # not a length the teacher is offered
    assert kinds(exc) == "bad_duration"


def test_a_room_expires_with_its_data_and_frees_its_place(rooms: RoomStore, clock: Clock) -> None:
    short, long = rooms.open(1.0), rooms.open(45.0)
    member = rooms.join(short.code, "Ann")
    rooms.add_drawing(short.code, member, np.zeros((28, 28)), 3, 0.9, 3)
    clock.t += 59
    assert rooms.room(short.code).remaining(clock.t) == pytest.approx(1.0)
    clock.t += 2
    with pytest.raises(RoomError) as exc:
        rooms.room(short.code)
    assert kinds(exc) == "expired"
    assert not (rooms.root / short.code).exists()  # its members and drawings went with it
    with pytest.raises(RoomError) as exc:
        rooms.join(short.code, "Bob")
    assert kinds(exc) == "unknown"
    assert rooms.open_codes() == [long.code]
    rooms.open(45.0), rooms.open(45.0)  # the expired room's place is free again


def test_closing_a_room_needs_the_teachers_secret_and_deletes_it(rooms: RoomStore) -> None:
    opened = rooms.open(45.0)
    rooms.join(opened.code, "Ann")
    for wrong in ("", "guess", opened.code):
        with pytest.raises(RoomError) as exc:
            rooms.close(opened.code, wrong)
        assert kinds(exc) == "not_teacher"
        with pytest.raises(RoomError):
            rooms.publish(opened.code, wrong, "forward", {"w1": "1"})
        with pytest.raises(RoomError):
            rooms.set_options(opened.code, wrong, pinned=None)
    assert rooms.room(opened.code).version == 0  # nothing a non-teacher tried changed it
    rooms.close(opened.code, opened.secret)
    assert not (rooms.root / opened.code).exists()


@pytest.mark.parametrize(("nickname", "kind"), [
    ("", "nickname_empty"), ("   \n\t ", "nickname_empty"), ("\u200b\u202e", "nickname_empty"),
    ("x" * 10_240, "nickname_long"), ("y" * (MAX_NICKNAME + 1), "nickname_long"),
])
def test_bad_nicknames_are_refused(rooms: RoomStore, nickname: str, kind: str) -> None:
    code = rooms.open(45.0).code
    with pytest.raises(RoomError) as exc:
        rooms.join(code, nickname)
    assert kinds(exc) == kind
    assert rooms.members(code) == []


def test_markdown_nicknames_are_kept_as_typed_and_names_are_unique(rooms: RoomStore) -> None:
    code = rooms.open(45.0).code
    member = rooms.join(code, "  **Bold** [x](http://e.x)  ")
    assert rooms.member(code, member)["nickname"] == "**Bold** [x](http://e.x)"
    assert clean_nickname("Ann\u202e\x00 Lee") == "Ann Lee"  # bidi and control chars go
    with pytest.raises(RoomError) as exc:
        rooms.join(code, "**bold** [X](http://e.x)")
    assert kinds(exc) == "nickname_taken"


def test_a_room_is_limited_in_size_and_a_flood_of_joins_is_stopped(
        rooms: RoomStore, clock: Clock) -> None:
    code = rooms.open(45.0).code
    members = [rooms.join(code, f"s{i}") for i in range(4)]
    with pytest.raises(RoomError) as exc:
        rooms.join(code, "fifth")
    assert kinds(exc) == "full" and exc.value.fields["limit"] == 4
    rooms.leave(code, members[0])
    rooms.join(code, "fifth")  # a place freed by a student who left
    for m in rooms.members(code)[:2]:
        rooms.leave(code, m["id"])
    rooms.join(code, "a")
    with pytest.raises(RoomError) as exc:  # 6 joins within a minute: the limit
        rooms.join(code, "b")
    assert kinds(exc) == "flood"
    assert len(rooms.members(code)) == 3  # the class already in the room is untouched
    clock.t += 61
    rooms.join(code, "b")


def test_drawings_per_student_are_limited_and_make_the_class_confusion(
        rooms: RoomStore, clock: Clock) -> None:
    code = rooms.open(45.0).code
    ann, bob = rooms.join(code, "Ann"), rooms.join(code, "Bob")
    image = np.zeros((28, 28))
    image[5:20, 13:15] = 1.0
    rooms.add_drawing(code, ann, image, 1, 0.97, 7)
    clock.t += 1
    rooms.add_drawing(code, ann, image, 7, 0.8, 7)
    with pytest.raises(RoomError) as exc:
        rooms.add_drawing(code, ann, image, 1, 0.5, 1)
    assert kinds(exc) == "drawings_full" and exc.value.fields["limit"] == 2
    clock.t += 1
    rooms.add_drawing(code, bob, image, 1, 0.6, None)
    for bad in (np.zeros((27, 28)), np.zeros((28, 28, 3))):
        with pytest.raises(RoomError):
            rooms.add_drawing(code, bob, bad, 1, 0.5, 1)
    with pytest.raises(RoomError):
        rooms.add_drawing(code, bob, image, 10, 0.5, 1)
    drawings = rooms.drawings(code)
    assert [(d["member"], d["predicted"], d["meant"]) for d in drawings] == [
        (ann, 1, 7), (ann, 7, 7), (bob, 1, None)]
    assert np.array_equal(decode_image(drawings[0]["image"]), encode_and_back(image))
    matrix = confusion(drawings)
    assert matrix[7, 1] == 1 and matrix[7, 7] == 1 and matrix.sum() == 2  # Bob meant nothing
    snap = rooms.snapshot_of(code, ann, "drawing", 0)
    assert snap["nickname"] == "Ann" and snap["drawing"]["predicted"] == 1
    with pytest.raises(RoomError):
        rooms.snapshot_of(code, ann, "drawing", 5)


def encode_and_back(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)


def test_images_round_trip_as_uint8() -> None:
    image = np.random.default_rng(0).random((28, 28))
    assert np.array_equal(decode_image(encode_image(image)), encode_and_back(image))
    raw = np.arange(784, dtype=np.uint16).reshape(28, 28).astype(np.uint8)
    assert np.array_equal(decode_image(encode_image(raw)), raw)


def test_reports_keep_the_attempts_and_solved_stays_solved(rooms: RoomStore) -> None:
    code = rooms.open(45.0).code
    ann = rooms.join(code, "Ann")
    rooms.report(code, ann, "descent", "diverge", False, "converges", {"lr": 0.1}, {"runs": "a"})
    rooms.report(code, ann, "descent", "diverge", True, "diverges", {"lr": 2.0}, {"runs": "b"})
    rooms.report(code, ann, "descent", "diverge", True, "diverges", {"lr": 2.0}, {"runs": "b"})
    rooms.report(code, ann, "descent", "diverge", False, "converges", {"lr": 0.5,
                                                                       "bad": float("nan")})
    report = rooms.member(code, ann)["reports"]["descent/diverge"]
    assert report["solved"] and not report["now"]
    assert report["tries"] == [{"solved": False, "lr": 0.1}, {"solved": True, "lr": 2.0},
                               {"solved": False, "lr": 0.5}]
    rooms.report(code, ann, "forward", None, params={"w1": "0.5"})
    member = rooms.member(code, ann)
    assert member["page"] == "forward" and set(member["reports"]) == {"descent/diverge"}
    with pytest.raises(RoomError):
        rooms.report(code, "0123456789abcdef", "forward")
    with pytest.raises(RoomError):
        rooms.member(code, "../../etc/passwd")


def test_the_teachers_moves_bump_the_version_and_change_the_stamp(rooms: RoomStore) -> None:
    opened = rooms.open(45.0)
    before = rooms.stamp(opened.code)
    room = rooms.publish(opened.code, opened.secret, "forward", {"w1": "0.5"})
    assert room.version == 1 and rooms.stamp(opened.code) != before
    room = rooms.set_options(opened.code, opened.secret, task={"page": "forward", "id": "target"},
                             pace=True, hide_names=True)
    assert (room.version, room.pace, room.hide_names) == (2, True, True)
    assert rooms.room(opened.code).task == {"page": "forward", "id": "target"}
    with pytest.raises(RoomError):
        rooms.set_options(opened.code, opened.secret, expires=10**12)  # not a teacher's switch
    with pytest.raises(RoomError):
        rooms.publish(opened.code, opened.secret, "forward", {"w1": "9" * 30_000})


def test_two_stores_on_one_folder_see_the_same_rooms(tmp_path: Path) -> None:
    """Two replicas: a room opened on one is joined on the other; the teacher's move on one
    reaches the other's cached reads at once."""
    one, two = RoomStore(tmp_path / "rooms"), RoomStore(tmp_path / "rooms")
    opened = one.open(one.limits.minutes[0])
    assert two.room(opened.code).version == 0  # read (and cached) on replica two
    member = two.join(opened.code, "Ann")
    assert [m["nickname"] for m in one.members(opened.code)] == ["Ann"]
    for i in range(1, 6):  # quick successive writes: each one seen (the cache keys on inode)
        one.publish(opened.code, opened.secret, "forward", {"w1": str(i)})
        assert two.room(opened.code).params == {"w1": str(i)}
    assert two.is_teacher(opened.code, opened.secret)
    two.report(opened.code, member, "forward", "target", True, "ok", {"w5": 1.0})
    assert one.member(opened.code, member)["reports"]["forward/target"]["solved"]
    one.close(opened.code, opened.secret)
    with pytest.raises(RoomError) as exc:
        two.room(opened.code)
    assert exc.value.kind == "unknown"


JOIN_MANY = """
import json, sys
sys.path.insert(0, sys.argv[1])
from ui.classroom.store import Limits, RoomError, RoomStore
rooms = RoomStore(sys.argv[2], Limits(max_room_size=10, joins_per_minute=1000))
out = []
for i in range(int(sys.argv[4]), int(sys.argv[4]) + 8):
    try:
        rooms.join(sys.argv[3], f"p{i}")
        out.append("ok")
    except RoomError as exc:
        out.append(exc.kind)
print(json.dumps(out))
"""


def test_joins_from_two_processes_respect_the_room_size(tmp_path: Path) -> None:
    """Replicas joining at once (two processes): the file lock keeps the room at its limit."""
    rooms = RoomStore(tmp_path / "rooms", Limits(max_room_size=10, joins_per_minute=1000))
    code = rooms.open(rooms.limits.minutes[0]).code
    procs = [subprocess.Popen([sys.executable, "-c", JOIN_MANY, str(ROOT), str(rooms.root),
                               code, str(start)], stdout=subprocess.PIPE, text=True)
             for start in (0, 100)]
    outcomes = [o for p in procs for o in json.loads(p.communicate(timeout=120)[0])]
    assert outcomes.count("ok") == 10 and outcomes.count("full") == 6
    assert len(rooms.members(code)) == 10
