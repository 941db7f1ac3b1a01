"""Each page run in Russian (``?lang=ru``, real Streamlit) shows no untranslated English.

Every text a student reads is collected from the page's elements: titles, Markdown, captions,
alerts, widget labels, help texts and option labels, metrics, table headers and cells, and the
plotly figures' titles, axes, legends, annotations and hover texts. A text is untranslated
English when it is a catalog msgid whose Russian differs, or when it holds a run of three or more
English words outside code, LaTeX and the names a Russian course uses as they are (Keras, Adam,
ReLU, MNIST, ...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from google.protobuf.json_format import MessageToDict
from streamlit.testing.v1 import AppTest

from tests.support import ROOT
from ui.common.i18n import DOMAIN, LOCALE_DIR

PAGES = ("forward_pass", "curves", "gradient_descent", "draw_digit", "convolution")
TIMEOUT = 120
# Names kept as they are in Russian text (Keras's and the course's own words).
NAMES = {
    "keras", "tensorflow", "numpy", "adam", "adamw", "adagrad", "adadelta", "rmsprop", "sgd",
    "nadam", "momentum", "nesterov", "relu", "mnist", "cifar", "dense", "conv", "flatten",
    "dropout", "sequential", "softmax", "sigmoid", "tanh", "mse", "mae", "lr", "float", "kernel",
    "lenet", "python", "plotly", "streamlit", "ok", "png", "csv", "json", "batchnorm", "maxpool",
    "avgpool", "argmax", "logits", "logit", "epochs", "max", "min", "log", "exp", "none", "true",
    "false", "model", "summary", "fit", "get", "weights", "set", "input", "shape", "units",
    "activation", "loss", "optimizer", "learning", "rate", "batch", "size", "use", "bias",
    "filters", "strides", "padding", "valid", "same", "pool", "layers", "np", "array",
}
TEXT_KEYS = {"body", "label", "help", "placeholder", "options", "delta", "caption", "text",
             "value", "defaultValue"}
SKIP_ELEMENTS = {"code", "imgs", "arrowDataFrame", "deckGlJsonChart", "json", "empty",
                 "pageLink", "vegaLiteChart"}
PLOTLY_TEXT_KEYS = {"text", "name", "hovertemplate", "hovertext", "title", "ticktext"}


def catalog() -> dict[str, str]:
    """msgid -> Russian, for the messages whose Russian differs from the English."""
    with (LOCALE_DIR / "ru" / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as fh:
        cat = read_po(fh)
    out = {}
    for m in cat:
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for msgid in ids:
            if msgid and msgid not in strings:
                out[msgid] = strings[0]
    return out


def strings(value: object, keys: set[str]) -> Iterator[str]:
    """Every string under one of ``keys`` in a nested dict/list (all strings below such a key)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k in keys:
                yield from all_strings(v)
            elif isinstance(v, dict | list):
                yield from strings(v, keys)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v, keys)


def all_strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from all_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from all_strings(v)


def page_texts(at: AppTest) -> list[str]:
    """What a student can read on the page (main area and sidebar), element by element."""
    texts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and not hasattr(node, "children"):
            data = MessageToDict(proto)
            kind = next(iter(data), "")
            if kind == "plotlyChart" or "spec" in data:
                spec = json.loads(data.get("spec") or data.get(kind, {}).get("spec", "{}"))
                texts.extend(strings(spec, PLOTLY_TEXT_KEYS))
            elif kind not in SKIP_ELEMENTS:
                texts.extend(strings(data, TEXT_KEYS))
        elif proto is not None:  # a block: expander labels, tab labels
            texts.extend(strings(MessageToDict(proto), {"label"}))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    for frame in [*at.dataframe, *at.table]:  # st.table: /forward's gradient table
        df = frame.value
        # A column's header is its column_config label when it has one (editable tables keep
        # stable English column names and show translated labels).
        config = json.loads(getattr(frame.proto, "columns", "") or "{}")  # st.table has none
        texts += [config.get(f"name:{c}", config.get(str(c), {})).get("label") or str(c)
                  for c in df.columns]
        texts += [v for col in df.columns for v in df[col].tolist() if isinstance(v, str)]
    return texts


CODE = re.compile(r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|<[^>]+>|%\{[^}]*\}|\\[A-Za-z]+",
                  re.DOTALL)
WORD_RUN = re.compile(r"(?<![\w.])(?:[A-Za-z]{2,}[ \t]+){2,}[A-Za-z]{2,}(?![\w(])")


def english_runs(text: str) -> list[str]:
    """Runs of 3+ English words (outside code and LaTeX) that are not all known names."""
    found = []
    for run in WORD_RUN.findall(CODE.sub(" ", text)):
        words = [w for w in run.split() if w.lower() not in NAMES]
        if len(words) >= 2 or (words and len(run.split()) >= 3 and len(words) == len(run.split())):
            found.append(run)
    return found


def untranslated(texts: list[str], english: dict[str, str]) -> list[str]:
    problems = []
    for text in texts:
        if text.strip() in english:
            problems.append(f"msgid shown in English: {text!r}")
        for run in english_runs(text):
            problems.append(f"English {run!r} in {text[:120]!r}")
    return sorted(set(problems))


def test_the_detector_finds_english_and_spares_names_code_and_latex() -> None:
    assert english_runs("The loss went up: try a smaller rate")
    assert english_runs("Ошибка выросла, see the chart above")
    assert not english_runs("Ошибка выросла при lr = 0.1: попробуйте Adam или SGD")
    assert not english_runs("`model.get_weights()` печатает их: ```python\nprint(the weights)```")
    assert not english_runs(r"$$\operatorname{mse}(t, Y) = the value$$ — значение")


@pytest.mark.parametrize("page", PAGES)
def test_page_in_russian_has_no_english_sentence(page: str, runs: Path) -> None:
    def russian_page() -> AppTest:
        at = AppTest.from_file(str(ROOT / "lessons" / f"{page}.py"), default_timeout=TIMEOUT)
        at.query_params["lang"] = "ru"
        return at

    # Every lazy expander open (the Keras code, the parameter tables, the teacher's panel):
    # every text a student can open. Opened from the first run, in a fresh session, because
    # AppTest formats a select box's value in the test's own language on a second run.
    sections = [e.key for e in russian_page().run().expander if e.key]
    at = russian_page()
    for key in sections:
        at.session_state[key] = True
    at.run()
    assert not at.exception
    texts = page_texts(at)
    assert len(texts) > 20  # the page was read, not an empty tree
    assert untranslated(texts, catalog()) == []
    assert any(re.search("[а-яё]{4,}", t) for t in at.title[0].value.lower().split())
