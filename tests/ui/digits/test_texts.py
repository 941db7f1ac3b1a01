"""The digit page's texts in both languages: the UI's own wording of nn_core's messages says the
same as nn_core in English, and network titles are translated where they are shown."""

from __future__ import annotations

import pytest

from nn_core.cnn.presets import PRESETS, custom_spec
from nn_core.training.jobs import (
    NetworkTooLarge,
    RegistryBusy,
    TrainingTooLong,
    duration_text,
)
from ui.common.i18n import translations
from ui.digits import state as digit_state
from ui.digits import training


@pytest.mark.parametrize("seconds", [0.4, 1, 3, 59.9, 60, 61, 90, 900, 3600, 5400.5])
def test_durations_read_as_nn_cores_in_english(seconds: float) -> None:
    assert training.duration_words(seconds) == duration_text(seconds)


@pytest.mark.parametrize("exc", [RegistryBusy(1), RegistryBusy(7), NetworkTooLarge(123_456, 50_000),
                                 TrainingTooLong(4000, 900)])
def test_refusals_read_as_nn_cores_in_english(exc: Exception) -> None:
    """The page words a refusal itself (so it can translate it); in English it is nn_core's."""
    assert training.refused_text(exc) == str(exc)


def test_course_networks_titles_are_translated_and_others_kept(monkeypatch) -> None:
    monkeypatch.setattr(digit_state, "_", translations("ru").gettext)
    for spec in PRESETS.values():
        title = digit_state.spec_title(spec)
        assert title != spec.title and title == translations("ru").gettext(spec.title)
    custom = custom_spec(conv_filters=(16, 32), kernel_size=5, pooling="avg", dense_units=64,
                         dropout_rate=0.25)
    title = digit_state.spec_title(custom)
    assert title.startswith("Своя свёрточная сеть: conv 16-32 (5×5, пулинг по среднему)")
    assert title.endswith("dense 64, dropout 0.25")
    renamed = PRESETS["lenet"].__class__(**{**PRESETS["lenet"].__dict__,
                                            "title": "A run's own title"})
    assert digit_state.spec_title(renamed) == "A run's own title"


def test_custom_titles_in_english_are_rebuilt_identically() -> None:
    for pooling in ("max", "avg", "none"):
        spec = custom_spec(conv_filters=(8,), pooling=pooling, dense_units=0, dropout_rate=0)
        assert digit_state.spec_title(spec) == spec.title


@pytest.mark.parametrize("args", [("queued", 0, 5), ("running", 0, 5), ("running", 3, 5),
                                  ("queued", 0, 5, "stopped"), ("running", 2, 12, "stopped"),
                                  ("running", 0, 2, "stopped")])
def test_interrupted_messages_are_recognised_and_translated(args: tuple, monkeypatch) -> None:
    from nn_core.training import jobs

    english = jobs._interrupted_text(*args)
    assert training.interrupted_text(english) == english  # English: nn_core's own words
    monkeypatch.setattr(training, "_", translations("ru").gettext)
    russian = training.interrupted_text(english)
    assert russian != english and "Сервер" in russian
    if args[1]:
        assert f"{args[1]} из {args[2]}" in russian
    assert training.interrupted_text("Worker crashed") == "Worker crashed"


FAILURE_VALUES = {
    "run_folder": {"folder": "/srv/runs/cnn_1000", "reason": "Not a directory"},
    "start": {"reason": "OSError: [Errno 12] Cannot allocate memory"},
    "exit": {"code": -9},
    "time_limit": {"limit": duration_text(900)},
    "memory": {"detail": "ResourceExhaustedError: OOM when allocating tensor"},
}


@pytest.mark.parametrize("kind", sorted(FAILURE_VALUES))
def test_failure_messages_are_recognised_and_translated(kind: str, monkeypatch) -> None:
    from nn_core.training.failures import FAILURES, failure

    assert set(FAILURE_VALUES) == set(FAILURES) == set(training.FAILURE_TEXTS)
    english = failure(kind, **FAILURE_VALUES[kind])
    assert training.failure_text(english) == english  # English: nn_core's own words
    monkeypatch.setattr(training, "_", translations("ru").gettext)
    monkeypatch.setattr(training, "ngettext", translations("ru").ngettext)
    russian = training.failure_text(english)
    assert russian != english
    for value in FAILURE_VALUES[kind].values():  # the technical part stays as it was
        if kind == "time_limit":
            assert "15 минут" in russian
        else:
            assert str(value) in russian
    assert training.failure_text("ValueError: bad input") == "ValueError: bad input"


def test_the_worker_and_the_registry_write_the_failures_they_declare() -> None:
    """nn_core's messages come from nn_core.training.failures, so the page recognises them."""
    from nn_core.training import worker

    line = worker._error_line(MemoryError("no room"))
    assert training.failure_text(line) == line
    assert training._FAILURE_PATTERNS["memory"].fullmatch(line)
