"""The Keras code downloads: the notebook is valid nbformat 4 and holds exactly the page's
script, and that script (the .py download, byte for byte) runs and prints Keras's numbers."""

from __future__ import annotations

import nbformat
import pytest

from nn_core import course
from nn_core.basics.keras_code import forward_script, training_step_script
from nn_core.basics.network import Network
from tests.support import run_script
from ui.common.downloads import code_downloads, notebook


def forward_code() -> str:
    """The forward page's script for the lesson's network, as the page shows and downloads it."""
    net = Network(course.FORWARD_WEIGHTS, course.FORWARD_INPUTS)
    return forward_script(net) + training_step_script("mse", 0.34, 0.001)


def test_notebook_validates_and_holds_the_script_exactly() -> None:
    code = forward_code()
    text = notebook(code, "Forward pass of a 2-2-1 network")
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)  # raises ValidationError on a bad notebook
    assert [cell.cell_type for cell in nb.cells] == ["markdown", "code"]
    assert nb.cells[0].source == "# Forward pass of a 2-2-1 network"
    assert nb.cells[1].source == code
    assert nb.metadata.kernelspec.name == "python3"


def test_the_downloaded_script_runs_and_prints_the_lessons_y() -> None:
    out = run_script(forward_code())
    y = float(next(line for line in out.splitlines() if line.startswith("Y = "))[4:])
    expected = Network(course.FORWARD_WEIGHTS, course.FORWARD_INPUTS).forward().y
    assert y == pytest.approx(float(expected), abs=1e-6), out  # Keras's float32 Y
    assert round(y, 4) == 1.8263  # lesson 002's worked example


def test_a_bad_file_name_is_refused() -> None:
    with pytest.raises(ValueError, match="file name"):
        code_downloads("print(1)", "../etc/passwd", "t", key="k")
